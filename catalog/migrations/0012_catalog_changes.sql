-- A counter every catalog write moves, by which other processes see that the catalog changed.
-- The database's own change counter (PRAGMA data_version) no longer tells: the audit ledger
-- shares the file, so it moves with every recorded request.
CREATE TABLE catalog_changes (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
INSERT INTO catalog_changes VALUES (1, 0);
