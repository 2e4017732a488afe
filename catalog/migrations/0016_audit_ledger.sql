-- The audit ledger's tables, which earlier versions created when they first opened the ledger
-- (hence IF NOT EXISTS): events chained by hash, seals signing the chain head, and the chain's
-- two ends.
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    event TEXT NOT NULL,            -- canonical JSON, as hashed
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    -- The event's time, for range filters; `audit verify` checks it against the event.
    time TEXT NOT NULL,
    request_id TEXT GENERATED ALWAYS AS (json_extract(event, '$.requestId')) VIRTUAL
);
-- The only index: request ids start with their request's time, so they are found through it
-- too, and each commit writes one index page less.
CREATE INDEX IF NOT EXISTS events_time ON events (time);
CREATE TABLE IF NOT EXISTS seals (
    seq INTEGER PRIMARY KEY,        -- the last event the seal covers
    seal TEXT NOT NULL,             -- canonical JSON {seq, hash, time, kid}
    signature TEXT NOT NULL         -- Ed25519 over `seal`, base64url
);
-- One row: where the chain starts (after an archive cut) and where it ends.
CREATE TABLE IF NOT EXISTS chain (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    base_seq INTEGER NOT NULL,
    base_hash TEXT NOT NULL,
    head_seq INTEGER NOT NULL,
    head_hash TEXT NOT NULL,
    sealed_seq INTEGER NOT NULL,
    sealed_at_us INTEGER NOT NULL
);
