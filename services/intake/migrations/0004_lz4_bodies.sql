-- Dossier bodies and stored responses pass TOAST's ~2 kB threshold on most
-- submissions; lz4 compresses them at a fraction of pglz's CPU (pglz was
-- the largest single function in PostgreSQL's profile of the intake
-- benchmark). Rows already stored keep their compression.
ALTER TABLE intake.dossiers ALTER COLUMN body SET COMPRESSION lz4;
ALTER TABLE intake.idempotency ALTER COLUMN response SET COMPRESSION lz4;
ALTER TABLE intake.procedures ALTER COLUMN body SET COMPRESSION lz4;
