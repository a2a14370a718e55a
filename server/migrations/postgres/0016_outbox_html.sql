-- An email is sent with a plain-text and an HTML part, both worded from the notice's templates
-- when the message is queued. Messages queued before have no HTML part and go as plain text.
ALTER TABLE outbox ADD COLUMN html TEXT;
