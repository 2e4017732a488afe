-- Settings a server and the command line share, remembered once given (the FIRE schema
-- directory: `--fire-schemas`).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
