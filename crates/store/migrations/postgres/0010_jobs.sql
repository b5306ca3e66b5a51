-- Durable jobs: everything that must happen after a commit is written in the same transaction
-- as the change that causes it, then run under a lease, in order per lane, retried with
-- backoff, and kept visible when it fails. Leases for work one node does at a time (the tick).

CREATE TABLE jobs (
    id            BIGSERIAL PRIMARY KEY,
    kind          TEXT    NOT NULL,
    -- Jobs of one lane run one at a time, lowest id first.
    lane          TEXT    NOT NULL,
    payload       TEXT    NOT NULL,
    -- pending, done or failed.
    state         TEXT    NOT NULL DEFAULT 'pending',
    attempts      BIGINT  NOT NULL DEFAULT 0,
    run_at        BIGINT  NOT NULL,
    -- The holder's random token while claimed; finishing requires it.
    lease         TEXT,
    locked_until  BIGINT,
    -- At most one pending, unclaimed job per key (a second request is the same work).
    dedupe_key    TEXT,
    last_error    TEXT,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);
CREATE INDEX jobs_due ON jobs(state, run_at);
CREATE INDEX jobs_lane ON jobs(lane, state, id);
CREATE UNIQUE INDEX jobs_dedupe ON jobs(dedupe_key) WHERE dedupe_key IS NOT NULL;

CREATE TABLE leases (
    name    TEXT    PRIMARY KEY,
    holder  TEXT    NOT NULL,
    until   BIGINT  NOT NULL
);

-- The outbox's claims carry a token too, so a worker whose lease ran out cannot record a
-- result over the new holder's; and a send may be held for WeChat's passive reply.
ALTER TABLE outbox ADD COLUMN lease TEXT;
