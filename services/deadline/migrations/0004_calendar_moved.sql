-- What a calendar change moved, so a retried UpdateCalendar returns it.
ALTER TABLE deadline.calendars ADD COLUMN moved text NOT NULL DEFAULT '';
