-- Passkeys and security keys (WebAuthn): a person's keys, and the
-- ceremonies under way, each bound to the session that began it and used
-- once.
CREATE TABLE passkeys (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	name          TEXT NOT NULL,
	credential_id BLOB NOT NULL UNIQUE,
	credential    TEXT NOT NULL,                  -- the key as go-webauthn keeps it (JSON)
	created_at    INTEGER NOT NULL,
	last_used_at  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX passkeys_user ON passkeys(user_id);

CREATE TABLE webauthn_ceremonies (
	session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
	kind       TEXT NOT NULL,                     -- register, login
	state      TEXT NOT NULL,                     -- the ceremony's state (its challenge)
	expires_at INTEGER NOT NULL,
	PRIMARY KEY (session_id, kind)
);
