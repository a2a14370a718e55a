-- Account security self-service (SPEC §1 "Account security").

-- Where each session was started from, for the account's list of signed-in sessions. The
-- device is worded from the user agent when listed; `last_used_at` moves at most every few
-- minutes (auth::LAST_USED_STEP_MS), so reads stay reads.
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN ip TEXT;
ALTER TABLE sessions ADD COLUMN last_used_at BIGINT;

-- A forgotten password's reset: a code to the address typed, if an account verified it. One
-- that names no account (`account_id` NULL) is written all the same, so the answer does not
-- tell whether an account exists; its code is never sent.
CREATE TABLE password_resets (
    id         TEXT PRIMARY KEY,
    account_id TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    channel    TEXT NOT NULL,
    address    TEXT NOT NULL,
    delivery   TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX password_resets_account ON password_resets (account_id);
CREATE INDEX password_resets_address ON password_resets (address);
