-- A fingerprint of each key of the data directory the catalog was written with (an HMAC under
-- the key, or a public key's id): every process, every replica, must hold the same keys.
CREATE TABLE key_fingerprints (
    name        TEXT PRIMARY KEY,      -- the key's file name in the data directory
    fingerprint TEXT NOT NULL,
    recorded_at INTEGER NOT NULL
);
