-- A provider's final report (delivered, failed) on a message no outbox row names yet: Twilio
-- may report before the sender has committed the SID Twilio gave it. Kept by that SID until
-- the sender commits it (then applied and deleted, in the same transaction), or a day, as
-- long as the outbox keeps its messages (then it was about no message of ours). Only the
-- provider's id and words: no row names an account or an address.
CREATE TABLE early_provider_reports (
    provider_id TEXT PRIMARY KEY,
    status      TEXT NOT NULL,
    error_code  TEXT,
    received_at BIGINT NOT NULL
);
