-- Notifications: silences, channels, the delivery log and the notifier's cursor into `events`.
-- Silences and channels keep the wire type whole as JSON in `body` (read and written whole);
-- deliveries keep the columns the log filters on and the worker claims by beside it.

CREATE TABLE silences (
    id          UUID PRIMARY KEY,
    starts_at   TIMESTAMPTZ NOT NULL,
    ends_at     TIMESTAMPTZ NOT NULL,
    body        JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX silences_ends_at_idx ON silences (ends_at);

CREATE TABLE notification_channels (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    body        JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT notification_channels_name_key UNIQUE (name)
);

-- No foreign key to the channel: the log outlives a deleted channel.
CREATE TABLE notification_deliveries (
    id               UUID PRIMARY KEY,
    channel_id       UUID NOT NULL,
    dedupe_key       TEXT NOT NULL,
    event_seq        BIGINT NOT NULL,
    status           TEXT NOT NULL,
    next_attempt_at  TIMESTAMPTZ,
    body             JSONB NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    -- One delivery per (what happened, channel): re-reading an event delivers nothing twice.
    CONSTRAINT notification_deliveries_dedupe_key UNIQUE (dedupe_key, channel_id)
);
CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (status, next_attempt_at);
CREATE INDEX notification_deliveries_channel_idx ON notification_deliveries (channel_id, id);

-- The last event seq the notifier has planned deliveries for. It starts at the newest event when
-- this migration runs: an upgrade does not notify about history, and everything after it is
-- notified whichever process (server or `flightdeck worker`) runs the notifier first.
CREATE TABLE notifier_cursor (
    name        TEXT PRIMARY KEY,
    seq         BIGINT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

INSERT INTO notifier_cursor (name, seq, updated_at)
SELECT 'notifier', COALESCE(MAX(seq), 0), now() FROM events;
