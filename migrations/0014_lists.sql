-- Lists searched, ordered and filtered (issue 26; components/common/src/listing.rs).
--
-- Search: each family's human columns, as one text (`<table>_search_text`, declared once
-- here), in an FTS5 table of trigrams (`<table>_search`, rowid = the row's id). The trigram
-- tokenizer folds case and, with `remove_diacritics 1`, accents, the same way when it indexes
-- and when it is asked, so `search=helene` finds Hélène and `search=HÉL` too. It needs
-- SQLite 3.45 or later: Spin 4.0.2, sqld 0.24.33 and the test host have it (checked). Triggers keep
-- the index with the rows: each rewrites a row's text whole (delete, then insert from the
-- view), so that triggers firing in either order leave the same index. Fields are separated by
-- line feeds, so a search does not run from one field into the next (but both names run
-- into each other, in both orders: `jean dupont` and `dupont jean` both match).

CREATE VIEW users_search_text AS
SELECT u.id, u.firstname || ' ' || u.lastname || char(10) || u.lastname || ' ' || u.firstname
        || char(10) || COALESCE((SELECT l.number FROM lines l WHERE l.user_id = u.id
                                 ORDER BY l.id LIMIT 1), '')
        || char(10) || u.username || char(10) || u.callerid || char(10) || u.outcallerid
        || char(10) || u.mobilephonenumber
        || char(10) || COALESCE((SELECT v.email FROM voicemails v WHERE v.id = u.voicemailid), '')
        || char(10) || u.description AS doc
FROM users u;

CREATE VIRTUAL TABLE users_search USING fts5(doc, tokenize = 'trigram remove_diacritics 1');

INSERT INTO users_search (rowid, doc) SELECT id, doc FROM users_search_text;

CREATE TRIGGER users_searched_insert AFTER INSERT ON users BEGIN
    DELETE FROM users_search WHERE rowid = NEW.id;
    INSERT INTO users_search (rowid, doc) SELECT id, doc FROM users_search_text WHERE id = NEW.id;
END;

CREATE TRIGGER users_searched_update AFTER UPDATE OF firstname, lastname, username, callerid,
    outcallerid, mobilephonenumber, description, voicemailid ON users BEGIN
    DELETE FROM users_search WHERE rowid = NEW.id;
    INSERT INTO users_search (rowid, doc) SELECT id, doc FROM users_search_text WHERE id = NEW.id;
END;

CREATE TRIGGER users_searched_delete AFTER DELETE ON users BEGIN
    DELETE FROM users_search WHERE rowid = OLD.id;
END;

-- A user's text holds its first line's number.
CREATE TRIGGER lines_searched_insert AFTER INSERT ON lines BEGIN
    DELETE FROM users_search WHERE rowid = NEW.user_id;
    INSERT INTO users_search (rowid, doc) SELECT id, doc FROM users_search_text WHERE id = NEW.user_id;
END;

CREATE TRIGGER lines_searched_update AFTER UPDATE ON lines BEGIN
    DELETE FROM users_search WHERE rowid = NEW.user_id;
    INSERT INTO users_search (rowid, doc) SELECT id, doc FROM users_search_text WHERE id = NEW.user_id;
END;

CREATE TRIGGER lines_searched_delete AFTER DELETE ON lines BEGIN
    DELETE FROM users_search WHERE rowid = OLD.user_id;
    INSERT INTO users_search (rowid, doc) SELECT id, doc FROM users_search_text WHERE id = OLD.user_id;
END;

-- ... and its voicemail's email.
CREATE TRIGGER voicemails_email_searched AFTER UPDATE OF email ON voicemails BEGIN
    DELETE FROM users_search WHERE rowid IN (SELECT id FROM users WHERE voicemailid = NEW.id);
    INSERT INTO users_search (rowid, doc)
        SELECT id, doc FROM users_search_text
        WHERE id IN (SELECT id FROM users WHERE voicemailid = NEW.id);
END;

CREATE VIEW voicemails_search_text AS
SELECT v.id, v.fullname || char(10) || v.mailbox || char(10) || COALESCE(v.email, '') AS doc
FROM voicemails v;

