-- IP access lists: the addresses a recipient may call from (JSON array of CIDR strings as
-- written; NULL = any address).
ALTER TABLE recipients ADD COLUMN ip_access_list TEXT;
