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
-- `pending` until the gateway confirms it, then `captured`.
ALTER TABLE gateway_intents DROP CONSTRAINT gateway_intents_operation_check;
ALTER TABLE gateway_intents ADD CONSTRAINT gateway_intents_operation_check
    CHECK (operation IN ('charge', 'hold', 'payout'));
