-- The Deployment & Rollback Manager: catalog, deployments, their timeline and output, executor
-- configuration, and the durable inbox for CI/CD webhooks.

CREATE TABLE services (
    id            UUID PRIMARY KEY,
    slug          TEXT NOT NULL,
    name          TEXT NOT NULL,
    team          TEXT,
    repositories  JSONB NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT services_slug_key UNIQUE (slug)
);

CREATE TABLE environments (
    id               UUID PRIMARY KEY,
    slug             TEXT NOT NULL,
    name             TEXT NOT NULL,
    rank             INTEGER NOT NULL,
    protected        BOOLEAN NOT NULL,
    aliases          JSONB NOT NULL,
    freeze_windows   JSONB NOT NULL,
    lock_reason      TEXT,
    locked_by        TEXT,
    locked_at        TIMESTAMPTZ,
    lock_expires_at  TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    CONSTRAINT environments_slug_key UNIQUE (slug)
);

CREATE TABLE deployments (
    id                UUID PRIMARY KEY,
    service_id        UUID NOT NULL REFERENCES services (id),
    environment_id    UUID NOT NULL REFERENCES environments (id),
    version           TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('deploy', 'rollback')),
    status            TEXT NOT NULL
                      CHECK (status IN ('queued', 'in_progress', 'succeeded', 'failed', 'cancelled', 'timed_out')),
    description       TEXT,
    created_by        TEXT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    started_at        TIMESTAMPTZ,
    finished_at       TIMESTAMPTZ,
    previous_version  TEXT,
    rollback_to       UUID,
    reason            TEXT,
    marked_bad        BOOLEAN NOT NULL DEFAULT FALSE,
    source            TEXT NOT NULL,
    external_id       TEXT,
    commit_sha        TEXT,
    commit_url        TEXT,
    ci_url            TEXT,
    committed_at      TIMESTAMPTZ,
    executor          TEXT NOT NULL,
    callback_digest   TEXT
);
-- At most one active deployment per target: the database refuses a second one, whatever races.
CREATE UNIQUE INDEX deployments_one_active ON deployments (service_id, environment_id)
    WHERE status IN ('queued', 'in_progress');
-- External ids carry their source as a prefix (`github:deployment:42`).
CREATE UNIQUE INDEX deployments_external_key ON deployments (external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX deployments_target_idx ON deployments (service_id, environment_id, id);
CREATE INDEX deployments_status_idx ON deployments (status, id);

-- What runs where: the latest succeeded deployment of each service in each environment.
CREATE TABLE targets (
    service_id             UUID NOT NULL REFERENCES services (id),
    environment_id         UUID NOT NULL REFERENCES environments (id),
    current_deployment_id  UUID REFERENCES deployments (id),
    current_version        TEXT,
    updated_at             TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (service_id, environment_id)
);

CREATE TABLE deployment_events (
    id             UUID PRIMARY KEY,
    deployment_id  UUID NOT NULL REFERENCES deployments (id),
    at             TIMESTAMPTZ NOT NULL,
    status         TEXT,
    actor          TEXT NOT NULL,
    message        TEXT NOT NULL
);
CREATE INDEX deployment_events_deployment_idx ON deployment_events (deployment_id, id);

CREATE TABLE deployment_logs (
    deployment_id  UUID NOT NULL REFERENCES deployments (id),
    n              BIGINT NOT NULL,
    at             TIMESTAMPTZ NOT NULL,
    stream         TEXT NOT NULL,
    line           TEXT NOT NULL,
    PRIMARY KEY (deployment_id, n)
);

-- How deployments happen: per environment, optionally overridden per service.
CREATE TABLE executors (
    id              UUID PRIMARY KEY,
    environment_id  UUID NOT NULL REFERENCES environments (id),
    service_id      UUID REFERENCES services (id),
    config          JSONB NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX executors_scope_key ON executors (environment_id, COALESCE(service_id, '00000000-0000-0000-0000-000000000000'));

-- Webhook deliveries, stored before they are answered; a redelivery is a no-op.
CREATE TABLE inbox (
    id             UUID PRIMARY KEY,
    source         TEXT NOT NULL,
    delivery_id    TEXT NOT NULL,
    received_at    TIMESTAMPTZ NOT NULL,
    event_type     TEXT,
    body           TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('pending', 'applied', 'ignored', 'unmatched', 'failed')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    note           TEXT,
    processed_at   TIMESTAMPTZ,
    CONSTRAINT inbox_delivery_key UNIQUE (source, delivery_id)
);
CREATE INDEX inbox_pending_idx ON inbox (state, received_at);
