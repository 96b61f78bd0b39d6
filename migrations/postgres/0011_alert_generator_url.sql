-- The link back to what raised an alert: Alertmanager's `generatorURL` (the Prometheus graph of
-- the rule's expression), or a generic sender's `generator_url`. Nullable, so adding it rewrites
-- nothing.
ALTER TABLE alerts ADD COLUMN generator_url TEXT;
