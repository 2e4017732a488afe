-- The catalog and the audit ledger on PostgreSQL (14 or later): the schema SQLite reaches
-- through migrations 0001 to 0017, in one step. The statements fireshare runs are the same on
-- both, so the columns keep SQLite's names and kinds: integers are BIGINT (times are
-- milliseconds since the Unix epoch, UTC; flags are 0 or 1), JSON is kept as text.

-- Names compare case-insensitively, as the Delta Sharing protocol requires: SQLite's NOCASE,
-- here a nondeterministic ICU collation of that name. It folds case, keeps accents, and, unlike
-- SQLite (ASCII only), also equates what Unicode holds equal at that level: ß and ss, full-width
-- and ASCII letters, composed and decomposed forms.
CREATE COLLATION IF NOT EXISTS nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

-- SQLite's json_extract for the simple paths the ledger's queries use ('$.a' or '$.a.b'):
-- the value as text (NULL when absent). PostgreSQL's JSON refuses the escape \u0000, which an
-- event may hold (a client's path or user agent): it reads as U+FFFD here, the event's text
-- stays as it is.
CREATE OR REPLACE FUNCTION json_extract(doc TEXT, path TEXT) RETURNS TEXT
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN jsonb_extract_path_text(replace(doc, '\u0000', '\ufffd')::jsonb,
                                   VARIADIC string_to_array(substr(path, 3), '.'));

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Named credentials of cloud object stores; the secret options sealed with the data
-- directory's storage.key, which the database never sees.
CREATE TABLE storage_credentials (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE COLLATE nocase,
    kind           TEXT NOT NULL CHECK (kind IN ('S3', 'GCS', 'AZURE')),
    key_id         TEXT NOT NULL,
    public_options TEXT NOT NULL,
    secret_sealed  BYTEA NOT NULL,
    comment        TEXT,
    created_at     BIGINT NOT NULL
);

CREATE TABLE tables (
    id            TEXT PRIMARY KEY,
    schema_name   TEXT NOT NULL COLLATE nocase,
    name          TEXT NOT NULL COLLATE nocase,
    location      TEXT NOT NULL,
    comment       TEXT,
    created_at    BIGINT NOT NULL,
    credential_id TEXT REFERENCES storage_credentials(id),
    UNIQUE (schema_name, name)
);

CREATE TABLE table_properties (
    table_id TEXT NOT NULL REFERENCES tables(id) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (table_id, key)
);

CREATE TABLE shares (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE COLLATE nocase,
    comment    TEXT,
    created_at BIGINT NOT NULL,
    url_ttl_ms BIGINT
);

CREATE TABLE share_tables (
    share_id         TEXT NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
    table_id         TEXT NOT NULL REFERENCES tables(id) ON DELETE CASCADE,
    schema_alias     TEXT NOT NULL COLLATE nocase,
    table_alias      TEXT NOT NULL COLLATE nocase,
    history          BIGINT NOT NULL DEFAULT 0,
    added_at         BIGINT NOT NULL,
    start_version    BIGINT NOT NULL DEFAULT 0,
    partition_filter TEXT,
    comment          TEXT,
    PRIMARY KEY (share_id, table_id),
    UNIQUE (share_id, schema_alias, table_alias)
);

CREATE TABLE recipients (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE COLLATE nocase,
    comment           TEXT,
    created_at        BIGINT NOT NULL,
    token_lifetime_ms BIGINT,
    ip_access_list    TEXT,
    credential        TEXT NOT NULL DEFAULT 'token' CHECK (credential IN ('token', 'oauth')),
    properties        TEXT
);

-- `rowid` orders rows created in the same millisecond, as SQLite's implicit one does.
CREATE TABLE recipient_tokens (
    id           TEXT PRIMARY KEY,
    recipient_id TEXT NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    last_used_at BIGINT,
    rowid        BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX recipient_tokens_by_recipient ON recipient_tokens (recipient_id);

CREATE TABLE grants (
    share_id     TEXT NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
    recipient_id TEXT NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    granted_at   BIGINT NOT NULL,
    PRIMARY KEY (share_id, recipient_id)
);
CREATE INDEX grants_by_recipient ON grants (recipient_id);

CREATE TABLE admin_tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('admin', 'auditor')),
    token_hash TEXT NOT NULL UNIQUE,
    prefix     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT,
    rowid      BIGINT GENERATED ALWAYS AS IDENTITY
);

