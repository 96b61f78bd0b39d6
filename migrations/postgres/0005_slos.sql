-- SLOs on components and the history of their evaluations (for trend charts).
-- The definition and latest evaluation live in `body` (the wire `Slo` as JSON): they are read
-- and written whole.

CREATE TABLE slos (
    id          UUID PRIMARY KEY,
    component   TEXT NOT NULL,
    name        TEXT NOT NULL,
    body        JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT slos_component_name_key UNIQUE (component, name)
);

CREATE TABLE slo_history (
    id                UUID PRIMARY KEY,
    slo_id            UUID NOT NULL REFERENCES slos (id) ON DELETE CASCADE,
    at                TIMESTAMPTZ NOT NULL,
    current           DOUBLE PRECISION,
    budget_remaining  DOUBLE PRECISION,
    burn_rates        JSONB NOT NULL,
    error             TEXT
);
CREATE INDEX slo_history_slo_idx ON slo_history (slo_id, at);
