-- When an agent's workbench last showed a sign of life, so agents who closed the browser
-- without logging out go offline instead of being assigned conversations forever.
ALTER TABLE agents ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
