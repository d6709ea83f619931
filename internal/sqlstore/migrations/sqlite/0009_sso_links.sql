-- A password account whose owner arrived through their organization's
-- identity provider: linked only once they log in with its password (and
-- second factor) and confirm, within ten minutes, from the same browser.
CREATE TABLE sso_links (
	token_hash  BLOB PRIMARY KEY,
	user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	org_id      INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
	sso_context TEXT NOT NULL DEFAULT '',
	expires_at  INTEGER NOT NULL
);
