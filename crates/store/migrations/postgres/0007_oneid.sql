-- OneID: customers merged by UnionID or phone (automatically or by hand), with an audit trail
-- that also makes every merge undoable; tags and notes for the customer 360 view.

ALTER TABLE customers ADD COLUMN merged_into BIGINT REFERENCES customers(id);

CREATE TABLE customer_merges (
    id            BIGSERIAL PRIMARY KEY,
    survivor_id   BIGINT NOT NULL REFERENCES customers(id),
    merged_id     BIGINT NOT NULL REFERENCES customers(id),
    -- JSON array of exactly the identities that moved.
    identity_ids  TEXT NOT NULL,
    reason        TEXT NOT NULL,
    -- NULL: merged automatically.
    by_agent      BIGINT REFERENCES agents(id),
    created_at    BIGINT NOT NULL,
    undone_at     BIGINT,
    undone_by     BIGINT REFERENCES agents(id),
    undo_reason   TEXT
);
CREATE INDEX customer_merges_survivor ON customer_merges(survivor_id);
CREATE INDEX customer_merges_merged ON customer_merges(merged_id);

-- Pairs an agent separated: never merged again automatically (low id first).
CREATE TABLE customer_merge_blocks (
    low_id   BIGINT NOT NULL,
    high_id  BIGINT NOT NULL,
    PRIMARY KEY (low_id, high_id)
);

CREATE TABLE customer_tags (
    customer_id  BIGINT NOT NULL REFERENCES customers(id),
    tag          TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (customer_id, tag)
);

CREATE TABLE customer_notes (
    id           BIGSERIAL PRIMARY KEY,
    customer_id  BIGINT NOT NULL REFERENCES customers(id),
    agent_id     BIGINT NOT NULL REFERENCES agents(id),
    text         TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX customer_notes_customer ON customer_notes(customer_id);

CREATE INDEX identities_union ON identities(union_id);
CREATE INDEX identities_phone ON identities(phone);
CREATE INDEX conversations_identity ON conversations(identity_id);

-- A question kefu asked in the conversation and waits for the customer to answer ("phone").
ALTER TABLE conversations ADD COLUMN awaiting TEXT;
