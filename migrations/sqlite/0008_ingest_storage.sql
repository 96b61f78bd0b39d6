-- PostgreSQL's 0008 keeps inbox bodies inline and uncompressed and stores live-event payloads as
-- `json`; SQLite already stores both as plain text. Kept so both backends' migration histories
-- have the same numbers.
SELECT 1;
