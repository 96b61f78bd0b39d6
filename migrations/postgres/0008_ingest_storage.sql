-- Webhook bodies and alert notifications (a few KB) stay inline and uncompressed: compressing
-- each on insert (pglz) was a visible share of the ingest path's database CPU, and the alert
-- applier reads every one back moments later. Only bodies over a page are still TOASTed.
ALTER TABLE inbox SET (toast_tuple_target = 8160);

-- Live events are written once, read back as text (stream replay, the other replicas' poll)
-- and never queried inside: `json` keeps the text as sent, where `jsonb` parsed it into its
-- binary form on every insert and printed it again on every read.
ALTER TABLE events ALTER COLUMN data TYPE json USING data::json;
