-- Two-step verification by an authenticator app (SPEC §1 "Account security").

-- The authenticator's secret, sealed with a key outside the database (secrets.rs). A row
-- without `enabled_at` is a set-up waiting for its first code. `last_step` is the newest
-- 30-second step a code was taken for: no code of it or of an older step is taken again.
CREATE TABLE two_step (
    account_id    TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    secret_sealed TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    enabled_at    BIGINT,
    last_step     BIGINT NOT NULL
);

-- The ten recovery codes, as keyed hashes; each used once.
CREATE TABLE recovery_codes (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (account_id, code_hash)
);

-- A sign-in whose password was right, waiting for its code: named by the SHA-256 of the
-- HttpOnly cookie's token, alive five minutes.
CREATE TABLE sign_in_challenges (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ip         TEXT
);
CREATE INDEX sign_in_challenges_account ON sign_in_challenges (account_id);
