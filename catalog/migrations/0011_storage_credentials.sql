-- Named credentials of cloud object stores (CREATE STORAGE CREDENTIAL). The secret options are
-- sealed with AES-256-GCM under the data directory's storage.key; key_id and public_options
-- (region, endpoint, …) may be shown.
CREATE TABLE storage_credentials (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE COLLATE NOCASE,
    kind           TEXT NOT NULL CHECK (kind IN ('S3', 'GCS', 'AZURE')),
    key_id         TEXT NOT NULL,
    public_options TEXT NOT NULL,            -- JSON object
    secret_sealed  BLOB NOT NULL,            -- nonce ‖ ciphertext ‖ tag of a JSON object
    comment        TEXT,
    created_at     INTEGER NOT NULL
);

-- The credential a cloud table is read with; NULL for local tables and for cloud tables read
-- with the environment's credentials (CREATE TABLE … FROM ENVIRONMENT).
ALTER TABLE tables ADD COLUMN credential_id TEXT REFERENCES storage_credentials(id);

-- ALTER SHARE s SET URL LIFETIME: how long the file URLs of the share's tables live (ms);
-- NULL = the server's --url-ttl.
ALTER TABLE shares ADD COLUMN url_ttl_ms INTEGER;
