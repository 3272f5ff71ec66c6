-- Writes in one statement (README, "Scaling out"). On a libSQL server every statement is a
-- round trip, and a transaction holds the server's write lock between its round trips: an
-- instance that dies inside one holds every other instance's writes until the server takes
-- the lock back (5 s). So the users, voicemails, agents, queues, webhooks, campaigns,
-- recordings and their audio are written by one statement each, in a transaction of its own
-- (components/common/src/db.rs, `Db::write`), their checks read before it; what follows from
-- a change lives here, where that statement sets it off; so do the rules a unique key cannot
-- say, which the components check first and the statement checks again (`RAISE(ABORT,
-- 'refused: <code>')`, answered as the check is).

-- The 2013 campaign rules: a campaign's start is not after its end, and two campaigns of one
-- queue do not overlap (touching is allowed).
CREATE TRIGGER recording_campaigns_checked_on_insert BEFORE INSERT ON recording_campaigns
BEGIN
    SELECT RAISE(ABORT, 'refused: start_greater_than_end') WHERE NEW.start_date > NEW.end_date;
    SELECT RAISE(ABORT, 'refused: concurrent_campaigns') WHERE EXISTS (
        SELECT 1 FROM recording_campaigns WHERE queue_id = NEW.queue_id
        AND start_date < NEW.end_date AND end_date > NEW.start_date);
END;

CREATE TRIGGER recording_campaigns_checked_on_update
BEFORE UPDATE OF queue_id, start_date, end_date ON recording_campaigns
BEGIN
    SELECT RAISE(ABORT, 'refused: start_greater_than_end') WHERE NEW.start_date > NEW.end_date;
    SELECT RAISE(ABORT, 'refused: concurrent_campaigns') WHERE EXISTS (
        SELECT 1 FROM recording_campaigns WHERE queue_id = NEW.queue_id AND id != NEW.id
        AND start_date < NEW.end_date AND end_date > NEW.start_date);
END;

-- A change of an agent's number changes what its recordings show (their `agent_no`).
CREATE TRIGGER agents_renumbered AFTER UPDATE OF number ON agents
WHEN OLD.number IS NOT NEW.number
BEGIN
    UPDATE recordings SET version = version + 1 WHERE agent_id = NEW.id;
END;

-- A deleted agent leaves its users (the foreign key would set `agentid` NULL, without a new
-- version).
CREATE TRIGGER agents_deleted BEFORE DELETE ON agents BEGIN
    UPDATE users SET agentid = NULL, version = version + 1 WHERE agentid = OLD.id;
END;

-- A campaign shows its queue's name, display name and number.
CREATE TRIGGER queues_shown_changed AFTER UPDATE OF name, displayname, number ON queues
WHEN OLD.name IS NOT NEW.name OR OLD.displayname IS NOT NEW.displayname
    OR OLD.number IS NOT NEW.number
BEGIN
    UPDATE recording_campaigns SET version = version + 1 WHERE queue_id = NEW.id;
END;

-- A deleted queue leaves its campaigns.
CREATE TRIGGER queues_deleted BEFORE DELETE ON queues BEGIN
    UPDATE recording_campaigns SET queue_id = NULL, version = version + 1 WHERE queue_id = OLD.id;
END;

-- What a user's one statement asks of the rows beside it, read by the triggers below and
-- cleared by them: the user's line (`set_line`: its number, or '' for none), the voicemail's
-- name to follow the user's (`rename_voicemail`), and the user's deletion together with its
-- voicemail, unless another user has that one (`delete_with_voicemail`). The API never shows
-- them.
ALTER TABLE users ADD COLUMN set_line TEXT;
ALTER TABLE users ADD COLUMN rename_voicemail INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN delete_with_voicemail INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER users_line_created AFTER INSERT ON users
WHEN NEW.set_line IS NOT NULL
BEGIN
    INSERT INTO lines (user_id, number) SELECT NEW.id, NEW.set_line WHERE NEW.set_line != '';
    UPDATE users SET set_line = NULL WHERE id = NEW.id;
END;

