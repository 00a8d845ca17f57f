-- ReplayDelivery refuses a request_id already used to replay another
-- delivery: looked up by this index (replays are few, so is the index).
CREATE INDEX deliveries_replay_request ON notify.deliveries (replay_request_id)
  WHERE replay_request_id IS NOT NULL;
