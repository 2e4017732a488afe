-- An admin's decision on a table version, over its validation (ALTER TABLE t APPROVE|REJECT
-- VERSION n [COMMENT '…']): who decided, when and why.
CREATE TABLE fire_decisions (
    table_id   TEXT NOT NULL REFERENCES tables(id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    approved   INTEGER NOT NULL,            -- 1 approve, 0 reject
    comment    TEXT,
    decided_by TEXT NOT NULL,
    decided_at INTEGER NOT NULL,
    PRIMARY KEY (table_id, version)
);