-- The user's first line is its line; the version grows when it changes (the line is part
-- of the user as shown).
CREATE TRIGGER users_line_set AFTER UPDATE OF set_line ON users
WHEN NEW.set_line IS NOT NULL
BEGIN
    UPDATE users SET set_line = NULL, version = version + (
        NEW.set_line IS NOT COALESCE(
            (SELECT number FROM lines WHERE user_id = NEW.id ORDER BY id LIMIT 1), ''))
        WHERE id = NEW.id;
    DELETE FROM lines WHERE user_id = NEW.id AND NEW.set_line = '';
    UPDATE lines SET number = NEW.set_line
        WHERE NEW.set_line != ''
        AND id = (SELECT id FROM lines WHERE user_id = NEW.id ORDER BY id LIMIT 1);
    INSERT INTO lines (user_id, number) SELECT NEW.id, NEW.set_line
        WHERE NEW.set_line != '' AND NOT EXISTS (SELECT 1 FROM lines WHERE user_id = NEW.id);
END;

CREATE TRIGGER users_voicemail_renamed AFTER UPDATE OF rename_voicemail ON users
WHEN NEW.rename_voicemail = 1
BEGIN
    UPDATE voicemails SET fullname = NEW.firstname || ' ' || NEW.lastname, version = version + 1
        WHERE id = NEW.voicemailid AND fullname IS NOT NEW.firstname || ' ' || NEW.lastname;
    UPDATE users SET rename_voicemail = 0 WHERE id = NEW.id;
END;

CREATE TRIGGER users_deleted_with_voicemail AFTER UPDATE OF delete_with_voicemail ON users
WHEN NEW.delete_with_voicemail = 1
BEGIN
    DELETE FROM users WHERE id = NEW.id;
    DELETE FROM voicemails WHERE id = NEW.voicemailid
        AND NOT EXISTS (SELECT 1 FROM users WHERE voicemailid = NEW.voicemailid);
END;

-- A recording's audio let go, when the recording is deleted or its audio replaced or removed:
-- a leftovers row, whose chunks the request removes after its statement (or a later request,
-- if that fails; components/campaigns/src/audio.rs). A new audio's chunks were written under
-- a leftovers row of their own (so that a crash leaves them found): set in place, they are
-- no longer leftovers. How many chunks: NULL for an audio from before its chunk size was
-- kept (the removal then counts them).
CREATE TRIGGER recordings_audio_let_go AFTER DELETE ON recordings
WHEN OLD.audio_generation IS NOT NULL
BEGIN
    INSERT OR REPLACE INTO audio_leftovers (generation, cid, chunks)
    VALUES (OLD.audio_generation, OLD.cid,
            (OLD.audio_bytes + OLD.audio_chunk_bytes - 1) / OLD.audio_chunk_bytes);
END;

CREATE TRIGGER recordings_audio_switched AFTER UPDATE OF audio_generation ON recordings
WHEN OLD.audio_generation IS NOT NEW.audio_generation
BEGIN
    INSERT OR REPLACE INTO audio_leftovers (generation, cid, chunks)
    SELECT OLD.audio_generation, OLD.cid,
           (OLD.audio_bytes + OLD.audio_chunk_bytes - 1) / OLD.audio_chunk_bytes
    WHERE OLD.audio_generation IS NOT NULL;
    DELETE FROM audio_leftovers WHERE generation = NEW.audio_generation;
END;

-- A webhook delivery is kept with its first attempt, in one statement: the attempt rides in
-- `first_attempt` (JSON: at, status, error, duration_ms; components/common/src/events.rs).
ALTER TABLE webhook_deliveries ADD COLUMN first_attempt TEXT;

CREATE TRIGGER webhook_deliveries_first_attempt AFTER INSERT ON webhook_deliveries
WHEN NEW.first_attempt IS NOT NULL
BEGIN
    INSERT INTO webhook_attempts (webhook_id, delivery_id, at, status, error, duration_ms)
    VALUES (NEW.webhook_id, NEW.id, json_extract(NEW.first_attempt, '$.at'),
            json_extract(NEW.first_attempt, '$.status'),
            json_extract(NEW.first_attempt, '$.error'),
            json_extract(NEW.first_attempt, '$.duration_ms'));
    UPDATE webhook_deliveries SET first_attempt = NULL
        WHERE webhook_id = NEW.webhook_id AND id = NEW.id;
END;
