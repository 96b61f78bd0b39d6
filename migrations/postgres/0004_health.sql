-- The Infrastructure Health Dashboard: components, alert episodes and their triage history.

CREATE TABLE components (
    id              UUID PRIMARY KEY,
    slug            TEXT NOT NULL,
    name            TEXT NOT NULL,
    grp             TEXT,
    service         TEXT,
    tier            INTEGER,
    depends_on      JSONB NOT NULL,
    matchers        JSONB NOT NULL,
    maintenance     JSONB NOT NULL,
    status          TEXT NOT NULL
                    CHECK (status IN ('operational', 'degraded', 'partial_outage', 'major_outage', 'maintenance', 'unknown')),
    status_reasons  JSONB NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT components_slug_key UNIQUE (slug)
);

-- One row per episode: a fingerprint's firing from starts_at (kept to the millisecond) on.
CREATE TABLE alerts (
    id                UUID PRIMARY KEY,
    source            TEXT NOT NULL,
    fingerprint       TEXT NOT NULL,
    starts_at         TIMESTAMPTZ NOT NULL,
    name              TEXT NOT NULL,
    severity          TEXT NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
    source_status     TEXT NOT NULL CHECK (source_status IN ('firing', 'resolved')),
    state             TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'escalated', 'resolved')),
    escalation_level  INTEGER NOT NULL,
    component         TEXT,
    labels            JSONB NOT NULL,
    annotations       JSONB NOT NULL,
    ends_at           TIMESTAMPTZ,
    acknowledged_by   TEXT,
    acknowledged_at   TIMESTAMPTZ,
    last_note         TEXT,
    received_at       TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    CONSTRAINT alerts_episode_key UNIQUE (source, fingerprint, starts_at)
);
CREATE INDEX alerts_component_idx ON alerts (component, state);

CREATE TABLE alert_events (
    id                UUID PRIMARY KEY,
    alert_id          UUID NOT NULL REFERENCES alerts (id),
    at                TIMESTAMPTZ NOT NULL,
    actor             TEXT NOT NULL,
    action            TEXT NOT NULL,
    from_state        TEXT,
    to_state          TEXT NOT NULL,
    escalation_level  INTEGER NOT NULL,
    target            TEXT,
    note              TEXT
);
CREATE INDEX alert_events_alert_idx ON alert_events (alert_id, id);
