-- The sign-in attempt a rate event was counted for before its password was checked (issue 18):
-- while the check runs the event counts as a failure, so attempts sent at the same moment see
-- each other; a right password takes its event back, a wrong one sets this to NULL and the
-- event stays, a failure like any other. NULL for every event that is no such attempt.
ALTER TABLE rate_events ADD COLUMN attempt TEXT;
