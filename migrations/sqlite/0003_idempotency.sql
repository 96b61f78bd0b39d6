-- Responses to creating POSTs that carried an Idempotency-Key, so a retried request gets the
-- same answer instead of a second deployment.
CREATE TABLE idempotency_keys (
    actor           TEXT NOT NULL,
    endpoint        TEXT NOT NULL,
    key             TEXT NOT NULL,
    request_digest  TEXT NOT NULL,
    status          INTEGER NOT NULL,
    response        TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (actor, endpoint, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
