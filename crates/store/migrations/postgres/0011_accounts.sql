-- Accounts that admins disable and re-enable: a disabled account cannot log in, its sessions
-- are gone and its conversations go back to routing. Kept, not deleted, so history still
-- names who served whom.
ALTER TABLE agents ADD COLUMN disabled_at BIGINT;

-- Where a session was opened, so its owner can recognise and end the ones that are not theirs.
ALTER TABLE sessions ADD COLUMN client_ip TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;

-- Password expiry (optional): when the password was last set (NULL: at creation), and sessions
-- opened with an expired password, which may do nothing but set a new one.
ALTER TABLE agents ADD COLUMN password_changed_at BIGINT;
ALTER TABLE sessions ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0;
