-- An operator may disable an account (gardien user disable): it cannot
-- log in until enabled again (0: enabled).
ALTER TABLE users ADD COLUMN disabled_at INTEGER NOT NULL DEFAULT 0;
