-- intake: agencies, procedures, dossiers, their transitions, idempotency
-- records, the hash-chained audit trail and lookup throttling.
-- Resources are stored as their protobuf encoding (`body`) beside the
-- columns that queries filter and sort on.

CREATE TABLE intake.agencies (
  code        text PRIMARY KEY,
  parent_code text,
  -- '/root/.../code/': a subtree is `path LIKE '<root path>%'`.
  path        text NOT NULL,
  tier        integer NOT NULL,
  kind        integer NOT NULL,
  body        bytea NOT NULL,
  updated_at  timestamptz NOT NULL
);
CREATE INDEX agencies_parent ON intake.agencies (parent_code, code);
CREATE INDEX agencies_path ON intake.agencies (path text_pattern_ops);

CREATE TABLE intake.procedures (
  code         text NOT NULL,
  version      integer NOT NULL,
  effective_at timestamptz NOT NULL,
  body         bytea NOT NULL,
  created_at   timestamptz NOT NULL,
  PRIMARY KEY (code, version)
);

-- One counter row per receiving agency and local day: incremented in the
-- transaction that inserts the dossier, so codes are unique and gap-free
-- under any concurrency and any number of replicas.
CREATE TABLE intake.dossier_sequences (
  agency_code text NOT NULL,
  day         date NOT NULL,
  last_value  integer NOT NULL,
  PRIMARY KEY (agency_code, day)
);

CREATE TABLE intake.dossiers (
  code           text PRIMARY KEY,
  agency_code    text NOT NULL,
  agency_path    text NOT NULL,
  procedure_code text NOT NULL,
  state          integer NOT NULL,
  receive_time   timestamptz NOT NULL,
  phone_last4    text NOT NULL,
  body           bytea NOT NULL,
  updated_at     timestamptz NOT NULL
);
CREATE INDEX dossiers_subtree ON intake.dossiers (agency_path text_pattern_ops);
CREATE INDEX dossiers_received ON intake.dossiers (receive_time DESC, code DESC);

CREATE TABLE intake.transitions (
  id            bigserial PRIMARY KEY,
  dossier_code  text NOT NULL REFERENCES intake.dossiers (code),
  at            timestamptz NOT NULL,
  from_state    integer NOT NULL,
  to_state      integer NOT NULL,
  actor_agency  text NOT NULL,
  actor_subject text NOT NULL,
  peer          text NOT NULL,
  reason        text NOT NULL
);
CREATE INDEX transitions_dossier ON intake.transitions (dossier_code, id);

CREATE TABLE intake.idempotency (
  request_id   text PRIMARY KEY,
  method       text NOT NULL,
  request_hash text NOT NULL,
  response     bytea NOT NULL,
  created_at   timestamptz NOT NULL
);

-- Append-only: the service only INSERTs; each row chains the previous hash.
CREATE TABLE intake.audit (
  seq           bigint PRIMARY KEY,
  at            timestamptz NOT NULL,
  at_nanos      integer NOT NULL,
  actor_agency  text NOT NULL,
  actor_subject text NOT NULL,
  actor_role    text NOT NULL,
  peer          text NOT NULL,
  action        text NOT NULL,
  resource      text NOT NULL,
  outcome       text NOT NULL,
  request_id    text NOT NULL,
  prev_hash     text NOT NULL,
  hash          text NOT NULL
);

CREATE TABLE intake.lookup_failures (
  code         text PRIMARY KEY,
  failures     integer NOT NULL,
  window_start timestamptz NOT NULL
);
