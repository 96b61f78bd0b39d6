-- PostgreSQL's 0009 drops the foreign key from alert history to alerts (a trigger query per row
-- there). SQLite checks foreign keys inline, and dropping one would mean rebuilding the table,
-- so it keeps it. Kept so both backends' migration histories have the same numbers.
SELECT 1;
