-- Templates (versioned), webhooks, deliveries (one per event, recipient,
-- channel), their attempts, and request ids for idempotent admin calls.

-- Microseconds since the epoch, for reading times back exactly.
CREATE FUNCTION notify.us(t timestamptz) RETURNS bigint
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT (extract(epoch FROM t) * 1000000)::bigint $$;

CREATE TABLE notify.templates (
  event_type  text        NOT NULL,
  channel     text        NOT NULL CHECK (channel IN ('sms', 'email', 'webhook')),
  version     int         NOT NULL CHECK (version > 0),
  subject     text        NOT NULL DEFAULT '',
  body        text        NOT NULL,
  create_time timestamptz NOT NULL,
  request_id  text        UNIQUE,
  PRIMARY KEY (event_type, channel, version)
);

CREATE TABLE notify.webhooks (
  id          uuid        PRIMARY KEY,
  agency_code text        NOT NULL,
  url         text        NOT NULL,
  secret      text        NOT NULL,
  event_types text[]      NOT NULL DEFAULT '{}',
  create_time timestamptz NOT NULL,
  update_time timestamptz NOT NULL,
  delete_time timestamptz,
  request_id  text        UNIQUE
);
CREATE INDEX webhooks_agency ON notify.webhooks (agency_code)
  WHERE delete_time IS NULL;

CREATE TABLE notify.deliveries (
  id                uuid        PRIMARY KEY,
  event_id          text        NOT NULL,
  event_type        text        NOT NULL,
  dossier           text        NOT NULL DEFAULT '',
  channel           text        NOT NULL CHECK (channel IN ('sms', 'email', 'webhook')),
  -- Phone, e-mail address or webhook id: never logged, shown masked.
  recipient         text        NOT NULL,
  masked_recipient  text        NOT NULL,
  citizen           boolean     NOT NULL,
  webhook_id        uuid        REFERENCES notify.webhooks (id),
  subject           text        NOT NULL DEFAULT '',
  body              text        NOT NULL,
  preview           text        NOT NULL DEFAULT '',
  sms_segments      int         NOT NULL DEFAULT 0,
  state             text        NOT NULL CHECK (state IN
                      ('pending', 'sending', 'sent', 'failed', 'dead_letter')),
  attempts          int         NOT NULL DEFAULT 0,  -- since the last replay
  next_attempt_time timestamptz NOT NULL,
  lease_until       timestamptz,
  claim_token       uuid,
  create_time       timestamptz NOT NULL,
  sent_time         timestamptz,
  dead_letter_time  timestamptz,
  request_id        text        UNIQUE,  -- SendNotification
  replay_request_id text,
  UNIQUE (event_id, recipient, channel)
);
-- What the senders claim: due pending/failed rows and expired leases.
CREATE INDEX deliveries_due ON notify.deliveries (next_attempt_time)
  WHERE state IN ('pending', 'failed');
CREATE INDEX deliveries_leased ON notify.deliveries (lease_until)
  WHERE state = 'sending';
CREATE INDEX deliveries_dossier ON notify.deliveries (dossier, create_time DESC, id DESC);
CREATE INDEX deliveries_recipient ON notify.deliveries (recipient, create_time DESC, id DESC);
CREATE INDEX deliveries_state ON notify.deliveries (state, create_time DESC, id DESC);
CREATE INDEX deliveries_created ON notify.deliveries (create_time DESC, id DESC);

CREATE TABLE notify.attempts (
  delivery_id   uuid        NOT NULL REFERENCES notify.deliveries (id),
  n             int         NOT NULL,
  attempt_time  timestamptz NOT NULL,
  response_code int         NOT NULL,
  latency_us    bigint      NOT NULL,
  error         text        NOT NULL DEFAULT '',
  success       boolean     NOT NULL,
  PRIMARY KEY (delivery_id, n)
);
