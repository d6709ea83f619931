-- Logins with a passkey alone: the ceremony, bound to the browser that
-- asked by a cookie's token (its hash here), answered once.
CREATE TABLE webauthn_logins (
	token_hash BYTEA PRIMARY KEY,
	state      TEXT NOT NULL,
	expires_at BIGINT NOT NULL
);

-- How a session's person proved who they are: RFC 8176 values, space
-- separated ("pwd otp mfa", "hwk user mfa" …); '' for sessions older than
-- this column (mfa says then).
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '';
