-- An alert's history rows are written only by the transaction that holds the alert row (the
-- applier inserts the episode and its `fire` row together; triage locks the alert first), and
-- alerts are never deleted. The foreign key therefore guarded nothing, yet PostgreSQL checked it
-- with one trigger query per inserted history row: over half the cost of the history insert in
-- an alert storm. SQLite's foreign keys stay: it checks them inline, at the cost of an index probe.
ALTER TABLE alert_events DROP CONSTRAINT alert_events_alert_id_fkey;
