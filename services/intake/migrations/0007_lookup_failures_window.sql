-- Failed lookups are counted per code for a window (--lookup_window); rows
-- whose window has passed are deleted a few at a time as new failures come
-- in, found by this index.
CREATE INDEX lookup_failures_window ON intake.lookup_failures (window_start);
