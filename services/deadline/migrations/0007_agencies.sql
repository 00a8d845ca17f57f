-- The agency tree as the clocks have named it: each code with its
-- ancestors, root first. The subtree check reads it by key; it searched
-- every clock ever stored (the open-clock index does not cover stopped
-- ones), tens of milliseconds per call at 200,000 clocks and growing.
CREATE TABLE deadline.agencies (
  code      text PRIMARY KEY,
  ancestors text[] NOT NULL
);

INSERT INTO deadline.agencies (code, ancestors)
SELECT DISTINCT ON (p[i]) p[i], p[1:i - 1]
FROM (SELECT agency_path AS p, received_at FROM deadline.clocks) c,
     generate_subscripts(c.p, 1) AS i
ORDER BY p[i], received_at DESC;
