-- The audit trail says from where (the caller's peer address) and how it
-- ended: OK for a change, PERMISSION_DENIED for a refused attempt.
ALTER TABLE deadline.audit_log
  ADD COLUMN peer    text NOT NULL DEFAULT '',
  ADD COLUMN outcome text NOT NULL DEFAULT 'OK';
