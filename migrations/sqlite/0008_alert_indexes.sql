-- Alerts at scale (10,000 components, 1,000,000 stored alerts, nearly all resolved long ago).
-- The live alerts of a component — firing and not resolved by hand — are what the status rollup
-- reads on every ingest and what the health grid counts; a partial index keeps that lookup
-- proportional to the live alerts, not to the component's whole history.
CREATE INDEX alerts_live_idx ON alerts (component, severity)
    WHERE source_status = 'firing' AND state <> 'resolved';
