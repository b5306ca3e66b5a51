-- The change feed a CRM syncs from, webhooks for it, API keys, and conversation outcome tags.
-- Triggers write `changes` in the same transaction as the change itself, so a committed
-- change is never missing from the feed, whichever code path made it.

CREATE TABLE changes (
    id               BIGSERIAL PRIMARY KEY,
    -- The feed position, set as the writing transaction commits (below); NULL until then.
    seq              BIGINT UNIQUE,
    kind             TEXT   NOT NULL,
    conversation_id  BIGINT,
    message_id       BIGINT,
    customer_id      BIGINT,
    merge_id         BIGINT,
    agent_id         BIGINT,
    at               BIGINT NOT NULL
);
CREATE INDEX changes_conversation ON changes(conversation_id, kind);
CREATE SEQUENCE changes_seq;

-- Positions are handed out at commit time under a transaction-scoped lock, so transactions
-- take positions in the order they commit: a reader that has seen position N can never later
-- find a committed change below N. Taking the lock only at commit (a deferred trigger), when
-- the transaction does nothing else, means a lock holder never waits for anyone: no deadlock.
CREATE FUNCTION kefu_number_change() RETURNS TRIGGER AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(74110001);
    UPDATE changes SET seq = nextval('changes_seq') WHERE id = NEW.id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER changes_numbered AFTER INSERT ON changes
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION kefu_number_change();

CREATE FUNCTION kefu_record_change(k TEXT, conv BIGINT, msg BIGINT, cust BIGINT, mrg BIGINT, agent BIGINT, t BIGINT)
RETURNS VOID AS $$
BEGIN
    INSERT INTO changes (kind, conversation_id, message_id, customer_id, merge_id, agent_id, at)
    VALUES (k, conv, msg, cust, mrg, agent, t);
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION kefu_changes_customers() RETURNS TRIGGER AS $$
BEGIN
    PERFORM kefu_record_change('customer.created', NULL, NULL, NEW.id, NULL, NULL, NEW.created_at);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER changes_customer_created AFTER INSERT ON customers
FOR EACH ROW EXECUTE FUNCTION kefu_changes_customers();

CREATE FUNCTION kefu_changes_conversations() RETURNS TRIGGER AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM kefu_record_change('conversation.created', NEW.id, NULL, NEW.customer_id, NULL, NEW.agent_id, NEW.created_at);
        IF NEW.state <> 'bot' THEN
            PERFORM kefu_record_change('conversation.' || NEW.state, NEW.id, NULL, NEW.customer_id, NULL, NEW.agent_id, NEW.created_at);
        END IF;
    ELSIF NEW.state <> OLD.state OR (NEW.state = 'assigned' AND NEW.agent_id IS DISTINCT FROM OLD.agent_id) THEN
        PERFORM kefu_record_change('conversation.' || NEW.state, NEW.id, NULL, NEW.customer_id, NULL, NEW.agent_id, NEW.updated_at);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER changes_conversations AFTER INSERT OR UPDATE OF state, agent_id ON conversations
FOR EACH ROW EXECUTE FUNCTION kefu_changes_conversations();

CREATE FUNCTION kefu_changes_messages() RETURNS TRIGGER AS $$
BEGIN
    PERFORM kefu_record_change('message.created', NEW.conversation_id, NEW.id,
        (SELECT customer_id FROM conversations WHERE id = NEW.conversation_id), NULL, NEW.sender_agent_id, NEW.created_at);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER changes_message_created AFTER INSERT ON messages
FOR EACH ROW EXECUTE FUNCTION kefu_changes_messages();

CREATE FUNCTION kefu_changes_merges() RETURNS TRIGGER AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM kefu_record_change('customer.merged', NULL, NULL, NEW.survivor_id, NEW.id, NEW.by_agent, NEW.created_at);
    ELSIF OLD.undone_at IS NULL AND NEW.undone_at IS NOT NULL THEN
        PERFORM kefu_record_change('customer.unmerged', NULL, NULL, NEW.survivor_id, NEW.id, NEW.undone_by, NEW.undone_at);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER changes_merges AFTER INSERT OR UPDATE OF undone_at ON customer_merges
FOR EACH ROW EXECUTE FUNCTION kefu_changes_merges();

CREATE TABLE api_keys (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT   NOT NULL,
    -- The public part of the key, to find it; the secret part is only stored hashed.
    prefix        TEXT   NOT NULL UNIQUE,
    secret_hash   TEXT   NOT NULL,
    scopes        TEXT   NOT NULL,
    created_by    BIGINT NOT NULL REFERENCES agents(id),
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);

CREATE TABLE webhooks (
    id          BIGSERIAL PRIMARY KEY,
    url         TEXT    NOT NULL,
    -- The signing secret, sealed like platform secrets.
    secret      BYTEA   NOT NULL,
    events      TEXT    NOT NULL,
    enabled     BOOLEAN NOT NULL DEFAULT TRUE,
    -- The last change seq turned into deliveries for this endpoint.
    cursor      BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL
);

-- The webhook outbox: one row per (endpoint, change), retried with backoff until delivered.
CREATE TABLE webhook_deliveries (
    id               BIGSERIAL PRIMARY KEY,
    webhook_id       BIGINT NOT NULL REFERENCES webhooks(id),
    change_seq       BIGINT NOT NULL,
    kind             TEXT   NOT NULL,
    payload          TEXT   NOT NULL,
    state            TEXT   NOT NULL DEFAULT 'pending',
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    locked_until     BIGINT,
    last_status      BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    delivered_at     BIGINT,
    UNIQUE (webhook_id, change_seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_attempt_at);

CREATE TABLE conversation_tags (
    conversation_id  BIGINT NOT NULL REFERENCES conversations(id),
    tag              TEXT   NOT NULL,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, tag)
);
