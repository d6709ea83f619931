-- A 2FA requirement may give members until a date (0: at their next
-- login, as before); reminders before it go out once per member and
-- threshold (7, 3, 1 days); each member's last reminder is shown to the
-- admins.
ALTER TABLE organizations ADD COLUMN require_two_factor_deadline INTEGER NOT NULL DEFAULT 0;
ALTER TABLE memberships ADD COLUMN last_reminded_at INTEGER NOT NULL DEFAULT 0;
CREATE TABLE deadline_reminders (
	org_id   INTEGER NOT NULL,
	user_id  INTEGER NOT NULL,
	deadline INTEGER NOT NULL,
	days     INTEGER NOT NULL,
	sent_at  INTEGER NOT NULL,
	PRIMARY KEY (org_id, user_id, deadline, days),
	FOREIGN KEY (org_id, user_id) REFERENCES memberships(org_id, user_id) ON DELETE CASCADE
);
