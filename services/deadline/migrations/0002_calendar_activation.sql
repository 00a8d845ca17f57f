-- A calendar version may take effect later than it is stored (a decision
-- published ahead of time). The scanner recomputes open clocks when such a
-- version becomes effective and stamps applied_at; versions effective at
-- once are stamped by UpdateCalendar itself.
ALTER TABLE deadline.calendars ADD COLUMN applied_at timestamptz;
UPDATE deadline.calendars SET applied_at = created_at
  WHERE effective_from <= created_at;
CREATE INDEX calendars_pending ON deadline.calendars (effective_from)
  WHERE applied_at IS NULL;
