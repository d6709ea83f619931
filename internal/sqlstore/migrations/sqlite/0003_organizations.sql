-- Organizations, their members and invitations, and the team 2FA requirement.
CREATE TABLE organizations (
	id                 INTEGER PRIMARY KEY,
	name               TEXT NOT NULL,
	require_two_factor INTEGER NOT NULL DEFAULT 0, -- one row to flip, whatever the size of the team
	created_at         INTEGER NOT NULL
);

CREATE TABLE memberships (
	org_id     INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	role       TEXT NOT NULL,                     -- owner, admin, member
	created_at INTEGER NOT NULL,
	PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user ON memberships(user_id);

CREATE TABLE invitations (
	id          INTEGER PRIMARY KEY,
	org_id      INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
	email       TEXT NOT NULL,
	email_key   TEXT NOT NULL,
	role        TEXT NOT NULL,
	token_hash  BLOB NOT NULL UNIQUE,
	invited_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL,
	accepted_at INTEGER,
	revoked_at  INTEGER
);
CREATE INDEX invitations_org ON invitations(org_id);

ALTER TABLE users ADD COLUMN last_login_at INTEGER;
CREATE INDEX events_org ON events(org_id, id);
