-- The Deployment & Rollback Manager: catalog, deployments, their timeline and output, executor
-- SQLite mirror of migrations/postgres/0002_deployments.sql (types as in 0001).
-- configuration, and the durable inbox for CI/CD webhooks.

CREATE TABLE services (
    id            BLOB PRIMARY KEY,
    slug          TEXT NOT NULL,
    name          TEXT NOT NULL,
    team          TEXT,
    repositories  TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    CONSTRAINT services_slug_key UNIQUE (slug)
);

CREATE TABLE environments (
    id               BLOB PRIMARY KEY,
    slug             TEXT NOT NULL,
    name             TEXT NOT NULL,
    rank             INTEGER NOT NULL,
    protected        BOOLEAN NOT NULL,
    aliases          TEXT NOT NULL,
    freeze_windows   TEXT NOT NULL,
    lock_reason      TEXT,
    locked_by        TEXT,
    locked_at        TEXT,
    lock_expires_at  TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    CONSTRAINT environments_slug_key UNIQUE (slug)
);

CREATE TABLE deployments (
    id                BLOB PRIMARY KEY,
    service_id        BLOB NOT NULL REFERENCES services (id),
    environment_id    BLOB NOT NULL REFERENCES environments (id),
    version           TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('deploy', 'rollback')),
    status            TEXT NOT NULL
                      CHECK (status IN ('queued', 'in_progress', 'succeeded', 'failed', 'cancelled', 'timed_out')),
    description       TEXT,
    created_by        TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    started_at        TEXT,
    finished_at       TEXT,
    previous_version  TEXT,
    rollback_to       BLOB,
    reason            TEXT,
    marked_bad        BOOLEAN NOT NULL DEFAULT 0,
    source            TEXT NOT NULL,
    external_id       TEXT,
    commit_sha        TEXT,
    commit_url        TEXT,
    ci_url            TEXT,
    committed_at      TEXT,
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
    service_id             BLOB NOT NULL REFERENCES services (id),
    environment_id         BLOB NOT NULL REFERENCES environments (id),
    current_deployment_id  BLOB REFERENCES deployments (id),
    current_version        TEXT,
    updated_at             TEXT NOT NULL,
    PRIMARY KEY (service_id, environment_id)
);

CREATE TABLE deployment_events (
    id             BLOB PRIMARY KEY,
    deployment_id  BLOB NOT NULL REFERENCES deployments (id),
    at             TEXT NOT NULL,
    status         TEXT,
    actor          TEXT NOT NULL,
    message        TEXT NOT NULL
);
CREATE INDEX deployment_events_deployment_idx ON deployment_events (deployment_id, id);

CREATE TABLE deployment_logs (
    deployment_id  BLOB NOT NULL REFERENCES deployments (id),
    n              INTEGER NOT NULL,
    at             TEXT NOT NULL,
    stream         TEXT NOT NULL,
    line           TEXT NOT NULL,
    PRIMARY KEY (deployment_id, n)
);

-- How deployments happen: per environment, optionally overridden per service.
CREATE TABLE executors (
    id              BLOB PRIMARY KEY,
    environment_id  BLOB NOT NULL REFERENCES environments (id),
    service_id      BLOB REFERENCES services (id),
    config          TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX executors_scope_key ON executors (environment_id, COALESCE(service_id, x'00'));

-- Webhook deliveries, stored before they are answered; a redelivery is a no-op.
CREATE TABLE inbox (
    id             BLOB PRIMARY KEY,
    source         TEXT NOT NULL,
    delivery_id    TEXT NOT NULL,
    received_at    TEXT NOT NULL,
    event_type     TEXT,
    body           TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('pending', 'applied', 'ignored', 'unmatched', 'failed')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    note           TEXT,
    processed_at   TEXT,
    CONSTRAINT inbox_delivery_key UNIQUE (source, delivery_id)
);
CREATE INDEX inbox_pending_idx ON inbox (state, received_at);
