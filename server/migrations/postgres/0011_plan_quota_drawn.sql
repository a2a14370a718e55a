-- Resource plans hold a quota of their product's pay-as-you-go usage, and that usage draws on
-- an active plan before it is billed (SPEC §5, issue 18 defect 2). Each paid period (order) of
-- a plan holds the product's quota (`shared::catalog::Quota`); `drawn_milli` is what usage drew
-- of it, in thousandths of the quota's unit. The usage job adds to it in the transaction that
-- moves the instance's `billed_until`, so an hour is drawn once. `instances.used` becomes 1 the
-- first time anything is drawn on the plan: from then on it is a Partial Refund.
ALTER TABLE orders ADD COLUMN drawn_milli BIGINT NOT NULL DEFAULT 0;
