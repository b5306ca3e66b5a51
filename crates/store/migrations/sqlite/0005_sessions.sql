-- Per-person state a platform hands out with a message and kefu needs for replying later,
-- e.g. DingTalk's sessionWebhook with its expiry and the conversation it belongs to.

CREATE TABLE platform_sessions (
    channel_id   INTEGER  NOT NULL REFERENCES channels(id),
    external_id  TEXT    NOT NULL,
    data         TEXT    NOT NULL,
    expires_at   INTEGER  NOT NULL,
    updated_at   INTEGER  NOT NULL,
    PRIMARY KEY (channel_id, external_id)
);
