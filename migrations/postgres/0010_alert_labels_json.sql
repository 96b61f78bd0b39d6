-- Alert labels and annotations are written whole and read whole, never queried inside (routing
-- matches them in the server). `json` keeps the text as sent; `jsonb` parsed it into its binary
-- form on every insert (ten alerts per Alertmanager notification, two maps each) and printed it
-- again on every read of the feed. Nothing compares or indexes these columns, which `json`
-- could not.
ALTER TABLE alerts
    ALTER COLUMN labels TYPE json USING labels::json,
    ALTER COLUMN annotations TYPE json USING annotations::json;
