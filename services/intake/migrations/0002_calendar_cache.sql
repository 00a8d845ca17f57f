-- intake: the last working-time calendar fetched from the deadline service,
-- so that a restarted intake keeps the authoritative calendar while the
-- deadline service is away (the bundled data/calendars/vn.json otherwise).

CREATE TABLE intake.calendar_cache (
  name        text PRIMARY KEY,      -- 'calendars/vn'
  version     text NOT NULL,         -- the label stamped on dossiers: 'vn@3'
  json        text NOT NULL,         -- the document libs/calendar reads
  fetched_at  timestamptz NOT NULL
);
