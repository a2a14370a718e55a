-- Delivering a message is a `deliver_message` job on the job queue (its lease and retries), no
-- longer a lease and a due time kept on the outbox row: `next_attempt_at` and the `sending`
-- state go. A message leased when this ran is pending again; the server schedules its job at
-- the next start with a postman for its medium.
DROP INDEX outbox_due;
ALTER TABLE outbox DROP COLUMN next_attempt_at;
UPDATE outbox SET status = 'pending' WHERE status = 'sending';
