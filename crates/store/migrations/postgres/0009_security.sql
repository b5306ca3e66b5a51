-- Security: who served whom (the visibility policy), verified phones and SMS codes (OneID),
-- a login throttle every node shares, DingTalk signatures already used, and run-time settings.

-- Every agent who ever held a conversation; an agent may see the customers they served.
CREATE TABLE conversation_agents (
    conversation_id  BIGINT NOT NULL REFERENCES conversations(id),
    agent_id         BIGINT NOT NULL REFERENCES agents(id),
    first_at         BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, agent_id)
);
CREATE INDEX conversation_agents_agent ON conversation_agents(agent_id, conversation_id);
INSERT INTO conversation_agents (conversation_id, agent_id, first_at)
    SELECT conversation_id, agent_id, MIN(at) FROM changes
    WHERE agent_id IS NOT NULL AND conversation_id IS NOT NULL AND kind = 'conversation.assigned'
    GROUP BY conversation_id, agent_id;
INSERT INTO conversation_agents (conversation_id, agent_id, first_at)
    SELECT id, agent_id, updated_at FROM conversations WHERE agent_id IS NOT NULL
    ON CONFLICT DO NOTHING;
CREATE INDEX conversations_group ON conversations(group_id, state);
-- Written by a trigger, like the change feed, so no code path that assigns can forget it.
CREATE FUNCTION kefu_conversation_agents() RETURNS TRIGGER AS $$
BEGIN
    IF NEW.agent_id IS NOT NULL THEN
        INSERT INTO conversation_agents (conversation_id, agent_id, first_at)
        VALUES (NEW.id, NEW.agent_id, NEW.updated_at) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER conversation_agents_held AFTER INSERT OR UPDATE OF agent_id ON conversations
FOR EACH ROW EXECUTE FUNCTION kefu_conversation_agents();

-- Only a phone the platform vouches for (or the customer confirmed by SMS) merges customers.
ALTER TABLE identities ADD COLUMN phone_verified BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE identities SET phone_verified = TRUE WHERE phone IS NOT NULL
    AND channel_id IN (SELECT id FROM channels WHERE kind = 'dingtalk');

CREATE TABLE sms_codes (
    id               BIGSERIAL PRIMARY KEY,
    phone            TEXT    NOT NULL,
    conversation_id  BIGINT NOT NULL REFERENCES conversations(id),
    identity_id      BIGINT NOT NULL REFERENCES identities(id),
    -- SHA-256 of the code: a leaked table does not reveal codes still valid.
    code_hash        TEXT    NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    used_at          BIGINT
);
CREATE INDEX sms_codes_phone ON sms_codes(phone, created_at);
CREATE INDEX sms_codes_conversation ON sms_codes(conversation_id, created_at);

-- Failed logins per (hashed) username, shared by every node; rows expire with their window.
CREATE TABLE login_failures (
    key           TEXT    PRIMARY KEY,
    window_start  BIGINT NOT NULL,
    failures      BIGINT NOT NULL
);

-- DingTalk (timestamp, sign) pairs seen, with the body they signed, until they expire.
CREATE TABLE used_signatures (
    channel_id  BIGINT NOT NULL REFERENCES channels(id),
    sign        TEXT    NOT NULL,
    body_hash   TEXT    NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (channel_id, sign)
);
CREATE INDEX used_signatures_expiry ON used_signatures(expires_at);

-- Settings operators change at run time (the outbound allow-list, SMS); every node reads them.
CREATE TABLE settings (
    key         TEXT    PRIMARY KEY,
    value       TEXT    NOT NULL,
    -- Sealed secrets belonging to the setting (e.g. an SMS access key), never shown again.
    secrets     BYTEA,
    updated_at  BIGINT NOT NULL
);

-- Access tokens are now sealed like other secrets; plaintext ones are dropped and refetched.
UPDATE platform_tokens SET token = '', expires_at = 0;
