-- Webhooks (README, "Change events: webhooks"): subscriptions, and the latest deliveries to
-- each with every attempt's outcome.

CREATE TABLE webhooks (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    url     TEXT    NOT NULL,
    -- A JSON list of event names, or ["*"].
    events  TEXT    NOT NULL DEFAULT '["*"]',
    -- Signs each delivery (HMAC-SHA256); never shown.
    secret  TEXT    NOT NULL DEFAULT '',
    active  INTEGER NOT NULL DEFAULT 1,
    version INTEGER NOT NULL DEFAULT 1
);

-- One event sent to one subscription: the body as sent, so that it can be sent again.
CREATE TABLE webhook_deliveries (
    webhook_id INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    id         TEXT    NOT NULL,
    event      TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    PRIMARY KEY (webhook_id, id)
);

CREATE TABLE webhook_attempts (
    webhook_id  INTEGER NOT NULL,
    delivery_id TEXT    NOT NULL,
    at          TEXT    NOT NULL,
    -- The receiver's status, or NULL when there was none (then `error` says why).
    status      INTEGER,
    error       TEXT,
    duration_ms REAL    NOT NULL,
    FOREIGN KEY (webhook_id, delivery_id)
        REFERENCES webhook_deliveries (webhook_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (webhook_id, delivery_id);
