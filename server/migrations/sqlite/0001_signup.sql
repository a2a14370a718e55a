-- Foundation: accounts, pending sign-ups, verification codes, sessions, rate-limit events and
-- the notification outbox. Times are UTC milliseconds since the epoch (BIGINT) so the same
-- SQL runs on SQLite and PostgreSQL.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE accounts (
    id                TEXT PRIMARY KEY,
    email             TEXT NOT NULL,
    password_hash     TEXT NOT NULL,
    country           TEXT NOT NULL,
    -- The channel proven at sign-up; the other is verified with the billing address.
    verified_channel  TEXT NOT NULL CHECK (verified_channel IN ('email', 'phone')),
    email_verified_at BIGINT,
    phone             TEXT,
    phone_verified_at BIGINT,
    status            TEXT NOT NULL DEFAULT 'active',
    created_at        BIGINT NOT NULL
);
-- One live account per email; a closed account frees its email.
CREATE UNIQUE INDEX accounts_live_email ON accounts (email) WHERE status <> 'closed';

-- A sign-up becomes an account only when a code proves the email or phone; until then it
-- holds nothing but what the form gave. Several may wait for one email: the first verified wins.
CREATE TABLE signups (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    country       TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    account_id    TEXT
);
CREATE INDEX signups_email ON signups (email);

CREATE TABLE verification_codes (
    id            TEXT PRIMARY KEY,
    -- 'signup:<id>' or 'account:<id>': whose proof this is.
    subject       TEXT NOT NULL,
    channel       TEXT NOT NULL CHECK (channel IN ('email', 'phone')),
    -- The email or E.164 number the code went to.
    address       TEXT NOT NULL,
    delivery      TEXT,
    -- HMAC-SHA256 of subject and code under a server key; the code itself is never stored.
    code_hash     TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    consumed_at   BIGINT,
    superseded_at BIGINT
);
CREATE INDEX verification_codes_subject ON verification_codes (subject, created_at);
CREATE INDEX verification_codes_address ON verification_codes (address, created_at);

CREATE TABLE sessions (
    -- SHA-256 of the cookie's token: a database leak gives no usable session.
    token_hash       TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    csrf_token       TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    -- When the password (or a code) was last proven: the "recent sign-in" of SPEC §1.
    authenticated_at BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);

-- Counters for rate limits, in the database so that several instances share them.
CREATE TABLE rate_events (
    scope   TEXT NOT NULL,
    subject TEXT NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX rate_events_lookup ON rate_events (scope, subject, at);

-- Every email, SMS and voice call is a row here first (SPEC §8).
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    account_id      TEXT,
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'voice')),
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    -- pending -> sending (leased until next_attempt_at) -> sent | failed
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    sent_at         BIGINT,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_recipient ON outbox (recipient, created_at);
