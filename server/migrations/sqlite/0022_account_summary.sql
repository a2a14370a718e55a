-- What the account's own view shows of its other tables, kept on its row: whether it has a
-- billing address, a payment method, a real-name registration and the free credit, and its
-- credit balance (the sum of its entries in the credit bucket, in USD). Every signed-in page
-- reads the view; it used to run five subqueries for these, and now reads one row.
--
-- Triggers keep them, so no write path can forget one: an insert sets its flag or adds its
-- amount, and a delete, or an update of what a figure depends on, computes the figure again
-- from the rows, as the view's subqueries did. The PostgreSQL twin of this file does the same.

ALTER TABLE accounts ADD COLUMN has_address INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN has_method INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN real_name INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN credit_granted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN credit_minor BIGINT NOT NULL DEFAULT 0;

UPDATE accounts SET
    has_address = EXISTS (SELECT 1 FROM billing_addresses t WHERE t.account_id = accounts.id),
    has_method = EXISTS (SELECT 1 FROM payment_methods t WHERE t.account_id = accounts.id),
    real_name = EXISTS (SELECT 1 FROM real_name_registrations t WHERE t.account_id = accounts.id),
    credit_granted = EXISTS (SELECT 1 FROM ledger_entries t
                             WHERE t.account_id = accounts.id AND t.kind = 'free_credit'),
    credit_minor = (SELECT COALESCE(SUM(t.amount_minor), 0) FROM ledger_entries t
                    WHERE t.account_id = accounts.id AND t.bucket = 'credit' AND t.currency = 'USD');

CREATE TRIGGER billing_addresses_summary_insert AFTER INSERT ON billing_addresses BEGIN
    UPDATE accounts SET has_address = 1 WHERE id = NEW.account_id;
END;
CREATE TRIGGER billing_addresses_summary_delete AFTER DELETE ON billing_addresses BEGIN
    UPDATE accounts SET has_address = EXISTS (SELECT 1 FROM billing_addresses t WHERE t.account_id = accounts.id)
    WHERE id = OLD.account_id;
END;
CREATE TRIGGER billing_addresses_summary_update AFTER UPDATE OF account_id ON billing_addresses BEGIN
    UPDATE accounts SET has_address = EXISTS (SELECT 1 FROM billing_addresses t WHERE t.account_id = accounts.id)
    WHERE id IN (OLD.account_id, NEW.account_id);
END;

CREATE TRIGGER payment_methods_summary_insert AFTER INSERT ON payment_methods BEGIN
    UPDATE accounts SET has_method = 1 WHERE id = NEW.account_id;
END;
CREATE TRIGGER payment_methods_summary_delete AFTER DELETE ON payment_methods BEGIN
    UPDATE accounts SET has_method = EXISTS (SELECT 1 FROM payment_methods t WHERE t.account_id = accounts.id)
    WHERE id = OLD.account_id;
END;
CREATE TRIGGER payment_methods_summary_update AFTER UPDATE OF account_id ON payment_methods BEGIN
    UPDATE accounts SET has_method = EXISTS (SELECT 1 FROM payment_methods t WHERE t.account_id = accounts.id)
    WHERE id IN (OLD.account_id, NEW.account_id);
END;

CREATE TRIGGER real_name_registrations_summary_insert AFTER INSERT ON real_name_registrations BEGIN
    UPDATE accounts SET real_name = 1 WHERE id = NEW.account_id;
END;
CREATE TRIGGER real_name_registrations_summary_delete AFTER DELETE ON real_name_registrations BEGIN
    UPDATE accounts SET real_name = EXISTS (SELECT 1 FROM real_name_registrations t WHERE t.account_id = accounts.id)
    WHERE id = OLD.account_id;
END;
CREATE TRIGGER real_name_registrations_summary_update AFTER UPDATE OF account_id ON real_name_registrations BEGIN
    UPDATE accounts SET real_name = EXISTS (SELECT 1 FROM real_name_registrations t WHERE t.account_id = accounts.id)
    WHERE id IN (OLD.account_id, NEW.account_id);
END;

CREATE TRIGGER ledger_entries_summary_insert AFTER INSERT ON ledger_entries
WHEN NEW.kind = 'free_credit' OR (NEW.bucket = 'credit' AND NEW.currency = 'USD') BEGIN
    UPDATE accounts SET
        credit_granted = credit_granted OR NEW.kind = 'free_credit',
        credit_minor = credit_minor
            + CASE WHEN NEW.bucket = 'credit' AND NEW.currency = 'USD' THEN NEW.amount_minor ELSE 0 END
    WHERE id = NEW.account_id;
END;
CREATE TRIGGER ledger_entries_summary_delete AFTER DELETE ON ledger_entries BEGIN
    UPDATE accounts SET
        credit_granted = EXISTS (SELECT 1 FROM ledger_entries t
                                 WHERE t.account_id = accounts.id AND t.kind = 'free_credit'),
        credit_minor = (SELECT COALESCE(SUM(t.amount_minor), 0) FROM ledger_entries t
                        WHERE t.account_id = accounts.id AND t.bucket = 'credit' AND t.currency = 'USD')
    WHERE id = OLD.account_id;
END;
CREATE TRIGGER ledger_entries_summary_update
AFTER UPDATE OF account_id, kind, bucket, amount_minor, currency ON ledger_entries BEGIN
    UPDATE accounts SET
        credit_granted = EXISTS (SELECT 1 FROM ledger_entries t
                                 WHERE t.account_id = accounts.id AND t.kind = 'free_credit'),
        credit_minor = (SELECT COALESCE(SUM(t.amount_minor), 0) FROM ledger_entries t
                        WHERE t.account_id = accounts.id AND t.bucket = 'credit' AND t.currency = 'USD')
    WHERE id IN (OLD.account_id, NEW.account_id);
END;
