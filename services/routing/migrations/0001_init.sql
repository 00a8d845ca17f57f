-- The routing schema; tables arrive with the routing service.
CREATE TABLE routing.service_info (key text PRIMARY KEY, value text NOT NULL);
