-- intake: audit entries are written by the request's transaction without
-- waiting for one another, and sealed into the hash chain right after
-- commit by one sealer at a time (SealAudit: it assigns `seq` in order and
-- the hashes). A request no longer holds a chain-wide lock until its commit,
-- which had serialised every change in the service.
--
-- Unsealed rows (seq IS NULL) are committed rows not yet chained; sealed
-- rows never change again: VerifyAuditChain finds any altered, deleted or
-- re-inserted sealed entry.

ALTER TABLE intake.audit DROP CONSTRAINT audit_pkey;
ALTER TABLE intake.audit ADD COLUMN id bigserial;
ALTER TABLE intake.audit ADD PRIMARY KEY (id);
ALTER TABLE intake.audit
  ALTER COLUMN seq DROP NOT NULL,
  ALTER COLUMN prev_hash DROP NOT NULL,
  ALTER COLUMN hash DROP NOT NULL;
CREATE UNIQUE INDEX audit_seq ON intake.audit (seq);
CREATE INDEX audit_unsealed ON intake.audit (id) WHERE seq IS NULL;
