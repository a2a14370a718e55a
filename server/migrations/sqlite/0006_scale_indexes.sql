-- Indexes that deleting an account needs (the closure decision): SQLite looks up every child
-- table of `accounts` (and of `instances`, `ram_users`) when a parent row goes, and without an
-- index on the child's key each lookup scans the whole table. The closure job also deletes
-- the account's outbox rows and rate events by account and by email.
CREATE INDEX closures_account ON closures (account_id);
CREATE INDEX closure_checks_account ON closure_checks (account_id);
CREATE INDEX refunds_account ON refunds (account_id);
CREATE INDEX paypal_approvals_account ON paypal_approvals (account_id);
CREATE INDEX unsubscriptions_instance ON unsubscriptions (instance_id);
CREATE INDEX sessions_ram_user ON sessions (ram_user_id);
CREATE INDEX outbox_account ON outbox (account_id);
CREATE INDEX rate_events_subject ON rate_events (subject);

-- The unsubscribe list counts an account's running subscriptions by product, kind and refund
-- inputs for every page: read from this index alone, without visiting the table's rows.
CREATE INDEX instances_listing ON instances (account_id, status, billing, product, resource_kind, activated, used, created_at, id);

-- Batched claims of one kind of job (the closure decisions): due jobs of the kind in order.
CREATE INDEX jobs_kind_due ON jobs (kind, status, due_at);
