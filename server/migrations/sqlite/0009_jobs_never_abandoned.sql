-- Jobs are no longer abandoned after ten failures (SPEC §9: a job that moves money or decides a
-- closure is retried until it succeeds). The rows older versions marked `failed` go back to the
-- scheduler: a refund left in Processing settles, an account left closing is decided. Which of
-- them were abandoned wrongly cannot be told from here, and each job is idempotent (it reads its
-- subject's state first and finishes at once when there is nothing left to do), so all go back.
-- `due_at` is already past (the time of the last failure): they run at the scheduler's next
-- pass. `attempts` stays, so one that fails again is logged as stuck and `stuck-jobs` lists it.
-- The CHECK on `status` still allows 'failed': tightening it would mean rebuilding the table on
-- SQLite, and nothing writes it any more.
UPDATE jobs SET status = 'pending', lease_until = NULL WHERE status = 'failed';
