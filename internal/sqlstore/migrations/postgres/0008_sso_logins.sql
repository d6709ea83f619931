-- A login through an identity provider, between the redirect to it and
-- its answer: found by the hash of the state sent, used once, for ten
-- minutes. The PKCE verifier is sealed with the secret key.
CREATE TABLE sso_logins (
	state_hash BYTEA PRIMARY KEY,
	org_id     BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
	nonce      TEXT NOT NULL,
	verifier   BYTEA NOT NULL,
	return_to  TEXT NOT NULL DEFAULT '',
	expires_at BIGINT NOT NULL
);

-- What the identity provider says it checked (OIDC amr/acr), for sessions
-- opened through it.
ALTER TABLE sessions ADD COLUMN sso_context TEXT NOT NULL DEFAULT '';
