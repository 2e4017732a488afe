-- Table properties (`ALTER TABLE … SET TBLPROPERTIES`), e.g. the FIRE entity a table is bound to.
CREATE TABLE table_properties (
    table_id TEXT NOT NULL REFERENCES tables(id) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (table_id, key)
);

-- What each data file came to under one rule set, so that a later version reads only the
-- files added since. A file is its path and size plus its deletion vector (which rows count).
CREATE TABLE fire_file_results (
    table_id  TEXT NOT NULL REFERENCES tables(id) ON DELETE CASCADE,
    rules     TEXT NOT NULL,                -- digest of the FIRE schema files and the validator
    path      TEXT NOT NULL,
    size      INTEGER NOT NULL,
    dv        TEXT NOT NULL,                -- the deletion vector's identity, '' without one
    tally     TEXT NOT NULL,                -- JSON
    PRIMARY KEY (table_id, rules, path, size, dv)
);

-- The quality report of each validated table version.
CREATE TABLE fire_reports (
    table_id          TEXT NOT NULL REFERENCES tables(id) ON DELETE CASCADE,
    version           INTEGER NOT NULL,
    entity            TEXT NOT NULL,
    rows              INTEGER NOT NULL,
    passing           INTEGER NOT NULL,
    pass_rate         REAL NOT NULL,
    report            TEXT NOT NULL,        -- JSON: failures per rule, samples, schema errors
    schema_digest     TEXT NOT NULL,
    validator_version TEXT NOT NULL,
    validated_at      INTEGER NOT NULL,
    PRIMARY KEY (table_id, version)
);
