-- Coupons: prepaid discounts an account holds. What they pay is never refunded as cash.
CREATE TABLE coupons (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    description     TEXT NOT NULL,
    amount_minor    BIGINT NOT NULL,
    remaining_minor BIGINT NOT NULL CHECK (remaining_minor >= 0),
    currency        TEXT NOT NULL,
    expires_at      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX coupons_account ON coupons (account_id, expires_at);
