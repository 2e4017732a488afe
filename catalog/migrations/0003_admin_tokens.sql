-- Credentials of the admin API: admins manage everything, auditors read. Like recipient
-- tokens, only the SHA-256 of a token and a short display prefix are stored.
CREATE TABLE admin_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'auditor')),
    token_hash   TEXT NOT NULL UNIQUE,         -- hex SHA-256 of the token
    prefix       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,                      -- NULL = never
    revoked_at   INTEGER
);
