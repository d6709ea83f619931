-- A new authenticator app (a new phone): its secret waits beside the one
-- in use, sealed, for fifteen minutes, until a code from it confirms it;
-- then it replaces the old one in one statement.
ALTER TABLE two_factor ADD COLUMN next_secret BYTEA;
ALTER TABLE two_factor ADD COLUMN next_expires_at BIGINT;
