-- Platform access tokens shared by every node, per-channel sync cursors, and stored media.

CREATE TABLE platform_tokens (
    key           TEXT    PRIMARY KEY,
    token         TEXT    NOT NULL DEFAULT '',
    expires_at    INTEGER NOT NULL DEFAULT 0,
    -- Set while one node refreshes the token; others wait instead of invalidating it.
    locked_until  INTEGER,
    updated_at    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE channel_cursors (
    channel_id    INTEGER NOT NULL REFERENCES channels(id),
    name          TEXT    NOT NULL,
    cursor        TEXT    NOT NULL DEFAULT '',
    locked_until  INTEGER,
    updated_at    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (channel_id, name)
);

CREATE TABLE media (
    -- Random and unguessable: knowing the id is what grants access to the file.
    id          TEXT    PRIMARY KEY,
    mime        TEXT    NOT NULL,
    filename    TEXT    NOT NULL,
    sha256      TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    data        BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
);
