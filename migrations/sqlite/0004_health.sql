-- The Infrastructure Health Dashboard: components, alert episodes and their triage history.
-- SQLite mirror of migrations/postgres/0004_health.sql (types as in 0001).

CREATE TABLE components (
    id              BLOB PRIMARY KEY,
    slug            TEXT NOT NULL,
    name            TEXT NOT NULL,
    grp             TEXT,
    service         TEXT,
    tier            INTEGER,
    depends_on      TEXT NOT NULL,
    matchers        TEXT NOT NULL,
    maintenance     TEXT NOT NULL,
    status          TEXT NOT NULL
                    CHECK (status IN ('operational', 'degraded', 'partial_outage', 'major_outage', 'maintenance', 'unknown')),
    status_reasons  TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    CONSTRAINT components_slug_key UNIQUE (slug)
);

-- One row per episode: a fingerprint's firing from starts_at (kept to the millisecond) on.
CREATE TABLE alerts (
    id                BLOB PRIMARY KEY,
    source            TEXT NOT NULL,
    fingerprint       TEXT NOT NULL,
    starts_at         TEXT NOT NULL,
    name              TEXT NOT NULL,
    severity          TEXT NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
    source_status     TEXT NOT NULL CHECK (source_status IN ('firing', 'resolved')),
    state             TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'escalated', 'resolved')),
    escalation_level  INTEGER NOT NULL,
    component         TEXT,
    labels            TEXT NOT NULL,
    annotations       TEXT NOT NULL,
    ends_at           TEXT,
    acknowledged_by   TEXT,
    acknowledged_at   TEXT,
    last_note         TEXT,
    received_at       TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    CONSTRAINT alerts_episode_key UNIQUE (source, fingerprint, starts_at)
);
CREATE INDEX alerts_component_idx ON alerts (component, state);

CREATE TABLE alert_events (
    id                BLOB PRIMARY KEY,
    alert_id          BLOB NOT NULL REFERENCES alerts (id),
    at                TEXT NOT NULL,
    actor             TEXT NOT NULL,
    action            TEXT NOT NULL,
    from_state        TEXT,
    to_state          TEXT NOT NULL,
    escalation_level  INTEGER NOT NULL,
    target            TEXT,
    note              TEXT
);
CREATE INDEX alert_events_alert_idx ON alert_events (alert_id, id);
