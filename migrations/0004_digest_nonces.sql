-- The Digest nonces that clients have answered, each with the highest nonce count (`nc`)
-- accepted for it, so that no request is accepted twice (components/common/src/auth.rs,
-- `record_use`). `expires` is when the nonce expires, in Unix seconds (not a date the API
-- shows); rows are deleted a batch at a time some time after that, through the index.

CREATE TABLE digest_nonces (
    nonce   TEXT    NOT NULL PRIMARY KEY,
    nc      INTEGER NOT NULL,
    expires INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX digest_nonces_expires ON digest_nonces (expires);
