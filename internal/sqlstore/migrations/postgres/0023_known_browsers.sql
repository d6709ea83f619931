-- Whether a person is mailed when their account signs in from a browser it
-- has not used before: on unless they turn it off.
ALTER TABLE users ADD COLUMN sign_in_alerts BOOLEAN NOT NULL DEFAULT TRUE;

-- The browsers an account completed a login in, by the hash of the random
-- value their cookie holds; an account keeps its most recent few.
CREATE TABLE known_browsers (
	user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	browser_hash BYTEA NOT NULL,
	first_seen   BIGINT NOT NULL,
	last_seen    BIGINT NOT NULL,
	PRIMARY KEY (user_id, browser_hash)
);
