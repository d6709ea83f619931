-- Forward-auth: the hosts of proxy apps (one app each), and the browsers'
-- passes to them, tied to the Gardien session they were made in.
CREATE TABLE app_hosts (
	host   TEXT PRIMARY KEY,                      -- lower case, ASCII
	app_id BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE
);
CREATE INDEX app_hosts_app ON app_hosts(app_id);

CREATE TABLE forward_sessions (
	token_hash BYTEA PRIMARY KEY,                  -- SHA-256 of the cookie's token
	session_id BIGINT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX forward_sessions_session ON forward_sessions(session_id);

-- A proxy app's hosts, one a line, read with the app.
ALTER TABLE apps ADD COLUMN hosts TEXT NOT NULL DEFAULT '';
