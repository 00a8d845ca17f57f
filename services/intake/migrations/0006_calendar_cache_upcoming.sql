-- intake: the versions of a calendar the deadline service lists to take
-- effect later are stored too, beside the one in force. Held in memory
-- only, they were lost when intake restarted while the deadline service
-- was away, and from such a version's effective time the receipts were
-- printed with the older one (deadline then moved the appointments, and
-- the citizen got a second message).
--
-- A calendar has one row in force (takes_effect NULL: the version in force
-- when it was stored) and a row per upcoming version, with the time it
-- takes over. A version coming into force replaces the row in force and
-- deletes the upcoming rows numbered up to it (StoreCalendar); an upcoming
-- version the deadline service no longer lists is deleted on the next
-- refresh (PruneStoredCalendars), and a calendar it no longer has goes
-- whole (ForgetCalendar).

ALTER TABLE intake.calendar_cache ADD COLUMN takes_effect timestamptz;

ALTER TABLE intake.calendar_cache DROP CONSTRAINT calendar_cache_pkey;
ALTER TABLE intake.calendar_cache ADD PRIMARY KEY (name, version);
CREATE UNIQUE INDEX calendar_cache_in_force ON intake.calendar_cache (name)
  WHERE takes_effect IS NULL;
