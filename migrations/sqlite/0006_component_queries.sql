-- Per-component drill-down queries, and indexes for the health grid and the auto-escalator.
-- SQLite mirror of migrations/postgres/0006_component_queries.sql.

-- `[]`: the three default metric queries; `''`: the default log query. Both are read whole.
ALTER TABLE components ADD COLUMN metric_queries TEXT NOT NULL DEFAULT '[]';
ALTER TABLE components ADD COLUMN log_query TEXT NOT NULL DEFAULT '';

-- The grid counts live alerts per component and severity in one query; with a million stored
-- alerts, nearly all resolved, this partial index holds only the live ones (and answers the
-- count on its own).
CREATE INDEX alerts_live_idx ON alerts (component, severity)
    WHERE state <> 'resolved' AND source_status = 'firing';

-- The auto-escalator's candidates: open, firing, critical, oldest first.
CREATE INDEX alerts_escalation_idx ON alerts (starts_at)
    WHERE state = 'open' AND source_status = 'firing' AND severity = 'critical';
