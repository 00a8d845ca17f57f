-- Routes (one per dossier), their tasks, the per-agency feed that
-- WatchTasks resumes from, hand-over records, idempotency records and the
-- denied-attempt audit.

CREATE TABLE routing.routes (
  dossier          text PRIMARY KEY,
  state            integer NOT NULL,
  receiving_agency text NOT NULL,
  received         bytea NOT NULL,  -- the DossierReceived event it came from
  created_at       timestamptz NOT NULL,
  finished_at      timestamptz
);

CREATE TABLE routing.tasks (
  id            bigserial PRIMARY KEY,
  dossier       text NOT NULL REFERENCES routing.routes (dossier),
  leg_id        text NOT NULL,
  agency        text NOT NULL,
  state         integer NOT NULL,
  lease_expires timestamptz,
  ready_at      timestamptz,
  body          bytea NOT NULL,  -- lienthong.routing.v1.Task
  UNIQUE (dossier, leg_id)
);
CREATE INDEX tasks_agency_state ON routing.tasks (agency, state, id);
CREATE INDEX tasks_leases ON routing.tasks (lease_expires)
  WHERE lease_expires IS NOT NULL;

-- Every time a task becomes READY it gets a feed row; a watcher's cursor is
-- the last seq it received, so a reconnecting watcher misses nothing.
CREATE TABLE routing.task_feed (
  seq     bigserial PRIMARY KEY,
  agency  text NOT NULL,
  task_id bigint NOT NULL,
  at      timestamptz NOT NULL
);
CREATE INDEX task_feed_agency ON routing.task_feed (agency, seq);

CREATE TABLE routing.handovers (
  id      bigserial PRIMARY KEY,
  dossier text NOT NULL,
  body    bytea NOT NULL  -- lienthong.routing.v1.Handover
);
CREATE INDEX handovers_dossier ON routing.handovers (dossier, id);

CREATE TABLE routing.idempotency (
  request_id   text PRIMARY KEY,
  method       text NOT NULL,
  request_hash text NOT NULL,
  response     bytea NOT NULL
);

CREATE TABLE routing.audit (
  id       bigserial PRIMARY KEY,
  at       timestamptz NOT NULL,
  agency   text NOT NULL,
  subject  text NOT NULL,
  role     text NOT NULL,
  peer     text NOT NULL,
  action   text NOT NULL,
  resource text NOT NULL,
  outcome  text NOT NULL
);
