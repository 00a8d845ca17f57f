-- Deadline service schema: calendars as versioned data, one clock per
-- dossier and per leg, pre-aggregated report counters, audit.
-- All timestamps UTC (timestamptz); working durations in microseconds.

CREATE TABLE deadline.calendars (
  calendar_id    text        NOT NULL,  -- 'vn', 'vn-H26'
  version        bigint      NOT NULL,
  effective_from timestamptz NOT NULL,
  data           text        NOT NULL,  -- calendar JSON (libs/calendar)
  created_at     timestamptz NOT NULL,
  created_by     text        NOT NULL,
  reason         text        NOT NULL DEFAULT '',
  PRIMARY KEY (calendar_id, version)
);

CREATE TABLE deadline.clocks (
  name                 text        PRIMARY KEY,  -- dossiers/{code}[/legs/{leg}]
  kind                 smallint    NOT NULL,     -- 1 dossier, 2 leg
  dossier_code         text        NOT NULL,
  leg_id               text        NOT NULL DEFAULT '',
  agency_code          text        NOT NULL,
  agency_tier          smallint    NOT NULL,
  -- ancestors root first, then the agency itself: subtree = path @> {code}
  agency_path          text[]      NOT NULL,
  procedure_code       text        NOT NULL,
  calendar_id          text        NOT NULL,
  limit_us             bigint      NOT NULL,
  cutoff_minute        integer,
  supplement_policy    smallint    NOT NULL,
  received_at          timestamptz NOT NULL,
  original_due_at      timestamptz NOT NULL,
  run_started_at       timestamptz NOT NULL,
  counting_starts      timestamptz NOT NULL,
  consumed_before_us   bigint      NOT NULL,
  due_at               timestamptz NOT NULL,
  due_soon_at          timestamptz NOT NULL,
  state                smallint    NOT NULL,  -- 1 running, 2 paused, 3 stopped
  due_soon_fired       boolean     NOT NULL,
  overdue_fired        boolean     NOT NULL,
  paused_at            timestamptz,
  stopped_at           timestamptz,
  stop_reason          smallint    NOT NULL DEFAULT 0,
  outcome              smallint    NOT NULL DEFAULT 0,
  new_appointment      timestamptz,
  next_fire_at         timestamptz,
  version              bigint      NOT NULL
);

-- The scanner reads only what is due: its cost grows with the number due,
-- not the number pending.
CREATE INDEX clocks_next_fire ON deadline.clocks (next_fire_at)
  WHERE next_fire_at IS NOT NULL;
CREATE INDEX clocks_dossier ON deadline.clocks (dossier_code);
-- ListDueSoon / ListOverdue by agency subtree, paged by (due_at, name).
CREATE INDEX clocks_open_path ON deadline.clocks USING gin (agency_path)
  WHERE state <> 3;
CREATE INDEX clocks_open_due ON deadline.clocks (due_at, name)
  WHERE state <> 3;
CREATE INDEX clocks_open_calendar ON deadline.clocks (calendar_id, name)
  WHERE state = 1;

-- Report counters per (scope, via, day, kind, procedure, tier): scope is the
-- clock's agency or one of its ancestors, via the child of scope on the path
-- to the clock's agency (scope itself at its own level). A subtree's report
-- reads the rows of one scope only.
CREATE TABLE deadline.report_daily (
  scope            text     NOT NULL,
  via              text     NOT NULL,
  day              date     NOT NULL,  -- local (calendar time zone) day
  kind             smallint NOT NULL,
  procedure_code   text     NOT NULL,
  tier             smallint NOT NULL,  -- tier of the clock's agency
  received         bigint   NOT NULL DEFAULT 0,
  finished_early   bigint   NOT NULL DEFAULT 0,
  finished_on_time bigint   NOT NULL DEFAULT 0,
  finished_late    bigint   NOT NULL DEFAULT 0,
  PRIMARY KEY (scope, kind, day, via, procedure_code, tier)
);

-- What is open now (not per day).
CREATE TABLE deadline.report_open (
  scope          text     NOT NULL,
  via            text     NOT NULL,
  kind           smallint NOT NULL,
  procedure_code text     NOT NULL,
  tier           smallint NOT NULL,
  open_on_time   bigint   NOT NULL DEFAULT 0,
  open_overdue   bigint   NOT NULL DEFAULT 0,
  PRIMARY KEY (scope, kind, via, procedure_code, tier)
);

-- Append-only trail of admin changes.
CREATE TABLE deadline.audit_log (
  id     bigserial   PRIMARY KEY,
  actor  text        NOT NULL,
  action text        NOT NULL,
  target text        NOT NULL,
  detail text        NOT NULL,
  at     timestamptz NOT NULL
);

-- Exact microsecond conversions for the store (no float rounding).
CREATE FUNCTION deadline.us_to_ts(us bigint) RETURNS timestamptz
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT 'epoch'::timestamptz + us * interval '1 microsecond' $$;
CREATE FUNCTION deadline.ts_to_us(ts timestamptz) RETURNS bigint
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT (extract(epoch FROM ts) * 1000000)::bigint $$;
