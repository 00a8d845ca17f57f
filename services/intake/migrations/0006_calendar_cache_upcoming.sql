-- intake: the versions of a calendar the deadline service lists to take
-- effect later are stored too, beside the one in force. Held in memory
-- only, they were lost when intake restarted while the deadline service
-- was away, and from such a version's effective time the receipts were
-- printed with the older one (deadline then moved the appointments, and
-- the citizen got a second message).
--
-- A table of their own: intake.calendar_cache keeps one row per calendar
-- (the version in force when stored) and its key, so the previous
-- release, still running during a rollout or after a rollback, reads and
-- writes it as before. A version coming into force replaces the row in
-- force and deletes the upcoming rows numbered up to it (StoreCalendar);
-- an upcoming version the deadline service no longer lists is deleted on
-- a later refresh (PruneStoredCalendars), and a calendar it no longer has
-- goes whole (ForgetCalendar).

CREATE TABLE intake.calendar_cache_upcoming (
  name          text        NOT NULL,  -- 'calendars/vn'
  version       text        NOT NULL,  -- the label: 'vn@4'
  json          text        NOT NULL,  -- the document libs/calendar reads
  fetched_at    timestamptz NOT NULL,
  takes_effect  timestamptz NOT NULL,  -- when it takes over
  PRIMARY KEY (name, version)
);
