-- Withdrawing the balance (SPEC §6.5): cash paid out to a card or PayPal of the account.
-- The balance is debited (a `withdrawal` line of the ledger's cash bucket) in the transaction
-- that writes the withdrawal, `processing`; its job pays it out at the gateway under the payout
-- intent's key and marks it `paid`.
CREATE TABLE withdrawals (
    id                TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- The payout intent (`gateway_intents`), whose id keys the call at the gateway.
    intent_id         TEXT NOT NULL,
    payment_method_id TEXT NOT NULL,
    destination_kind  TEXT NOT NULL CHECK (destination_kind IN ('card', 'paypal')),
    -- The method's label when the withdrawal was made: the record keeps it if the method goes.
    destination_label TEXT NOT NULL,
    amount_minor      BIGINT NOT NULL CHECK (amount_minor > 0),
    currency          TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('processing', 'paid')),
    gateway_reference TEXT,
    created_at        BIGINT NOT NULL,
    paid_at           BIGINT
);
CREATE INDEX withdrawals_account ON withdrawals (account_id, created_at);
CREATE INDEX withdrawals_processing ON withdrawals (account_id) WHERE status = 'processing';

-- A payout is an intent of its own: recorded with its key before the gateway is called,
-- `pending` until the gateway confirms it, then `captured`. SQLite cannot change a CHECK in
-- place: the table is rebuilt.
CREATE TABLE gateway_intents_new (
    id                TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    operation         TEXT NOT NULL CHECK (operation IN ('charge', 'hold', 'payout')),
    purpose           TEXT NOT NULL,
    payment_method_id TEXT,
    method_token      TEXT,
    amount_minor      BIGINT NOT NULL,
    currency          TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('pending', 'captured', 'failed', 'reversing', 'reversed')),
    gateway_reference TEXT,
    last_error        TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
INSERT INTO gateway_intents_new SELECT id, account_id, operation, purpose, payment_method_id, method_token, amount_minor, currency, status, gateway_reference, last_error, created_at, updated_at FROM gateway_intents;
DROP TABLE gateway_intents;
ALTER TABLE gateway_intents_new RENAME TO gateway_intents;
CREATE INDEX gateway_intents_account ON gateway_intents (account_id, status);
