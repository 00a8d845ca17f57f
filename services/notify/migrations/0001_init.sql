-- The notify schema; tables arrive with the notify service.
CREATE TABLE notify.service_info (key text PRIMARY KEY, value text NOT NULL);
