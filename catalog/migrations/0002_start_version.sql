-- START VERSION: the oldest table version recipients of a share may read (history queries).
ALTER TABLE share_tables ADD COLUMN start_version INTEGER NOT NULL DEFAULT 0;