CREATE VIRTUAL TABLE voicemails_search USING fts5(doc, tokenize = 'trigram remove_diacritics 1');

INSERT INTO voicemails_search (rowid, doc) SELECT id, doc FROM voicemails_search_text;

CREATE TRIGGER voicemails_searched_insert AFTER INSERT ON voicemails BEGIN
    DELETE FROM voicemails_search WHERE rowid = NEW.id;
    INSERT INTO voicemails_search (rowid, doc) SELECT id, doc FROM voicemails_search_text WHERE id = NEW.id;
END;

CREATE TRIGGER voicemails_searched_update AFTER UPDATE OF fullname, mailbox, email ON voicemails BEGIN
    DELETE FROM voicemails_search WHERE rowid = NEW.id;
    INSERT INTO voicemails_search (rowid, doc) SELECT id, doc FROM voicemails_search_text WHERE id = NEW.id;
END;

CREATE TRIGGER voicemails_searched_delete AFTER DELETE ON voicemails BEGIN
    DELETE FROM voicemails_search WHERE rowid = OLD.id;
END;

CREATE VIEW agents_search_text AS
SELECT a.id, a.firstname || ' ' || a.lastname || char(10) || a.lastname || ' ' || a.firstname
        || char(10) || a.number || char(10) || a.context || char(10) || a.description AS doc
FROM agents a;

CREATE VIRTUAL TABLE agents_search USING fts5(doc, tokenize = 'trigram remove_diacritics 1');

INSERT INTO agents_search (rowid, doc) SELECT id, doc FROM agents_search_text;

CREATE TRIGGER agents_searched_insert AFTER INSERT ON agents BEGIN
    DELETE FROM agents_search WHERE rowid = NEW.id;
    INSERT INTO agents_search (rowid, doc) SELECT id, doc FROM agents_search_text WHERE id = NEW.id;
END;

CREATE TRIGGER agents_searched_update AFTER UPDATE OF firstname, lastname, number, context, description ON agents BEGIN
    DELETE FROM agents_search WHERE rowid = NEW.id;
    INSERT INTO agents_search (rowid, doc) SELECT id, doc FROM agents_search_text WHERE id = NEW.id;
END;

CREATE TRIGGER agents_searched_delete AFTER DELETE ON agents BEGIN
    DELETE FROM agents_search WHERE rowid = OLD.id;
END;

CREATE VIEW queues_search_text AS
SELECT q.id, q.name || char(10) || q.displayname || char(10) || q.number || char(10) || q.context AS doc
FROM queues q;

CREATE VIRTUAL TABLE queues_search USING fts5(doc, tokenize = 'trigram remove_diacritics 1');

INSERT INTO queues_search (rowid, doc) SELECT id, doc FROM queues_search_text;

CREATE TRIGGER queues_searched_insert AFTER INSERT ON queues BEGIN
    DELETE FROM queues_search WHERE rowid = NEW.id;
    INSERT INTO queues_search (rowid, doc) SELECT id, doc FROM queues_search_text WHERE id = NEW.id;
END;

CREATE TRIGGER queues_searched_update AFTER UPDATE OF name, displayname, number, context ON queues BEGIN
    DELETE FROM queues_search WHERE rowid = NEW.id;
    INSERT INTO queues_search (rowid, doc) SELECT id, doc FROM queues_search_text WHERE id = NEW.id;
END;

CREATE TRIGGER queues_searched_delete AFTER DELETE ON queues BEGIN
    DELETE FROM queues_search WHERE rowid = OLD.id;
END;

CREATE VIEW recording_campaigns_search_text AS
SELECT c.id, c.campaign_name || char(10) || c.base_filename AS doc
FROM recording_campaigns c;

CREATE VIRTUAL TABLE recording_campaigns_search USING fts5(doc, tokenize = 'trigram remove_diacritics 1');

INSERT INTO recording_campaigns_search (rowid, doc) SELECT id, doc FROM recording_campaigns_search_text;

CREATE TRIGGER recording_campaigns_searched_insert AFTER INSERT ON recording_campaigns BEGIN
    DELETE FROM recording_campaigns_search WHERE rowid = NEW.id;
    INSERT INTO recording_campaigns_search (rowid, doc) SELECT id, doc FROM recording_campaigns_search_text WHERE id = NEW.id;
