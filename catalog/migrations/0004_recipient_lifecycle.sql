-- Recipient token lifecycle: how long a recipient's tokens live, and one-time activation
-- links whose first download hands out a new token in a profile file.
ALTER TABLE recipients ADD COLUMN token_lifetime_ms INTEGER;   -- NULL = tokens do not expire

CREATE TABLE activation_links (
    id           TEXT PRIMARY KEY,
    recipient_id TEXT NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    code_hash    TEXT NOT NULL UNIQUE,     -- hex SHA-256 of the code in the URL
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER,
    withdrawn_at INTEGER                   -- replaced by a newer link, or REVOKE TOKENS
);
CREATE INDEX activation_links_by_recipient ON activation_links (recipient_id);
