-- How many recordings each campaign has, per agent and per day of `start_time` ('' for none),
-- kept exact by triggers in the transaction of every insert, update and delete (README,
-- "Recordings at scale"): a page's `total`, and where a deep page starts, then cost a few
-- rows instead of every match.

CREATE TABLE recording_agent_counts (
    campaign_id INTEGER NOT NULL,
    agent_id    INTEGER NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, agent_id)
) WITHOUT ROWID;

CREATE TABLE recording_day_counts (
    campaign_id INTEGER NOT NULL,
    day         TEXT    NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, day)
) WITHOUT ROWID;

INSERT INTO recording_agent_counts (campaign_id, agent_id, n)
SELECT campaign_id, agent_id, COUNT(*) FROM recordings GROUP BY campaign_id, agent_id;

INSERT INTO recording_day_counts (campaign_id, day, n)
SELECT campaign_id, COALESCE(substr(start_time, 1, 10), ''), COUNT(*) FROM recordings
GROUP BY campaign_id, COALESCE(substr(start_time, 1, 10), '');

CREATE TRIGGER recordings_counted AFTER INSERT ON recordings BEGIN
    INSERT OR IGNORE INTO recording_agent_counts VALUES (NEW.campaign_id, NEW.agent_id, 0);
    UPDATE recording_agent_counts SET n = n + 1
        WHERE campaign_id = NEW.campaign_id AND agent_id = NEW.agent_id;
    INSERT OR IGNORE INTO recording_day_counts
        VALUES (NEW.campaign_id, COALESCE(substr(NEW.start_time, 1, 10), ''), 0);
    UPDATE recording_day_counts SET n = n + 1
        WHERE campaign_id = NEW.campaign_id AND day = COALESCE(substr(NEW.start_time, 1, 10), '');
END;

CREATE TRIGGER recordings_uncounted AFTER DELETE ON recordings BEGIN
    UPDATE recording_agent_counts SET n = n - 1
        WHERE campaign_id = OLD.campaign_id AND agent_id = OLD.agent_id;
    DELETE FROM recording_agent_counts
        WHERE campaign_id = OLD.campaign_id AND agent_id = OLD.agent_id AND n = 0;
    UPDATE recording_day_counts SET n = n - 1
        WHERE campaign_id = OLD.campaign_id AND day = COALESCE(substr(OLD.start_time, 1, 10), '');
    DELETE FROM recording_day_counts
        WHERE campaign_id = OLD.campaign_id AND day = COALESCE(substr(OLD.start_time, 1, 10), '')
        AND n = 0;
END;

CREATE TRIGGER recordings_recounted AFTER UPDATE OF campaign_id, agent_id, start_time ON recordings
BEGIN
    UPDATE recording_agent_counts SET n = n - 1
        WHERE campaign_id = OLD.campaign_id AND agent_id = OLD.agent_id;
    DELETE FROM recording_agent_counts
        WHERE campaign_id = OLD.campaign_id AND agent_id = OLD.agent_id AND n = 0;
    UPDATE recording_day_counts SET n = n - 1
        WHERE campaign_id = OLD.campaign_id AND day = COALESCE(substr(OLD.start_time, 1, 10), '');
    DELETE FROM recording_day_counts
        WHERE campaign_id = OLD.campaign_id AND day = COALESCE(substr(OLD.start_time, 1, 10), '')
        AND n = 0;
    INSERT OR IGNORE INTO recording_agent_counts VALUES (NEW.campaign_id, NEW.agent_id, 0);
    UPDATE recording_agent_counts SET n = n + 1
        WHERE campaign_id = NEW.campaign_id AND agent_id = NEW.agent_id;
    INSERT OR IGNORE INTO recording_day_counts
        VALUES (NEW.campaign_id, COALESCE(substr(NEW.start_time, 1, 10), ''), 0);
    UPDATE recording_day_counts SET n = n + 1
        WHERE campaign_id = NEW.campaign_id AND day = COALESCE(substr(NEW.start_time, 1, 10), '');
END;
