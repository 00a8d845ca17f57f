-- One sender per channel claims that channel's due deliveries, in time
-- order, without walking past another channel's backlog (a dead webhook
-- endpoint's retries, say).
CREATE INDEX deliveries_due_by_channel
  ON notify.deliveries (channel, next_attempt_time)
  WHERE state IN ('pending', 'failed');
