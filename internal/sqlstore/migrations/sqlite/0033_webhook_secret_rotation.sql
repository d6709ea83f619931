-- A webhook's secret replaced keeps signing beside the new one for a day:
-- receivers move to the new one without missing a message.
ALTER TABLE webhooks ADD COLUMN old_secret BLOB;
ALTER TABLE webhooks ADD COLUMN old_secret_until INTEGER NOT NULL DEFAULT 0;
