-- SCIM provisioning: an organization's identity provider creates, changes
-- and deprovisions its SSO people. One bearer token per organization, kept
-- as its SHA-256 (256 random bits), shown once.
CREATE TABLE scim_tokens (
	org_id       INTEGER PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
	token_hash   BLOB NOT NULL UNIQUE,
	prefix       TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER NOT NULL DEFAULT 0
);

-- What the identity provider says of a person beyond their account: its
-- own id for them, the parts of their name, and whether it deleted them
-- (no longer listed; their account stays deprovisioned).
CREATE TABLE scim_users (
	org_id      INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
	user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	external_id TEXT NOT NULL DEFAULT '',
	given_name  TEXT NOT NULL DEFAULT '',
	family_name TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	deleted_at  INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (org_id, user_id)
);
CREATE INDEX scim_users_external ON scim_users(org_id, external_id);

-- Who disabled an account: '' Gardien's operator, 'scim' an organization's
-- identity provider (which may enable it again; never an operator's).
ALTER TABLE users ADD COLUMN disabled_by TEXT NOT NULL DEFAULT '';
