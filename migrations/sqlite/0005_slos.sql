-- SLOs on components and the history of their evaluations (for trend charts).
-- SQLite mirror of migrations/postgres/0005_slos.sql. The definition and latest evaluation
-- live in `body` (the wire `Slo` as JSON): they are read and written whole.

CREATE TABLE slos (
    id          BLOB PRIMARY KEY,
    component   TEXT NOT NULL,
    name        TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    CONSTRAINT slos_component_name_key UNIQUE (component, name)
);

CREATE TABLE slo_history (
    id                BLOB PRIMARY KEY,
    slo_id            BLOB NOT NULL REFERENCES slos (id) ON DELETE CASCADE,
    at                TEXT NOT NULL,
    current           REAL,
    budget_remaining  REAL,
    burn_rates        TEXT NOT NULL,
    error             TEXT
);
CREATE INDEX slo_history_slo_idx ON slo_history (slo_id, at);
