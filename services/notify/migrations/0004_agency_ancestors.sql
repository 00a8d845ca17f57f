-- Each agency's ancestors (its district, the city), learned from the events
-- that carry them (intake's DossierReceived, routing's TaskDispatched). Clock
-- events (deadline's ClockDueSoon / ClockOverdue) name only the responsible
-- agency; with this the supervisors above it hear of them through the
-- webhooks of their own agency.
CREATE TABLE notify.agency_ancestors (
  agency_code text        PRIMARY KEY,
  ancestors   text[]      NOT NULL,
  update_time timestamptz NOT NULL
);
