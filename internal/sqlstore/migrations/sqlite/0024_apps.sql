-- The OpenID Provider: an organization's apps (its OpenID Connect
-- clients), their secrets, the provider's signing keys, and the sign-ins
-- and tokens it gives.
CREATE TABLE apps (
	id                 INTEGER PRIMARY KEY AUTOINCREMENT,
	org_id             INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
	client_id          TEXT NOT NULL UNIQUE,
	name               TEXT NOT NULL,
	type               TEXT NOT NULL,             -- web, spa, native
	redirect_uris      TEXT NOT NULL,             -- one a line, compared exactly
	post_logout_uris   TEXT NOT NULL DEFAULT '',
	backchannel_uri    TEXT NOT NULL DEFAULT '',
	audience           TEXT NOT NULL,             -- members, managers
	require_two_factor INTEGER NOT NULL DEFAULT 0,
	signing_alg        TEXT NOT NULL,
	created_at         INTEGER NOT NULL,
	updated_at         INTEGER NOT NULL
);
CREATE INDEX apps_org ON apps(org_id);

-- A web app's secrets by SHA-256 (each is 256 random bits): the current one
-- (expires_at 0), and a replaced one for a day after its rotation.
CREATE TABLE app_secrets (
	app_id     INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
	hash       BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (app_id, hash)
);

-- Signing keys, sealed with the secret key. A key signs until retired,
-- and is published until it expires (the longest token it signed is dead).
CREATE TABLE oidc_keys (
	id          TEXT PRIMARY KEY,                 -- the JWK's kid
	alg         TEXT NOT NULL,                    -- RS256, ES256
	private_key BLOB NOT NULL,                    -- PKCS #8, sealed
	created_at  INTEGER NOT NULL,
	retired_at  INTEGER NOT NULL DEFAULT 0,
	expires_at  INTEGER NOT NULL DEFAULT 0
);

-- A sign-in to an app: the app's request while the person logs in, then
-- the grant its code and tokens come from (a refresh token's family).
CREATE TABLE oidc_grants (
	id              TEXT PRIMARY KEY,             -- random; the request's id
	app_id          INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
	request         TEXT NOT NULL,                -- the app's request (JSON)
	created_at      INTEGER NOT NULL,
	expires_at      INTEGER NOT NULL,
	user_id         INTEGER REFERENCES users(id) ON DELETE CASCADE,
	session_id      INTEGER,                      -- the Gardien session it was given in
	auth_time       INTEGER NOT NULL DEFAULT 0,
	amr             TEXT NOT NULL DEFAULT '',
	acr             TEXT NOT NULL DEFAULT '',
	code_hash       BLOB UNIQUE,
	code_expires_at INTEGER NOT NULL DEFAULT 0,
	code_used_at    INTEGER,
	revoked_at      INTEGER,
	ended_at        INTEGER,                      -- its session ended, or it was revoked
	told_at         INTEGER                       -- its app was told (back-channel logout)
);
CREATE INDEX oidc_grants_user ON oidc_grants(user_id);
CREATE INDEX oidc_grants_session ON oidc_grants(session_id);
CREATE INDEX oidc_grants_expires ON oidc_grants(expires_at);
CREATE INDEX oidc_grants_untold ON oidc_grants(ended_at) WHERE ended_at IS NOT NULL AND told_at IS NULL;

-- Access and refresh tokens by SHA-256 (access: of its id; refresh: of the
-- token). A refresh token is used once; its reuse ends the grant.
CREATE TABLE oidc_tokens (
	hash       BLOB PRIMARY KEY,
	grant_id   TEXT NOT NULL REFERENCES oidc_grants(id) ON DELETE CASCADE,
	kind       TEXT NOT NULL,                     -- access, refresh
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER
);
CREATE INDEX oidc_tokens_grant ON oidc_tokens(grant_id);

-- However a session ends (logout, expiry, a password change, an operator),
-- its sign-ins to apps end with it, for their apps to be told.
CREATE TRIGGER sessions_end_grants AFTER DELETE ON sessions BEGIN
	UPDATE oidc_grants SET ended_at = unixepoch() WHERE session_id = OLD.id AND ended_at IS NULL;
END;

-- Deliveries waiting to leave to apps (back-channel logouts): written in the
-- transaction that decides them, sent by workers on any node, retried.
CREATE TABLE deliveries (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	kind            TEXT NOT NULL,
	target          TEXT NOT NULL,
	payload         TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	expires_at      INTEGER NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	last_error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX deliveries_due ON deliveries(next_attempt_at);

-- Whether a session passed a second factor (apps that need 2FA ask).
ALTER TABLE sessions ADD COLUMN mfa INTEGER NOT NULL DEFAULT 0;
