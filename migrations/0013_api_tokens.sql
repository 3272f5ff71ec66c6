-- API tokens for integrations (README, "Authentication"; components/tokens and
-- components/common/src/auth/bearer.rs). A token's secret is never stored: only its SHA-256,
-- in hex. `scopes` is the token's scopes, space-separated (`users:read campaigns:*`). Times are
-- Unix seconds; `expires_at` NULL never expires; `last_used_at` is written at most once a
-- minute. A revoked token is a deleted row, so every instance refuses it at once.

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL,
    scopes       TEXT    NOT NULL,
    secret_hash  TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER
);
