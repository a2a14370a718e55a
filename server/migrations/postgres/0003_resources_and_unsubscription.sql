-- What an account owns (SPEC §4), unsubscription with refunds (§5), timed jobs, bills and
-- RAM users.

-- The account ID people type to sign in as a RAM user (the "account alias").
ALTER TABLE accounts ADD COLUMN uid TEXT;
UPDATE accounts SET uid = id WHERE uid IS NULL;
CREATE UNIQUE INDEX accounts_uid ON accounts (uid);

-- The gateway's token for charging a bound method later; never the card number.
ALTER TABLE payment_methods ADD COLUMN gateway_token TEXT;

CREATE TABLE instances (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    product       TEXT NOT NULL,
    region        TEXT NOT NULL,
    billing       TEXT NOT NULL CHECK (billing IN ('subscription', 'payg')),
    resource_kind TEXT NOT NULL CHECK (resource_kind IN ('regular_cloud_resource', 'resource_plan')),
    activated     INTEGER NOT NULL DEFAULT 1,
    used          INTEGER NOT NULL DEFAULT 0,
    auto_renew    INTEGER NOT NULL DEFAULT 0,
    status        TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'released')),
    started_at    BIGINT NOT NULL,
    -- Subscriptions: the end of the last paid period, renewals included.
    expires_at    BIGINT,
    -- Pay-as-you-go: usage is billed up to here.
    billed_until  BIGINT,
    released_at   BIGINT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX instances_account ON instances (account_id, status, created_at);

-- A purchase or a renewal of a subscription: one paid period.
CREATE TABLE orders (
    id                TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    instance_id       TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    kind              TEXT NOT NULL CHECK (kind IN ('new', 'renewal')),
    period_months     INTEGER NOT NULL,
    starts_at         BIGINT NOT NULL,
    ends_at           BIGINT NOT NULL,
    currency          TEXT NOT NULL,
    list_minor        BIGINT NOT NULL,
    -- Paid by card, PayPal, Paytm or account balance: the most a refund can return.
    cash_minor        BIGINT NOT NULL,
    -- Paid by free credit or coupons: never refunded as cash.
    credit_minor      BIGINT NOT NULL,
    paid_with         TEXT NOT NULL CHECK (paid_with IN ('card', 'paypal', 'paytm', 'balance', 'credit')),
    payment_method_id TEXT,
    gateway_reference TEXT,
    status            TEXT NOT NULL CHECK (status IN ('paid', 'unsubscribed')),
    paid_at           BIGINT NOT NULL,
    created_at        BIGINT NOT NULL
);
CREATE INDEX orders_account ON orders (account_id, created_at);
CREATE INDEX orders_instance ON orders (instance_id, starts_at);

CREATE TABLE unsubscriptions (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- 'resource': the instance and its pending renewals; 'renewal': pending renewals only.
    scope        TEXT NOT NULL CHECK (scope IN ('resource', 'renewal')),
    instance_id  TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    product      TEXT NOT NULL,
    refund_type  TEXT NOT NULL,
    refund_minor BIGINT NOT NULL,
    currency     TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX unsubscriptions_account ON unsubscriptions (account_id, created_at);

CREATE TABLE refunds (
    id                TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    unsubscription_id TEXT NOT NULL REFERENCES unsubscriptions (id) ON DELETE CASCADE,
    -- UNIQUE: an order is refunded at most once, whatever races above this.
    order_id          TEXT NOT NULL UNIQUE REFERENCES orders (id) ON DELETE CASCADE,
    amount_minor      BIGINT NOT NULL,
    currency          TEXT NOT NULL,
    destination       TEXT NOT NULL CHECK (destination IN ('card', 'paypal', 'paytm', 'balance')),
    payment_method_id TEXT,
    status            TEXT NOT NULL CHECK (status IN ('processing', 'refunded')),
    created_at        BIGINT NOT NULL,
    refunded_at       BIGINT
);
CREATE INDEX refunds_unsubscription ON refunds (unsubscription_id);

-- Timed work: claimed atomically, leased, done exactly once (STYLE 7).
CREATE TABLE jobs (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    due_at      BIGINT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    lease_until BIGINT,
    last_error  TEXT,
    created_at  BIGINT NOT NULL,
    done_at     BIGINT,
    UNIQUE (kind, subject)
);
CREATE INDEX jobs_due ON jobs (status, due_at);

-- Pay-as-you-go usage bills and other charges; unpaid past due is overdue.
CREATE TABLE bills (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    instance_id  TEXT,
    description  TEXT NOT NULL,
    period_start BIGINT,
    period_end   BIGINT,
    amount_minor BIGINT NOT NULL,
    currency     TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('unpaid', 'paid')),
    due_at       BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    paid_at      BIGINT
);
CREATE INDEX bills_account ON bills (account_id, status, due_at);

CREATE TABLE ram_users (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    username      TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    -- Space-separated policy names, e.g. "BillingFullAccess".
    permissions   TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    UNIQUE (account_id, username)
);

ALTER TABLE sessions ADD COLUMN ram_user_id TEXT REFERENCES ram_users (id) ON DELETE CASCADE;
