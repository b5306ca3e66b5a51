-- The change feed a CRM syncs from, webhooks for it, API keys, and conversation outcome tags.
-- Triggers write `changes` in the same transaction as the change itself, so a committed
-- change is never missing from the feed, whichever code path made it.

CREATE TABLE changes (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT    NOT NULL,
    conversation_id  INTEGER,
    message_id       INTEGER,
    customer_id      INTEGER,
    merge_id         INTEGER,
    agent_id         INTEGER,
    at               INTEGER NOT NULL
);
CREATE INDEX changes_conversation ON changes(conversation_id, kind);

CREATE TRIGGER changes_customer_created AFTER INSERT ON customers BEGIN
    INSERT INTO changes (kind, customer_id, at) VALUES ('customer.created', NEW.id, NEW.created_at);
END;

CREATE TRIGGER changes_conversation_created AFTER INSERT ON conversations BEGIN
    INSERT INTO changes (kind, conversation_id, customer_id, agent_id, at)
    VALUES ('conversation.created', NEW.id, NEW.customer_id, NEW.agent_id, NEW.created_at);
    INSERT INTO changes (kind, conversation_id, customer_id, agent_id, at)
    SELECT 'conversation.' || NEW.state, NEW.id, NEW.customer_id, NEW.agent_id, NEW.created_at
    WHERE NEW.state <> 'bot';
END;

-- A new state, or a new agent while assigned (a transfer), is one change.
CREATE TRIGGER changes_conversation_state AFTER UPDATE OF state, agent_id ON conversations
WHEN NEW.state <> OLD.state OR (NEW.state = 'assigned' AND NEW.agent_id IS NOT OLD.agent_id) BEGIN
    INSERT INTO changes (kind, conversation_id, customer_id, agent_id, at)
    VALUES ('conversation.' || NEW.state, NEW.id, NEW.customer_id, NEW.agent_id, NEW.updated_at);
END;

CREATE TRIGGER changes_message_created AFTER INSERT ON messages BEGIN
    INSERT INTO changes (kind, conversation_id, message_id, customer_id, agent_id, at)
    VALUES ('message.created', NEW.conversation_id, NEW.id,
            (SELECT customer_id FROM conversations WHERE id = NEW.conversation_id),
            NEW.sender_agent_id, NEW.created_at);
END;

CREATE TRIGGER changes_customer_merged AFTER INSERT ON customer_merges BEGIN
    INSERT INTO changes (kind, customer_id, merge_id, agent_id, at)
    VALUES ('customer.merged', NEW.survivor_id, NEW.id, NEW.by_agent, NEW.created_at);
END;

CREATE TRIGGER changes_customer_unmerged AFTER UPDATE OF undone_at ON customer_merges
WHEN OLD.undone_at IS NULL AND NEW.undone_at IS NOT NULL BEGIN
    INSERT INTO changes (kind, customer_id, merge_id, agent_id, at)
    VALUES ('customer.unmerged', NEW.survivor_id, NEW.id, NEW.undone_by, NEW.undone_at);
END;

CREATE TABLE api_keys (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL,
    -- The public part of the key, to find it; the secret part is only stored hashed.
    prefix        TEXT    NOT NULL UNIQUE,
    secret_hash   TEXT    NOT NULL,
    scopes        TEXT    NOT NULL,
    created_by    INTEGER NOT NULL REFERENCES agents(id),
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
);

CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    url         TEXT    NOT NULL,
    -- The signing secret, sealed like platform secrets.
    secret      BLOB    NOT NULL,
    events      TEXT    NOT NULL,
    enabled     BOOLEAN NOT NULL DEFAULT 1,
    -- The last change seq turned into deliveries for this endpoint.
    cursor      INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);

-- The webhook outbox: one row per (endpoint, change), retried with backoff until delivered.
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id       INTEGER NOT NULL REFERENCES webhooks(id),
    change_seq       INTEGER NOT NULL,
    kind             TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    state            TEXT    NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    locked_until     INTEGER,
    last_status      INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    delivered_at     INTEGER,
    UNIQUE (webhook_id, change_seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_attempt_at);

CREATE TABLE conversation_tags (
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id),
    tag              TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, tag)
);
