-- kefu schema, SQLite flavour. Times are unix milliseconds; JSON is TEXT.

CREATE TABLE channels (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL,
    key         TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    enabled     BOOLEAN NOT NULL DEFAULT 1,
    settings    TEXT    NOT NULL DEFAULT '{}',
    secrets     BLOB,
    created_at  INTEGER NOT NULL
);

CREATE TABLE customers (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    display_name  TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE identities (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id  INTEGER NOT NULL REFERENCES customers(id),
    channel_id   INTEGER NOT NULL REFERENCES channels(id),
    external_id  TEXT    NOT NULL,
    union_id     TEXT,
    phone        TEXT,
    nickname     TEXT,
    created_at   INTEGER NOT NULL,
    UNIQUE (channel_id, external_id)
);
CREATE INDEX identities_customer ON identities(customer_id);

CREATE TABLE skill_groups (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE agents (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    username       TEXT    NOT NULL UNIQUE,
    display_name   TEXT    NOT NULL,
    password_hash  TEXT    NOT NULL,
    role           TEXT    NOT NULL,
    status         TEXT    NOT NULL DEFAULT 'offline',
    capacity       INTEGER NOT NULL DEFAULT 5,
    created_at     INTEGER NOT NULL
);

CREATE TABLE agent_skill_groups (
    agent_id  INTEGER NOT NULL REFERENCES agents(id),
    group_id  INTEGER NOT NULL REFERENCES skill_groups(id),
    PRIMARY KEY (agent_id, group_id)
);

CREATE TABLE sessions (
    token_hash  TEXT    PRIMARY KEY,
    agent_id    INTEGER NOT NULL REFERENCES agents(id),
    csrf_token  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);

CREATE TABLE conversations (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id      INTEGER NOT NULL REFERENCES customers(id),
    identity_id      INTEGER NOT NULL REFERENCES identities(id),
    channel_id       INTEGER NOT NULL REFERENCES channels(id),
    state            TEXT    NOT NULL,
    agent_id         INTEGER REFERENCES agents(id),
    group_id         INTEGER REFERENCES skill_groups(id),
    close_reason     TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    closed_at        INTEGER,
    last_inbound_at  INTEGER
);
-- At most one open conversation per identity: concurrent first messages cannot open two.
CREATE UNIQUE INDEX conversations_one_open_per_identity ON conversations(identity_id) WHERE state <> 'closed';
CREATE INDEX conversations_state ON conversations(state, updated_at);
CREATE INDEX conversations_customer ON conversations(customer_id, id);

CREATE TABLE messages (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id),
    channel_id       INTEGER NOT NULL REFERENCES channels(id),
    direction        TEXT    NOT NULL,
    sender_kind      TEXT    NOT NULL,
    sender_agent_id  INTEGER REFERENCES agents(id),
    content          TEXT    NOT NULL,
    body_text        TEXT,
    -- Inbound: the platform message id. Outbound: the sender's idempotency key.
    dedupe_key       TEXT,
    platform_msg_id  TEXT,
    status           TEXT    NOT NULL,
    error            TEXT,
    created_at       INTEGER NOT NULL,
    UNIQUE (channel_id, dedupe_key)
);
CREATE INDEX messages_conversation ON messages(conversation_id, id);

CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id       INTEGER NOT NULL UNIQUE REFERENCES messages(id),
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id),
    channel_id       INTEGER NOT NULL REFERENCES channels(id),
    state            TEXT    NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    locked_until     INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
CREATE INDEX outbox_conversation ON outbox(conversation_id, state, id);
