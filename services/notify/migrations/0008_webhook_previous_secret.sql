-- Changing a webhook's secret keeps the one it replaced for a while
-- (RegisterWebhook, --webhook_secret_overlap, 24 h by default): deliveries
-- carry a v1= signature under each, so a receiver still configured with
-- the old secret keeps accepting them until it has switched. Sealed like
-- `secret` when a key is configured.
ALTER TABLE notify.webhooks
  ADD COLUMN previous_secret             text,
  ADD COLUMN previous_secret_expire_time timestamptz;
