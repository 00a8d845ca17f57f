-- Append-only trail of what callers changed through the API (sends,
-- replays, templates, webhooks) and of every refused attempt: who (agency,
-- subject, role), from where (peer), when, what, on which resource, the
-- outcome and the caller's request_id. Rows are never updated or deleted;
-- the trigger refuses both.
CREATE TABLE notify.audit (
  id         bigserial   PRIMARY KEY,
  at         timestamptz NOT NULL,
  agency     text        NOT NULL,
  subject    text        NOT NULL,
  role       text        NOT NULL,
  peer       text        NOT NULL,
  action     text        NOT NULL,
  resource   text        NOT NULL,
  outcome    text        NOT NULL,  -- OK | PERMISSION_DENIED
  request_id text        NOT NULL DEFAULT ''
);
CREATE INDEX audit_resource ON notify.audit (resource, id);

CREATE FUNCTION notify.audit_is_append_only() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'notify.audit is append-only';
END $$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON notify.audit
  FOR EACH ROW EXECUTE FUNCTION notify.audit_is_append_only();
