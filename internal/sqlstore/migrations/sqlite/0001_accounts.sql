-- Accounts, single-use tokens, sessions and the audit trail.
-- Times are Unix seconds (UTC) in both dialects, so one set of queries serves both.
CREATE TABLE users (
	id                INTEGER PRIMARY KEY,
	email             TEXT NOT NULL,
	email_key         TEXT NOT NULL UNIQUE,  -- lower-cased email: one account per address
	name              TEXT NOT NULL,
	password_hash     TEXT NOT NULL,
	email_verified_at INTEGER,
	locale            TEXT NOT NULL DEFAULT '',
	sso               INTEGER NOT NULL DEFAULT 0,
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER NOT NULL
);

CREATE TABLE tokens (
	id         INTEGER PRIMARY KEY,
	kind       TEXT NOT NULL,               -- verify_email, reset_password
	token_hash BLOB NOT NULL UNIQUE,        -- SHA-256 of the token sent by mail
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER,
	created_at INTEGER NOT NULL
);
CREATE INDEX tokens_user ON tokens(user_id, kind);

CREATE TABLE sessions (
	id           INTEGER PRIMARY KEY,
	token_hash   BLOB NOT NULL UNIQUE,      -- SHA-256 of the cookie's token
	user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	level        TEXT NOT NULL,             -- full, password, setup
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	ip           TEXT NOT NULL DEFAULT '',
	user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

CREATE TABLE events (
	id         INTEGER PRIMARY KEY,
	at         INTEGER NOT NULL,
	type       TEXT NOT NULL,
	user_id    INTEGER,
	actor_id   INTEGER,
	org_id     INTEGER,
	ip         TEXT NOT NULL DEFAULT '',
	user_agent TEXT NOT NULL DEFAULT '',
	detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_user ON events(user_id, id);
