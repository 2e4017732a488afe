-- When each recipient token was last used (written in batches by the server).
ALTER TABLE recipient_tokens ADD COLUMN last_used_at INTEGER;