CREATE TABLE activation_links (
    id           TEXT PRIMARY KEY,
    recipient_id TEXT NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    code_hash    TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT,
    withdrawn_at BIGINT,
    rowid        BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX activation_links_by_recipient ON activation_links (recipient_id);

CREATE TABLE oauth_clients (
    client_id    TEXT PRIMARY KEY,
    recipient_id TEXT NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    secret_hash  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    rowid        BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX oauth_clients_by_recipient ON oauth_clients (recipient_id);

CREATE TABLE fire_file_results (
    table_id TEXT NOT NULL REFERENCES tables(id) ON DELETE CASCADE,
    rules    TEXT NOT NULL,
    path     TEXT NOT NULL,
    size     BIGINT NOT NULL,
    dv       TEXT NOT NULL,
    tally    TEXT NOT NULL,
    PRIMARY KEY (table_id, rules, path, size, dv)
);

CREATE TABLE fire_reports (
    table_id          TEXT NOT NULL REFERENCES tables(id) ON DELETE CASCADE,
    version           BIGINT NOT NULL,
    entity            TEXT NOT NULL,
    rows              BIGINT NOT NULL,
    passing           BIGINT NOT NULL,
    pass_rate         DOUBLE PRECISION NOT NULL,
    report            TEXT NOT NULL,
    schema_digest     TEXT NOT NULL,
    validator_version TEXT NOT NULL,
    validated_at      BIGINT NOT NULL,
    PRIMARY KEY (table_id, version)
);

CREATE TABLE fire_decisions (
    table_id   TEXT NOT NULL REFERENCES tables(id) ON DELETE CASCADE,
    version    BIGINT NOT NULL,
    approved   BIGINT NOT NULL,
    comment    TEXT,
    decided_by TEXT NOT NULL,
    decided_at BIGINT NOT NULL,
    PRIMARY KEY (table_id, version)
);

CREATE TABLE catalog_changes (id BIGINT PRIMARY KEY CHECK (id = 1), n BIGINT NOT NULL);
INSERT INTO catalog_changes VALUES (1, 0);

CREATE TABLE pending_changes (
    id               BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    statement        TEXT NOT NULL,
    statement_sealed BYTEA NOT NULL,
    effect           TEXT NOT NULL,
    proposed_by      TEXT NOT NULL,
    proposed_at      BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'approved', 'rejected', 'withdrawn')),
    decided_by       TEXT,
    decided_at       BIGINT,
    comment          TEXT
);

CREATE TABLE console_sessions (
    id_hash    TEXT PRIMARY KEY,
    token_id   TEXT NOT NULL REFERENCES admin_tokens (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at   BIGINT
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

-- The keys every replica must hold (see catalog/keys.rs).
CREATE TABLE key_fingerprints (
    name        TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);

-- Each running server and the catalog change it has seen (see catalog/db/watch.rs): a change
-- waits for the replicas that confirmed lately, so that they all serve it from the next request.
CREATE TABLE replicas (
    id           TEXT PRIMARY KEY,
    seen         BIGINT NOT NULL,
    heartbeat_at TIMESTAMPTZ NOT NULL
);

-- The audit ledger: one chain for every replica (appended under an advisory lock).
CREATE TABLE events (
    seq        BIGINT PRIMARY KEY,
    event      TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL,
    -- The event's time (C collation: compared as written), for range filters; a request id is
    -- found through it (ids start with their request's time), so no column of its own.
    time       TEXT NOT NULL COLLATE "C"
);
CREATE INDEX events_time ON events (time);
CREATE TABLE seals (
    seq       BIGINT PRIMARY KEY,
    seal      TEXT NOT NULL,
    signature TEXT NOT NULL
);
CREATE TABLE chain (
    id           BIGINT PRIMARY KEY CHECK (id = 1),
    base_seq     BIGINT NOT NULL,
    base_hash    TEXT NOT NULL,
    head_seq     BIGINT NOT NULL,
    head_hash    TEXT NOT NULL,
    sealed_seq   BIGINT NOT NULL,
    sealed_at_us BIGINT NOT NULL
);
