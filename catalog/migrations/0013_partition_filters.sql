-- Recipient properties (`CREATE RECIPIENT … PROPERTIES ('country' = 'FR')`), a JSON object of
-- strings: partition filters name them with CURRENT_RECIPIENT('key').
ALTER TABLE recipients ADD COLUMN properties TEXT;
-- `ALTER SHARE … ADD TABLE … PARTITION (…)`: which files of the table recipients see, as JSON
-- (NULL: all of them); and the table's comment in the share.
ALTER TABLE share_tables ADD COLUMN partition_filter TEXT;
ALTER TABLE share_tables ADD COLUMN comment TEXT;
