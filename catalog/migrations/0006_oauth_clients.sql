-- OAuth 2.0 client credentials: recipients created USING OAUTH get a client id and secret
-- (only the secret's SHA-256 is kept) and exchange them at /oauth/token for short-lived
-- access tokens.
ALTER TABLE recipients ADD COLUMN credential TEXT NOT NULL DEFAULT 'token'
    CHECK (credential IN ('token', 'oauth'));

CREATE TABLE oauth_clients (
    client_id    TEXT PRIMARY KEY,
    recipient_id TEXT NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    secret_hash  TEXT NOT NULL,            -- hex SHA-256 of the client secret
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,                  -- set by a rotation's grace period
    revoked_at   INTEGER
);
CREATE INDEX oauth_clients_by_recipient ON oauth_clients (recipient_id);
