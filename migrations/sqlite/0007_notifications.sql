-- Notifications: silences, channels, the delivery log and the notifier's cursor into `events`.
-- SQLite mirror of migrations/postgres/0007_notifications.sql.

CREATE TABLE silences (
    id          BLOB PRIMARY KEY,
    starts_at   TEXT NOT NULL,
    ends_at     TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX silences_ends_at_idx ON silences (ends_at);

CREATE TABLE notification_channels (
    id          BLOB PRIMARY KEY,
    name        TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    CONSTRAINT notification_channels_name_key UNIQUE (name)
);

CREATE TABLE notification_deliveries (
    id               BLOB PRIMARY KEY,
    channel_id       BLOB NOT NULL,
    dedupe_key       TEXT NOT NULL,
    event_seq        INTEGER NOT NULL,
    status           TEXT NOT NULL,
    next_attempt_at  TEXT,
    body             TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    CONSTRAINT notification_deliveries_dedupe_key UNIQUE (dedupe_key, channel_id)
);
CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (status, next_attempt_at);
CREATE INDEX notification_deliveries_channel_idx ON notification_deliveries (channel_id, id);

CREATE TABLE notifier_cursor (
    name        TEXT PRIMARY KEY,
    seq         INTEGER NOT NULL,
    updated_at  TEXT NOT NULL
);

INSERT INTO notifier_cursor (name, seq, updated_at)
SELECT 'notifier', COALESCE(MAX(seq), 0), strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM events;
