-- Four-eyes changes (ALTER CATALOG SET FOUR EYES): a covered statement run by one admin waits
-- here until another approves it. The statement itself is sealed, as JSON (it may hold a
-- storage credential's secrets); `statement` is its text with secrets redacted.
CREATE TABLE pending_changes (
    id               INTEGER PRIMARY KEY,
    statement        TEXT NOT NULL,
    statement_sealed BLOB NOT NULL,
    effect           TEXT NOT NULL,             -- JSON: the catalog rows it would remove and add
    proposed_by      TEXT NOT NULL,             -- an admin token's name, or `fireshare sql --as`
    proposed_at      INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'approved', 'rejected', 'withdrawn')),
    decided_by       TEXT,
    decided_at       INTEGER,
    comment          TEXT
);
