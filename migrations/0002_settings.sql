-- Settings the app keeps for itself, such as the secret that signs Digest nonces
-- (components/common/src/auth.rs).

CREATE TABLE settings (
    name  TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
