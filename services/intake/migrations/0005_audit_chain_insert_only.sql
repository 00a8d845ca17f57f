-- intake: the audit chain is sealed without rewriting audit rows. Each
-- entry's place in the chain (seq, prev_hash, hash) is a row of its own in
-- intake.audit_chain, inserted by the sealer; intake.audit rows are only
-- ever inserted. Rewriting every entry once (UPDATE … SET seq, prev_hash,
-- hash) was a second, non-HOT write of each row beside the requests'
-- inserts, with dead rows for autovacuum; the intake benchmark's
-- throughput ratio went from 0.77-0.79 to 0.78-0.82 without it
-- (docs/performance.md, fourth round).
--
-- Which entries are sealed is a position, not a flag: the sealer takes
-- entries in (xid, id) order, xid being the writing transaction's id, and
-- only those whose transaction is over (xid below the oldest transaction
-- still running in this database; SealAudit in pg_audit_store.cc). Such an
-- entry can no longer appear or change, so the order is final;
-- intake.audit_seal keeps where the chain ends.

ALTER TABLE intake.audit ADD COLUMN xid xid8;

CREATE TABLE intake.audit_chain (
  seq       bigint PRIMARY KEY,
  audit_id  bigint NOT NULL UNIQUE,  -- an entry is sealed once
  prev_hash text NOT NULL,
  hash      text NOT NULL
);

INSERT INTO intake.audit_chain (seq, audit_id, prev_hash, hash)
SELECT seq, id, prev_hash, hash FROM intake.audit WHERE seq IS NOT NULL;

-- Entries sealed before this migration sit at xid 0, at or before the
-- position below; entries not yet sealed at xid 1, after it, in id order.
UPDATE intake.audit SET xid = CASE WHEN seq IS NULL THEN '1'::xid8
                                   ELSE '0'::xid8 END;

CREATE TABLE intake.audit_seal (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  xid      xid8 NOT NULL,    -- the last sealed entry's (xid, id)
  id       bigint NOT NULL,
  seq      bigint NOT NULL,  -- and its place and hash in the chain
  hash     text NOT NULL
);

INSERT INTO intake.audit_seal (xid, id, seq, hash)
SELECT '0'::xid8, 9223372036854775807, coalesce(max(seq), 0),
       coalesce((SELECT hash FROM intake.audit_chain ORDER BY seq DESC
                 LIMIT 1), '')
FROM intake.audit_chain;

DROP INDEX intake.audit_seq;
DROP INDEX intake.audit_unsealed;
ALTER TABLE intake.audit
  DROP COLUMN seq,
  DROP COLUMN prev_hash,
  DROP COLUMN hash,
  ALTER COLUMN xid SET DEFAULT pg_current_xact_id(),
  ALTER COLUMN xid SET NOT NULL;
CREATE INDEX audit_xid ON intake.audit (xid, id);
