-- Failed authentications, counted so that a client guessing passwords is slowed down on every
-- instance at once (components/common/src/auth/throttle.rs). A row counts the failures of one
-- subject: a client address (as Spin writes it, without the port), or one account's login
-- (`login:<name>`, guessed from many addresses). Only a request that carries credentials
-- counts: the first request of a Digest exchange carries none. A row is the subject's current
-- window (`since`, `failures`), and its lockouts: `strikes` of them so far, the last until
-- `blocked_until` (Unix seconds, not dates the API shows). Rows that have been quiet for a day
-- are deleted a batch at a time.

CREATE TABLE auth_failures (
    subject       TEXT    NOT NULL PRIMARY KEY,
    since         INTEGER NOT NULL,
    failures      INTEGER NOT NULL,
    strikes       INTEGER NOT NULL DEFAULT 0,
    blocked_until INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE INDEX auth_failures_since ON auth_failures (since);

-- The addresses each account has authenticated from, so that a login locked by guesses from
-- elsewhere still lets its own clients in. Written on a right answer's first use of a nonce,
-- only when the pair is new: only a right password writes here, so no guesser can fill it.

CREATE TABLE auth_known (
    login   TEXT    NOT NULL,
    address TEXT    NOT NULL,
    since   INTEGER NOT NULL,
    PRIMARY KEY (login, address)
) WITHOUT ROWID;
