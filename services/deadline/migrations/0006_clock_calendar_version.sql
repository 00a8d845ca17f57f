-- Which version of its calendar a clock's due time was computed with, so
-- GetClock can say `calendars/vn-H26/versions/2` as intake stamps the
-- dossier `vn-H26@2`. 0 for clocks started before this column: their
-- version was not recorded, and guessing it would be a claim.
ALTER TABLE deadline.clocks
  ADD COLUMN calendar_version bigint NOT NULL DEFAULT 0;
