-- Accounts that admins disable and re-enable: a disabled account cannot log in, its sessions
-- are gone and its conversations go back to routing. Kept, not deleted, so history still
-- names who served whom.
ALTER TABLE agents ADD COLUMN disabled_at INTEGER;
