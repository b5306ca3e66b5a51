-- The knowledge base, FAQ candidates from mining, and the bot's memory per conversation.

CREATE TABLE faq_entries (
    id               TEXT    PRIMARY KEY,
    question         TEXT    NOT NULL,
    similar_questions TEXT    NOT NULL DEFAULT '[]',
    answer           TEXT    NOT NULL,
    group_name       TEXT,
    enabled          BOOLEAN NOT NULL DEFAULT TRUE,
    channel_answers  TEXT    NOT NULL DEFAULT '{}',
    updated_at       INTEGER NOT NULL
);

-- Bumped on every change, so every node knows when to rebuild its matcher.
CREATE TABLE kb_meta (
    id       INTEGER PRIMARY KEY,
    version  INTEGER NOT NULL
);
INSERT INTO kb_meta (id, version) VALUES (1, 0);

CREATE TABLE faq_candidates (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    question       TEXT    NOT NULL,
    similar_questions TEXT    NOT NULL DEFAULT '[]',
    answer         TEXT    NOT NULL,
    support        INTEGER NOT NULL,
    conversations  TEXT    NOT NULL DEFAULT '[]',
    status         TEXT    NOT NULL DEFAULT 'pending',
    created_at     INTEGER NOT NULL,
    decided_at     INTEGER
);

ALTER TABLE conversations ADD COLUMN bot_state TEXT;
