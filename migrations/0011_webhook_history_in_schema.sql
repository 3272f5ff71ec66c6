-- A subscription keeps its latest 50 deliveries (README, "Change events: webhooks"). The
-- deliveries of one event are recorded in one statement (components/common/src/events.rs),
-- and what falls out of a history goes with it, here, rather than by a write of its own.
CREATE TRIGGER webhook_deliveries_history AFTER INSERT ON webhook_deliveries
BEGIN
    DELETE FROM webhook_deliveries
    WHERE webhook_id = NEW.webhook_id AND rowid NOT IN (
        SELECT rowid FROM webhook_deliveries WHERE webhook_id = NEW.webhook_id
        ORDER BY rowid DESC LIMIT 50
    );
END;
