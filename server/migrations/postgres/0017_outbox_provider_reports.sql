-- A message a provider accepted keeps the provider's name for it (Twilio's SM… or CA… SID),
-- so the provider's delivery reports find it: what it last reported, and when it reported the
-- message delivered. A report of failure marks the message failed (`status`, `last_error`).
ALTER TABLE outbox ADD COLUMN provider_id TEXT;
ALTER TABLE outbox ADD COLUMN provider_status TEXT;
ALTER TABLE outbox ADD COLUMN delivered_at BIGINT;
CREATE INDEX outbox_provider_id ON outbox (provider_id) WHERE provider_id IS NOT NULL;
