-- sqlite: foreign keys off
-- No id that a URL, a foreign key or an audit line names is handed out
-- again: a plain INTEGER PRIMARY KEY gives the next row the largest id + 1,
-- so deleting the newest organization gave its id, its audit log and its
-- SAML URLs to the next one. AUTOINCREMENT never reuses an id. SQLite adds
-- it only by rebuilding a table, which its documented procedure does with
-- foreign keys off (the runner turns them off for this migration, and
-- checks them after). Events are never deleted: their ids are not reused.

CREATE TABLE users_new (
	id                INTEGER PRIMARY KEY AUTOINCREMENT,
	email             TEXT NOT NULL,
	email_key         TEXT NOT NULL UNIQUE,  -- lower-cased email: one account per address
	name              TEXT NOT NULL,
	password_hash     TEXT NOT NULL,
	email_verified_at INTEGER,
	locale            TEXT NOT NULL DEFAULT '',
	sso               INTEGER NOT NULL DEFAULT 0,
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER NOT NULL,
	tfa_failures      INTEGER NOT NULL DEFAULT 0,
	tfa_lock_level    INTEGER NOT NULL DEFAULT 0,
	tfa_locked_until  INTEGER NOT NULL DEFAULT 0,
	tfa_last_failure  INTEGER NOT NULL DEFAULT 0,
	tfa_day_failures  INTEGER NOT NULL DEFAULT 0,
	tfa_day_start     INTEGER NOT NULL DEFAULT 0,
	last_login_at     INTEGER,
	disabled_at       INTEGER NOT NULL DEFAULT 0
);
INSERT INTO users_new (id, email, email_key, name, password_hash, email_verified_at, locale, sso, created_at, updated_at,
	tfa_failures, tfa_lock_level, tfa_locked_until, tfa_last_failure, tfa_day_failures, tfa_day_start, last_login_at, disabled_at)
	SELECT id, email, email_key, name, password_hash, email_verified_at, locale, sso, created_at, updated_at,
	tfa_failures, tfa_lock_level, tfa_locked_until, tfa_last_failure, tfa_day_failures, tfa_day_start, last_login_at, disabled_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;

CREATE TABLE organizations_new (
	id                          INTEGER PRIMARY KEY AUTOINCREMENT,
	name                        TEXT NOT NULL,
	require_two_factor          INTEGER NOT NULL DEFAULT 0, -- one row to flip, whatever the size of the team
	created_at                  INTEGER NOT NULL,
	require_two_factor_deadline INTEGER NOT NULL DEFAULT 0,
	members_total               INTEGER NOT NULL DEFAULT 0,
	members_protected           INTEGER NOT NULL DEFAULT 0
);
INSERT INTO organizations_new (id, name, require_two_factor, created_at, require_two_factor_deadline, members_total, members_protected)
	SELECT id, name, require_two_factor, created_at, require_two_factor_deadline, members_total, members_protected FROM organizations;
DROP TABLE organizations;
ALTER TABLE organizations_new RENAME TO organizations;

CREATE TABLE sessions_new (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	token_hash   BLOB NOT NULL UNIQUE,      -- SHA-256 of the cookie's token (random for sessions with a secret)
	user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	level        TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	ip           TEXT NOT NULL DEFAULT '',
	user_agent   TEXT NOT NULL DEFAULT '',
	sso_context  TEXT NOT NULL DEFAULT '',
	secret_hash  BLOB
);
INSERT INTO sessions_new (id, token_hash, user_id, level, created_at, last_seen_at, expires_at, ip, user_agent, sso_context, secret_hash)
	SELECT id, token_hash, user_id, level, created_at, last_seen_at, expires_at, ip, user_agent, sso_context, secret_hash FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE invitations_new (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO invitations_new (id, org_id, email, email_key, role, token_hash, invited_by, created_at, expires_at, accepted_at, revoked_at)
	SELECT id, org_id, email, email_key, role, token_hash, invited_by, created_at, expires_at, accepted_at, revoked_at FROM invitations;
DROP TABLE invitations;
ALTER TABLE invitations_new RENAME TO invitations;
CREATE INDEX invitations_org ON invitations(org_id);

-- Ids deleted before this migration may still be named by audit lines:
-- the sequences start past them too.
UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT MAX(user_id) FROM events), 0), COALESCE((SELECT MAX(actor_id) FROM events), 0)) WHERE name = 'users';
INSERT INTO sqlite_sequence (name, seq) SELECT 'users', MAX(COALESCE((SELECT MAX(user_id) FROM events), 0), COALESCE((SELECT MAX(actor_id) FROM events), 0))
	WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'users');
UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT MAX(org_id) FROM events), 0)) WHERE name = 'organizations';
INSERT INTO sqlite_sequence (name, seq) SELECT 'organizations', COALESCE((SELECT MAX(org_id) FROM events), 0)
	WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'organizations');
INSERT INTO sqlite_sequence (name, seq) SELECT 'sessions', COALESCE(MAX(CAST(json_extract(detail, '$.session') AS INTEGER)), 0) FROM events
	WHERE json_valid(detail) AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'sessions');
UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT MAX(CAST(json_extract(detail, '$.session') AS INTEGER)) FROM events WHERE json_valid(detail)), 0))
	WHERE name = 'sessions';
INSERT INTO sqlite_sequence (name, seq) SELECT 'invitations', COALESCE(MAX(CAST(json_extract(detail, '$.invitation') AS INTEGER)), 0) FROM events
	WHERE json_valid(detail) AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'invitations');
UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT MAX(CAST(json_extract(detail, '$.invitation') AS INTEGER)) FROM events WHERE json_valid(detail)), 0))
	WHERE name = 'invitations';
