-- A failed closure keeps why it failed as facts, which the console words: the JSON of the
-- shared `ClosureFailure` (`{"overdue": [{"amount": "0.02", "currency": "USD"}]}`, one total
-- per currency) instead of an English sentence. The sentences written before name their
-- totals only in words, so they keep none: the console still says that the closure failed
-- and why, without the figure.
UPDATE closures SET failure = '{"overdue":[]}' WHERE failure IS NOT NULL;
