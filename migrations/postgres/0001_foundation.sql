-- Foundation: people, sessions, API tokens, the audit log, the live-event log and settings.

CREATE TABLE users (
    id             UUID PRIMARY KEY,
    username       TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'deployer', 'admin')),
    disabled       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    last_login_at  TIMESTAMPTZ,
    CONSTRAINT users_username_key UNIQUE (username)
);

-- A login session; the refresh token rotates on every use and the one it replaced is kept so
-- that a replayed (stolen) refresh token ends the whole session.
CREATE TABLE sessions (
    id               UUID PRIMARY KEY,
    user_id          UUID NOT NULL REFERENCES users (id),
    refresh_digest   TEXT NOT NULL,
    previous_digest  TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    refreshed_at     TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    revoked_at       TIMESTAMPTZ,
    CONSTRAINT sessions_refresh_digest_key UNIQUE (refresh_digest)
);
CREATE INDEX sessions_previous_digest_idx ON sessions (previous_digest);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE api_tokens (
    id            UUID PRIMARY KEY,
    user_id       UUID NOT NULL REFERENCES users (id),
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    digest        TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'deployer', 'admin')),
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ,
    last_used_at  TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ,
    CONSTRAINT api_tokens_digest_key UNIQUE (digest)
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id, id);

-- Append-only: nothing updates or deletes rows here.
CREATE TABLE audit_log (
    id           UUID PRIMARY KEY,
    at           TIMESTAMPTZ NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    target_type  TEXT NOT NULL,
    target_id    TEXT NOT NULL,
    before       JSONB,
    after        JSONB,
    reason       TEXT,
    request_id   TEXT
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor, id);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id, id);

-- The live feed's replay buffer; pruned after a retention period.
CREATE TABLE events (
    seq   BIGSERIAL PRIMARY KEY,
    kind  TEXT NOT NULL,
    at    TIMESTAMPTZ NOT NULL,
    data  JSONB NOT NULL
);
CREATE INDEX events_at_idx ON events (at);

CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