END;

CREATE TRIGGER recording_campaigns_searched_update AFTER UPDATE OF campaign_name, base_filename ON recording_campaigns BEGIN
    DELETE FROM recording_campaigns_search WHERE rowid = NEW.id;
    INSERT INTO recording_campaigns_search (rowid, doc) SELECT id, doc FROM recording_campaigns_search_text WHERE id = NEW.id;
END;

CREATE TRIGGER recording_campaigns_searched_delete AFTER DELETE ON recording_campaigns BEGIN
    DELETE FROM recording_campaigns_search WHERE rowid = OLD.id;
END;

CREATE VIEW webhooks_search_text AS
SELECT w.id, w.url AS doc
FROM webhooks w;

CREATE VIRTUAL TABLE webhooks_search USING fts5(doc, tokenize = 'trigram remove_diacritics 1');

INSERT INTO webhooks_search (rowid, doc) SELECT id, doc FROM webhooks_search_text;

CREATE TRIGGER webhooks_searched_insert AFTER INSERT ON webhooks BEGIN
    DELETE FROM webhooks_search WHERE rowid = NEW.id;
    INSERT INTO webhooks_search (rowid, doc) SELECT id, doc FROM webhooks_search_text WHERE id = NEW.id;
END;

CREATE TRIGGER webhooks_searched_update AFTER UPDATE OF url ON webhooks BEGIN
    DELETE FROM webhooks_search WHERE rowid = NEW.id;
    INSERT INTO webhooks_search (rowid, doc) SELECT id, doc FROM webhooks_search_text WHERE id = NEW.id;
END;

CREATE TRIGGER webhooks_searched_delete AFTER DELETE ON webhooks BEGIN
    DELETE FROM webhooks_search WHERE rowid = OLD.id;
END;

CREATE VIEW api_tokens_search_text AS
SELECT t.id, t.name AS doc
FROM api_tokens t;

CREATE VIRTUAL TABLE api_tokens_search USING fts5(doc, tokenize = 'trigram remove_diacritics 1');

INSERT INTO api_tokens_search (rowid, doc) SELECT id, doc FROM api_tokens_search_text;

CREATE TRIGGER api_tokens_searched_insert AFTER INSERT ON api_tokens BEGIN
    DELETE FROM api_tokens_search WHERE rowid = NEW.id;
    INSERT INTO api_tokens_search (rowid, doc) SELECT id, doc FROM api_tokens_search_text WHERE id = NEW.id;
END;

CREATE TRIGGER api_tokens_searched_update AFTER UPDATE OF name ON api_tokens BEGIN
    DELETE FROM api_tokens_search WHERE rowid = NEW.id;
    INSERT INTO api_tokens_search (rowid, doc) SELECT id, doc FROM api_tokens_search_text WHERE id = NEW.id;
END;

CREATE TRIGGER api_tokens_searched_delete AFTER DELETE ON api_tokens BEGIN
    DELETE FROM api_tokens_search WHERE rowid = OLD.id;
END;

-- Order: text compared without regard to ASCII case, ties broken by id, by an index for
-- each column a list of users or voicemails may be ordered by (the families that grow to
-- tens of thousands of rows), so that a page is read in order rather than sorted.
CREATE INDEX users_by_firstname ON users (firstname COLLATE NOCASE, id);
CREATE INDEX users_by_lastname ON users (lastname COLLATE NOCASE, id);
CREATE INDEX users_by_username ON users (username COLLATE NOCASE, id);
CREATE INDEX users_by_callerid ON users (callerid COLLATE NOCASE, id);
CREATE INDEX users_by_mobilephonenumber ON users (mobilephonenumber COLLATE NOCASE, id);
CREATE INDEX voicemails_by_fullname ON voicemails (fullname COLLATE NOCASE, id);
CREATE INDEX voicemails_by_mailbox ON voicemails (mailbox COLLATE NOCASE, id);
CREATE INDEX voicemails_by_email ON voicemails (email COLLATE NOCASE, id);
