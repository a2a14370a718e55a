-- The operation log (SPEC §1 "Account security"): every security and money action of an
-- account, who did it (`owner`, `ram:<user name>`, `system`), what (`action`, a stable name,
-- and its `category`), when and from which address. Written in the action's own
-- transaction; deleted with the account.
CREATE TABLE operation_log (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    category   TEXT NOT NULL CHECK (category IN ('security', 'money', 'closure')),
    detail     TEXT NOT NULL,
    ip         TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX operation_log_account ON operation_log (account_id, created_at);
