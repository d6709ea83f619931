-- A 2FA requirement may give members until a date (0: at their next
-- login, as before); reminders before it go out once per member and
-- threshold (7, 3, 1 days), whichever node sends them; each member's last
-- reminder is shown to the admins.
ALTER TABLE organizations ADD COLUMN require_two_factor_deadline BIGINT NOT NULL DEFAULT 0;
ALTER TABLE memberships ADD COLUMN last_reminded_at BIGINT NOT NULL DEFAULT 0;
CREATE TABLE deadline_reminders (
	org_id   BIGINT NOT NULL,
	user_id  BIGINT NOT NULL,
	deadline BIGINT NOT NULL,
	days     INTEGER NOT NULL,
	sent_at  BIGINT NOT NULL,
	PRIMARY KEY (org_id, user_id, deadline, days),
	FOREIGN KEY (org_id, user_id) REFERENCES memberships(org_id, user_id) ON DELETE CASCADE
);
