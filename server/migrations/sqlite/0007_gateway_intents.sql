-- Money moved at a payment party (SPEC §9): each call is an intent, written with its
-- idempotency key (the id) before the call is made, and its outcome recorded after. An intent
-- left `pending` by a crash or a lost answer is reconciled by a job that asks the gateway again
-- under the same key; a charge whose purpose was refused is `reversing` until it is refunded.
CREATE TABLE gateway_intents (
    id                TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- A charge (returned by a refund), or a card verification's hold (returned by a release).
    operation         TEXT NOT NULL CHECK (operation IN ('charge', 'hold')),
    -- What the money is for: `order:<id>`, `bill:<id>`, `card_verification`.
    purpose           TEXT NOT NULL,
    payment_method_id TEXT,
    -- The gateway's token of the method charged: a retry under the same key needs it. A hold
    -- has none: the card's number and CVV are never kept to ask again.
    method_token      TEXT,
    amount_minor      BIGINT NOT NULL,
    currency          TEXT NOT NULL,
    -- pending: recorded, outcome unknown; captured: used by its purpose; failed: refused, nothing
    -- moved; reversing: made, to be returned; reversed: returned.
    status            TEXT NOT NULL CHECK (status IN ('pending', 'captured', 'failed', 'reversing', 'reversed')),
    gateway_reference TEXT,
    last_error        TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX gateway_intents_account ON gateway_intents (account_id, status);

-- The simulated gateway's memory of the calls it answered, by idempotency key: the same key
-- returns the first outcome and never acts twice, as Stripe's Idempotency-Key does.
CREATE TABLE sim_gateway_calls (
    idempotency_key TEXT PRIMARY KEY,
    operation       TEXT NOT NULL,
    -- The method token or charge reference the call named, and its amount: a second call
    -- under the same key with other parameters is refused.
    target          TEXT NOT NULL,
    amount_minor    BIGINT NOT NULL,
    currency        TEXT NOT NULL,
    -- NULL while the first call is in flight.
    outcome         TEXT,
    reference       TEXT,
    created_at      BIGINT NOT NULL
);

-- The ledger gains the `gateway` bucket: payments taken from a card, PayPal or Paytm and
-- their reversals. SQLite cannot change a CHECK in place: the table is rebuilt.
CREATE TABLE ledger_entries_new (
    id                TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind              TEXT NOT NULL,
    bucket            TEXT NOT NULL CHECK (bucket IN ('cash', 'credit', 'hold', 'gateway')),
    amount_minor      BIGINT NOT NULL,
    currency          TEXT NOT NULL,
    payment_method_id TEXT,
    reference         TEXT,
    memo              TEXT NOT NULL,
    created_at        BIGINT NOT NULL
);
INSERT INTO ledger_entries_new SELECT id, account_id, kind, bucket, amount_minor, currency, payment_method_id, reference, memo, created_at FROM ledger_entries;
DROP TABLE ledger_entries;
ALTER TABLE ledger_entries_new RENAME TO ledger_entries;
CREATE INDEX ledger_entries_account ON ledger_entries (account_id, created_at);
CREATE UNIQUE INDEX ledger_entries_one_free_credit ON ledger_entries (account_id) WHERE kind = 'free_credit';
