-- Account closure (SPEC §6): what else an account is tied to, the system check, the closure
-- itself with its cool-down, and the service-linked role it creates.

CREATE TABLE icp_filings (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    number     TEXT NOT NULL,
    website    TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('active', 'cancelled')),
    created_at BIGINT NOT NULL
);
CREATE INDEX icp_filings_account ON icp_filings (account_id, status);

CREATE TABLE account_relationships (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('resource_directory', 'finance_trusteeship', 'financial_management', 'enterprise_multi_account')),
    role       TEXT NOT NULL CHECK (role IN ('administrator', 'member')),
    peer       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX account_relationships_account ON account_relationships (account_id);

CREATE TABLE reseller_partnerships (
    account_id   TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    partner_name TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

-- A small overdue payment renounced with the account.
ALTER TABLE bills ADD COLUMN waived_at BIGINT;

-- The system check of the closure flow, which runs as a job and reports progress.
CREATE TABLE closure_checks (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    progress   INTEGER NOT NULL DEFAULT 0,
    status     TEXT NOT NULL CHECK (status IN ('running', 'done')),
    result     TEXT,
    created_at BIGINT NOT NULL,
    done_at    BIGINT
);

CREATE TABLE closures (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status        TEXT NOT NULL CHECK (status IN ('cooling_down', 'failed')),
    reason        TEXT NOT NULL,
    reason_detail TEXT,
    renounced     TEXT NOT NULL,
    started_at    BIGINT NOT NULL,
    ends_at       BIGINT NOT NULL,
    decided_at    BIGINT,
    failure       TEXT
);
CREATE UNIQUE INDEX closures_one_cooling_down ON closures (account_id) WHERE status = 'cooling_down';

CREATE TABLE service_linked_roles (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role_name  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, role_name)
);

-- When this session last proved the owner's identity for closure (phone code or Alipay).
ALTER TABLE sessions ADD COLUMN identity_verified_at BIGINT;
