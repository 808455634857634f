-- Issue 9: TOTP multi-factor authentication.
--
-- A user's authenticator secret (RFC 4648 base32). The row is made when the
-- enrolment page is first shown, for the session that was shown it
-- (`session_hash`): another session gets a new secret, so a secret seen by
-- someone else who knows the password is worthless. `enrolled_at_ms` is set
-- only once that session has typed a correct code, and from then on the
-- secret is never shown again.
-- `last_step` is the newest RFC 6238 time step accepted, so no code can be
-- used twice. An administrator's reset deletes the row (and the user enrols
-- again at their next sign-in).
CREATE TABLE mfa_enrolments (
    user_id BIGINT PRIMARY KEY REFERENCES users(id),
    secret TEXT NOT NULL,
    session_hash TEXT NOT NULL DEFAULT '',
    created_at_ms BIGINT NOT NULL,
    enrolled_at_ms BIGINT,
    last_step BIGINT
);

-- Single-use recovery codes, stored as the SHA-256 of the code only.
CREATE TABLE mfa_recovery_codes (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    code_hash TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    used_at_ms BIGINT
);
CREATE UNIQUE INDEX mfa_recovery_codes_user_hash ON mfa_recovery_codes (user_id, code_hash);

-- A session whose user has given the right password but not yet the second
-- factor. It reaches only the MFA pages and sign-out. Sessions made by code
-- that predates this column are not pending (it defaults to false).
ALTER TABLE sessions ADD COLUMN mfa_pending BOOLEAN NOT NULL DEFAULT FALSE;
