-- Personal two-factor authentication (TOTP) and recovery codes.
CREATE TABLE two_factor (
	user_id    INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
	secret     BLOB NOT NULL,             -- sealed with secretbox, bound to the user
	created_at INTEGER NOT NULL,
	expires_at INTEGER,                   -- a pending secret is void after this
	enabled_at INTEGER,                   -- NULL while pending
	last_step  INTEGER NOT NULL DEFAULT 0 -- the replay guard: a step is accepted once
);

CREATE TABLE recovery_codes (
	id        INTEGER PRIMARY KEY,
	user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	code_hash BLOB NOT NULL,              -- HMAC-SHA256 of the code under a server key
	used_at   INTEGER
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id, code_hash);

-- Second-factor tries, counted per account in the database so that limits
-- hold across sessions and nodes.
ALTER TABLE users ADD COLUMN tfa_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN tfa_lock_level INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN tfa_locked_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN tfa_last_failure INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN tfa_day_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN tfa_day_start INTEGER NOT NULL DEFAULT 0;
