-- API tokens: a program calls the API as the person who made it, within
-- the token's scopes. The token is kept as its SHA-256 (256 random bits:
-- no slow hash needed), shown once.
CREATE TABLE api_tokens (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	name         TEXT NOT NULL,
	token_hash   BLOB NOT NULL UNIQUE,
	prefix       TEXT NOT NULL,
	scopes       TEXT NOT NULL,                  -- space-separated
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL DEFAULT 0,     -- 0: never
	last_used_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);
