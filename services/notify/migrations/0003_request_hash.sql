-- SendNotification keeps a digest of its request, so a retry with the same
-- request_id and another body is refused (REQUEST_ID_REUSED) instead of
-- silently answering with the first delivery.
ALTER TABLE notify.deliveries ADD COLUMN request_hash text NOT NULL DEFAULT '';
