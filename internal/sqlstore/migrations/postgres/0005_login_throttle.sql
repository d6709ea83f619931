-- Failed password logins, counted per account and address and per address,
-- in a window: credential guessing is slowed on every node.
CREATE TABLE login_throttle (
	key          BYTEA PRIMARY KEY,  -- SHA-256 of what is counted (no email stored in clear)
	failures     INTEGER NOT NULL,
	window_start BIGINT NOT NULL
);
