-- Writes in one statement (README, "Scaling out"). On a libSQL server every statement is a
-- round trip, and a transaction holds the server's write lock between its round trips: an
-- instance that dies inside one holds every other instance's writes until the server takes
-- the lock back (5 s). So the users, voicemails, agents and queues are written by one
-- statement each (components/common/src/resource.rs), and what follows from a change lives
-- here, where that statement sets it off.

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
