-- UpdateCalendar is idempotent on the client's request_id: a retry finds
-- the version the first call stored.
ALTER TABLE deadline.calendars ADD COLUMN request_id text UNIQUE;
