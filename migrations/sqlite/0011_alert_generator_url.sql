-- The link back to what raised an alert (Alertmanager's `generatorURL`); see PostgreSQL's 0011.
ALTER TABLE alerts ADD COLUMN generator_url TEXT;
