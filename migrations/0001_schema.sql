-- The whole schema of the XiVO REST API 1.0.
--
-- Applied by the components themselves (components/common/src/migrations.rs), one statement
-- at a time inside one transaction: keep every statement ending with `;`, and no triggers.
-- Dates are TEXT in the form 'YYYY-MM-DD HH:MM:SS' (UTC), so text order is time order.
-- Ids never come back after a delete (AUTOINCREMENT): a client's stale id finds a 404.

CREATE TABLE voicemails (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    email           TEXT,
    fullname        TEXT    NOT NULL DEFAULT '',
    mailbox         TEXT    NOT NULL UNIQUE,
    password        TEXT    NOT NULL DEFAULT '',
    attach          INTEGER NOT NULL DEFAULT 0 CHECK (attach IN (0, 1)),
    skipcheckpass   INTEGER NOT NULL DEFAULT 0 CHECK (skipcheckpass IN (0, 1)),
    deleteaftersend INTEGER NOT NULL DEFAULT 0 CHECK (deleteaftersend IN (0, 1))
);

CREATE TABLE agents (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    firstname             TEXT    NOT NULL DEFAULT '',
    lastname              TEXT    NOT NULL DEFAULT '',
    number                TEXT    NOT NULL UNIQUE,
    passwd                TEXT    NOT NULL DEFAULT '',
    context               TEXT    NOT NULL DEFAULT '',
    language              TEXT    NOT NULL DEFAULT '',
    autologoff            INTEGER NOT NULL DEFAULT 0,
    "group"               TEXT,
    numgroup              INTEGER NOT NULL DEFAULT 1,
    description           TEXT    NOT NULL DEFAULT '',
    preprocess_subroutine TEXT
);

CREATE TABLE queues (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    name                  TEXT    NOT NULL UNIQUE,
    displayname           TEXT    NOT NULL DEFAULT '',
    number                TEXT    NOT NULL DEFAULT '',
    context               TEXT    NOT NULL DEFAULT '',
    data_quality          INTEGER NOT NULL DEFAULT 0,
    hitting_callee        INTEGER NOT NULL DEFAULT 0,
    hitting_caller        INTEGER NOT NULL DEFAULT 0,
    retries               INTEGER NOT NULL DEFAULT 0,
    ring                  INTEGER NOT NULL DEFAULT 0,
    transfer_user         INTEGER NOT NULL DEFAULT 0,
    transfer_call         INTEGER NOT NULL DEFAULT 0,
    write_caller          INTEGER NOT NULL DEFAULT 0,
    write_calling         INTEGER NOT NULL DEFAULT 0,
    url                   TEXT    NOT NULL DEFAULT '',
    announceoverride      TEXT    NOT NULL DEFAULT '',
    timeout               INTEGER NOT NULL DEFAULT 0,
    preprocess_subroutine TEXT,
    announce_holdtime     INTEGER NOT NULL DEFAULT 0,
    waittime              INTEGER NOT NULL DEFAULT 0,
    waitratio             REAL    NOT NULL DEFAULT 0
);

-- `queue_number` filter of the campaigns list.
CREATE INDEX queues_number ON queues (number);

CREATE TABLE users (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    firstname         TEXT    NOT NULL DEFAULT '',
    lastname          TEXT    NOT NULL DEFAULT '',
    callerid          TEXT    NOT NULL DEFAULT '',
    username          TEXT    NOT NULL DEFAULT '',
    password          TEXT    NOT NULL DEFAULT '',
    enableclient      INTEGER NOT NULL DEFAULT 0 CHECK (enableclient IN (0, 1)),
    musiconhold       TEXT    NOT NULL DEFAULT '',
    outcallerid       TEXT    NOT NULL DEFAULT '',
    mobilephonenumber TEXT    NOT NULL DEFAULT '',
    userfield         TEXT    NOT NULL DEFAULT '',
    timezone          TEXT    NOT NULL DEFAULT '',
    language          TEXT    NOT NULL DEFAULT '',
    description       TEXT    NOT NULL DEFAULT '',
    ctiprofileid      INTEGER,
    voicemailid       INTEGER REFERENCES voicemails (id) ON DELETE SET NULL,
    agentid           INTEGER REFERENCES agents (id) ON DELETE SET NULL,
    entityid          INTEGER
);

-- "Is this voicemail (agent) still used by a user?", and the foreign keys' own lookups.
CREATE INDEX users_voicemailid ON users (voicemailid);
CREATE INDEX users_agentid ON users (agentid);

-- A user may have several lines; the API shows the first (lowest id).
CREATE TABLE lines (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    number  TEXT    NOT NULL
);

CREATE INDEX lines_user ON lines (user_id, id);

CREATE TABLE recording_campaigns (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_name TEXT    NOT NULL UNIQUE,
    activated     INTEGER NOT NULL CHECK (activated IN (0, 1)),
    base_filename TEXT    NOT NULL,
    queue_id      INTEGER REFERENCES queues (id) ON DELETE SET NULL,
    start_date    TEXT    NOT NULL,
    end_date      TEXT    NOT NULL
);

-- The recording hook's query and the overlap check on a queue. A queue's campaigns do not
-- overlap, so those ending after now are the running one and the future ones: few, however
-- many past campaigns the queue has had.
CREATE INDEX recording_campaigns_queue ON recording_campaigns (queue_id, end_date);

CREATE TABLE recordings (
    cid         TEXT    NOT NULL PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES recording_campaigns (id),
    agent_id    INTEGER NOT NULL REFERENCES agents (id),
    caller      TEXT,
    callee      TEXT,
    client_id   TEXT,
    filename    TEXT,
    start_time  TEXT,
    end_time    TEXT
);

-- A campaign's recordings in list order; the search by caller and by agent; and
-- "does this agent still have recordings?".
CREATE INDEX recordings_campaign ON recordings (campaign_id, start_time, cid);
CREATE INDEX recordings_campaign_caller ON recordings (campaign_id, caller, start_time, cid);
CREATE INDEX recordings_campaign_agent ON recordings (campaign_id, agent_id, start_time, cid);
CREATE INDEX recordings_agent ON recordings (agent_id);
