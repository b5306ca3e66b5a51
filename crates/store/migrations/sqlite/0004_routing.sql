-- Routing per skill group, agent fairness, queue bookkeeping, satisfaction.

ALTER TABLE skill_groups ADD COLUMN strategy TEXT NOT NULL DEFAULT 'least_load';
-- 0 turns sticky routing off.
ALTER TABLE skill_groups ADD COLUMN sticky_hours INTEGER NOT NULL DEFAULT 24;
-- The agent round robin assigned last, kept here so fairness survives restarts and nodes.
ALTER TABLE skill_groups ADD COLUMN rr_last_agent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE skill_groups ADD COLUMN queue_timeout_secs INTEGER;
-- JSON: weekly timetable, holidays and extra workdays (see engine::hours).
ALTER TABLE skill_groups ADD COLUMN business_hours TEXT;
-- JSON list of keywords ("退款") and patterns ("re:^退.*款$") that route messages here.
ALTER TABLE skill_groups ADD COLUMN keywords TEXT NOT NULL DEFAULT '[]';
ALTER TABLE skill_groups ADD COLUMN closing_message TEXT;

ALTER TABLE agents ADD COLUMN last_assigned_at INTEGER NOT NULL DEFAULT 0;

ALTER TABLE conversations ADD COLUMN queued_at INTEGER;
ALTER TABLE conversations ADD COLUMN queue_position_told INTEGER;
ALTER TABLE conversations ADD COLUMN satisfaction INTEGER;
ALTER TABLE conversations ADD COLUMN survey_until INTEGER;

CREATE INDEX conversations_agent_state ON conversations(agent_id, state);
CREATE INDEX conversations_queue ON conversations(state, group_id, queued_at);
