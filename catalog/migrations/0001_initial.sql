-- The catalog: what is shared, with whom. Names compare case-insensitively, as the
-- Delta Sharing protocol requires. Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE tables (
    id          TEXT PRIMARY KEY,              -- UUID, stable across renames of aliases
    schema_name TEXT NOT NULL COLLATE NOCASE,
    name        TEXT NOT NULL COLLATE NOCASE,
    location    TEXT NOT NULL,                 -- absolute URL of the Delta table root (file://...)
    comment     TEXT,
    created_at  INTEGER NOT NULL,
    UNIQUE (schema_name, name)
);

CREATE TABLE shares (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    comment    TEXT,
    created_at INTEGER NOT NULL
);

-- A table exposed in a share under `schema_alias.table_alias`.
CREATE TABLE share_tables (
    share_id     TEXT NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
    table_id     TEXT NOT NULL REFERENCES tables(id) ON DELETE CASCADE,
    schema_alias TEXT NOT NULL COLLATE NOCASE,
    table_alias  TEXT NOT NULL COLLATE NOCASE,
    history      INTEGER NOT NULL DEFAULT 0,   -- 1 = WITH HISTORY: version/timestamp queries allowed
    added_at     INTEGER NOT NULL,
    PRIMARY KEY (share_id, table_id),
    UNIQUE (share_id, schema_alias, table_alias)
);

CREATE TABLE recipients (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    comment    TEXT,
    created_at INTEGER NOT NULL
);

-- Bearer tokens are never stored: only their SHA-256 and a short prefix for display.
CREATE TABLE recipient_tokens (
    id           TEXT PRIMARY KEY,
    recipient_id TEXT NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,         -- hex SHA-256 of the token
    prefix       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,                      -- NULL = never
    revoked_at   INTEGER
);
CREATE INDEX recipient_tokens_by_recipient ON recipient_tokens (recipient_id);

CREATE TABLE grants (
    share_id     TEXT NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
    recipient_id TEXT NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    granted_at   INTEGER NOT NULL,
    PRIMARY KEY (share_id, recipient_id)
);
CREATE INDEX grants_by_recipient ON grants (recipient_id);
