-- PostgreSQL's 0010 stores alert labels and annotations as `json` rather than `jsonb`; SQLite
-- already keeps them as text. Kept so both backends' migration histories have the same numbers.
SELECT 1;
