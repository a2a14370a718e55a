-- Billing address, real-name registration, payment methods, the ledger, the free credit,
-- idempotency keys, and the simulated PayPal's state.

CREATE TABLE billing_addresses (
    account_id    TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    account_type  TEXT NOT NULL CHECK (account_type IN ('individual', 'corporate')),
    last_name     TEXT NOT NULL,
    first_name    TEXT NOT NULL,
    company_name  TEXT,
    country       TEXT NOT NULL,
    address_line1 TEXT NOT NULL,
    address_line2 TEXT,
    city          TEXT NOT NULL,
    state         TEXT NOT NULL,
    postal_code   TEXT,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE real_name_registrations (
    account_id  TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('individual', 'enterprise')),
    name        TEXT NOT NULL,
    -- Only a masked form of the number is kept, for display.
    id_masked   TEXT NOT NULL,
    verified_at BIGINT NOT NULL
);

CREATE TABLE payment_methods (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('card', 'paypal', 'paytm')),
    -- Keyed HMAC of the card number, PayPal payer id or Paytm phone: never the value itself.
    fingerprint  TEXT NOT NULL,
    brand        TEXT,
    last4        TEXT,
    exp_month    INTEGER,
    exp_year     INTEGER,
    holder_name  TEXT,
    company_name TEXT,
    -- The card's billing address as JSON.
    card_address TEXT,
    -- What the list shows: "VISA •••• 1111", a masked PayPal email, a masked phone.
    label        TEXT NOT NULL,
    is_default   INTEGER NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL
);
-- One card, PayPal or Paytm account is bound to one account at a time.
CREATE UNIQUE INDEX payment_methods_fingerprint ON payment_methods (fingerprint);
CREATE UNIQUE INDEX payment_methods_one_paypal ON payment_methods (account_id) WHERE kind = 'paypal';
CREATE UNIQUE INDEX payment_methods_one_paytm ON payment_methods (account_id) WHERE kind = 'paytm';
CREATE UNIQUE INDEX payment_methods_one_default ON payment_methods (account_id) WHERE is_default = 1;
CREATE INDEX payment_methods_account ON payment_methods (account_id, created_at);

-- Every movement of money or credit, and every hold, as signed minor units per bucket:
-- a bucket's balance is the sum of its entries.
CREATE TABLE ledger_entries (
    id                TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind              TEXT NOT NULL,
    bucket            TEXT NOT NULL CHECK (bucket IN ('cash', 'credit', 'hold')),
    amount_minor      BIGINT NOT NULL,
    currency          TEXT NOT NULL,
    payment_method_id TEXT,
    reference         TEXT,
    memo              TEXT NOT NULL,
    created_at        BIGINT NOT NULL
);
CREATE INDEX ledger_entries_account ON ledger_entries (account_id, created_at);
CREATE UNIQUE INDEX ledger_entries_one_free_credit ON ledger_entries (account_id) WHERE kind = 'free_credit';

-- Card and PayPal identities that already earned the free credit; kept when an account goes,
-- so the credit is granted once per identity across accounts.
CREATE TABLE free_credit_identities (
    fingerprint TEXT PRIMARY KEY,
    granted_at  BIGINT NOT NULL
);

-- The first answer to a request that moves money, kept for retries with the same key.
CREATE TABLE idempotency_keys (
    account_id     TEXT NOT NULL,
    idem_key       TEXT NOT NULL,
    request_hash   TEXT NOT NULL,
    -- NULL while the first request is still running.
    status_code    INTEGER,
    response_body  TEXT,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (account_id, idem_key)
);

-- A PayPal approval the account started: the token names it on the way back.
CREATE TABLE paypal_approvals (
    token        TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    completed_at BIGINT
);

-- Dev/test only: what the simulated PayPal's consent page recorded.
CREATE TABLE sim_paypal_consents (
    token       TEXT PRIMARY KEY,
    payer_id    TEXT NOT NULL,
    payer_email TEXT NOT NULL,
    country     TEXT NOT NULL,
    approved_at BIGINT NOT NULL
);
