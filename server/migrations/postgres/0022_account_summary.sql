-- What the account's own view shows of its other tables, kept on its row: whether it has a
-- billing address, a payment method, a real-name registration and the free credit, and its
-- credit balance (the sum of its entries in the credit bucket, in USD). Every signed-in page
-- reads the view; it used to run five subqueries for these, and now reads one row.
--
-- Triggers keep them, so no write path can forget one: an insert sets its flag or adds its
-- amount, and a delete, or an update of what a figure depends on, computes the figures again
-- from the rows, as the view's subqueries did. The SQLite twin of this file does the same.

ALTER TABLE accounts
    ADD COLUMN has_address INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN has_method INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN real_name INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN credit_granted INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN credit_minor BIGINT NOT NULL DEFAULT 0;

-- The figures of `account`, computed again from its rows. The account's row is locked first,
-- so that the recount (a statement of its own, with a snapshot of its own) sees every write
-- committed before it: an insert that added to a figure while this waited is counted, not
-- overwritten. No row to lock means the account is being deleted with its rows (a cascade):
-- there is nothing to keep.
CREATE FUNCTION account_summary_recount(account TEXT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM accounts WHERE id = account FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    UPDATE accounts a SET
        has_address = (EXISTS (SELECT 1 FROM billing_addresses t WHERE t.account_id = a.id))::int,
        has_method = (EXISTS (SELECT 1 FROM payment_methods t WHERE t.account_id = a.id))::int,
        real_name = (EXISTS (SELECT 1 FROM real_name_registrations t WHERE t.account_id = a.id))::int,
        credit_granted = (EXISTS (SELECT 1 FROM ledger_entries t
                                  WHERE t.account_id = a.id AND t.kind = 'free_credit'))::int,
        credit_minor = (SELECT COALESCE(SUM(t.amount_minor), 0) FROM ledger_entries t
                        WHERE t.account_id = a.id AND t.bucket = 'credit' AND t.currency = 'USD')
    WHERE a.id = account;
END $$;

SELECT account_summary_recount(id) FROM accounts ORDER BY id;

-- A row added: its flag set, or its amount added.
CREATE FUNCTION account_summary_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'billing_addresses' THEN
        UPDATE accounts SET has_address = 1 WHERE id = NEW.account_id;
    ELSIF TG_TABLE_NAME = 'payment_methods' THEN
        UPDATE accounts SET has_method = 1 WHERE id = NEW.account_id;
    ELSIF TG_TABLE_NAME = 'real_name_registrations' THEN
        UPDATE accounts SET real_name = 1 WHERE id = NEW.account_id;
    ELSE
        UPDATE accounts SET
            credit_granted = CASE WHEN NEW.kind = 'free_credit' THEN 1 ELSE credit_granted END,
            credit_minor = credit_minor
                + CASE WHEN NEW.bucket = 'credit' AND NEW.currency = 'USD' THEN NEW.amount_minor ELSE 0 END
        WHERE id = NEW.account_id;
    END IF;
    RETURN NULL;
END $$;

-- A row deleted, or what a figure depends on changed: the figures computed again.
CREATE FUNCTION account_summary_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.account_id <> OLD.account_id THEN
        -- Two accounts: locked in the order of their ids, as every batch locks accounts.
        PERFORM account_summary_recount(LEAST(OLD.account_id, NEW.account_id));
        PERFORM account_summary_recount(GREATEST(OLD.account_id, NEW.account_id));
    ELSE
        PERFORM account_summary_recount(OLD.account_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER billing_addresses_summary_insert AFTER INSERT ON billing_addresses
    FOR EACH ROW EXECUTE FUNCTION account_summary_added();
CREATE TRIGGER billing_addresses_summary_change AFTER DELETE OR UPDATE OF account_id ON billing_addresses
    FOR EACH ROW EXECUTE FUNCTION account_summary_changed();

CREATE TRIGGER payment_methods_summary_insert AFTER INSERT ON payment_methods
    FOR EACH ROW EXECUTE FUNCTION account_summary_added();
CREATE TRIGGER payment_methods_summary_change AFTER DELETE OR UPDATE OF account_id ON payment_methods
    FOR EACH ROW EXECUTE FUNCTION account_summary_changed();

CREATE TRIGGER real_name_registrations_summary_insert AFTER INSERT ON real_name_registrations
    FOR EACH ROW EXECUTE FUNCTION account_summary_added();
CREATE TRIGGER real_name_registrations_summary_change
    AFTER DELETE OR UPDATE OF account_id ON real_name_registrations
    FOR EACH ROW EXECUTE FUNCTION account_summary_changed();

CREATE TRIGGER ledger_entries_summary_insert AFTER INSERT ON ledger_entries
    FOR EACH ROW WHEN (NEW.kind = 'free_credit' OR (NEW.bucket = 'credit' AND NEW.currency = 'USD'))
    EXECUTE FUNCTION account_summary_added();
CREATE TRIGGER ledger_entries_summary_change
    AFTER DELETE OR UPDATE OF account_id, kind, bucket, amount_minor, currency ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION account_summary_changed();
