-- Failed authentications, counted per client address, so that a client guessing passwords is
-- slowed down on every instance at once (components/common/src/auth/throttle.rs). Only a
-- request that carries credentials counts: the first request of a Digest exchange carries
-- none. A row is the address's current window (`since`, `failures`), and its lockouts:
-- `strikes` of them so far, the last until `blocked_until` (Unix seconds, not dates the API
-- shows). Rows that have been quiet for a day are deleted a batch at a time.

CREATE TABLE auth_failures (
    address       TEXT    NOT NULL PRIMARY KEY,
    since         INTEGER NOT NULL,
    failures      INTEGER NOT NULL,
    strikes       INTEGER NOT NULL DEFAULT 0,
    blocked_until INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE INDEX auth_failures_since ON auth_failures (since);
