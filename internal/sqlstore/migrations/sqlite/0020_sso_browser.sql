-- A login through an identity provider is bound to the browser that
-- started it: the hash of a random value kept in that browser's cookie.
-- Logins pending at the upgrade have none, and are refused (they last ten
-- minutes).
ALTER TABLE sso_logins ADD COLUMN browser_hash BLOB NOT NULL DEFAULT x'';

-- A SAML answer checked at the ACS (a cross-site POST, which carries no
-- SameSite=Lax cookie), kept under a one-time token until the browser
-- comes back on a same-site GET that shows it is the one that started the
-- login (browser_hash; empty for a login the identity provider started).
CREATE TABLE sso_answers (
	token_hash     BLOB PRIMARY KEY,
	org_id         INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
	browser_hash   BLOB NOT NULL,
	subject        TEXT NOT NULL,
	email          TEXT NOT NULL,
	email_verified INTEGER NOT NULL,
	name           TEXT NOT NULL,
	sso_context    TEXT NOT NULL,
	return_to      TEXT NOT NULL,
	expires_at     INTEGER NOT NULL
);
