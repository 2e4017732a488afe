-- Sessions of the web console (/console): an admin or auditor token exchanged once for a
-- cookie. Only the cookie's SHA-256 is stored; a session lives no longer than its token, and
-- revoking the token ends it.
CREATE TABLE console_sessions (
    id_hash     TEXT PRIMARY KEY,              -- hex SHA-256 of the cookie's value
    token_id    TEXT NOT NULL REFERENCES admin_tokens (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    ended_at    INTEGER                        -- signed out
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
