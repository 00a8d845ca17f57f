-- The retention purge (--delivery_retention) finds sent and dead-lettered
-- deliveries by when they got there, and the 15-second gauges count dead
-- letters per channel: both walk only those rows, never the whole table.
CREATE INDEX deliveries_sent_time ON notify.deliveries (sent_time)
  WHERE state = 'sent';
CREATE INDEX deliveries_dead_letter
  ON notify.deliveries (channel, dead_letter_time)
  WHERE state = 'dead_letter';
