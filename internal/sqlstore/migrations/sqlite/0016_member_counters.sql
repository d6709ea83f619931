-- Kept counters of each organization's members and protected members (2FA
-- on, or SSO): the Members page and the requirement's pop-up read them
-- instead of scanning 100,000 memberships. Every change of a membership or
-- of a person's protection moves them in its own transaction.
ALTER TABLE organizations ADD COLUMN members_total INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN members_protected INTEGER NOT NULL DEFAULT 0;
UPDATE organizations SET
	members_total = (SELECT COUNT(*) FROM memberships m WHERE m.org_id = organizations.id),
	members_protected = (SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.org_id = organizations.id AND (u.sso OR EXISTS (SELECT 1 FROM two_factor t WHERE t.user_id = u.id AND t.enabled_at IS NOT NULL)));
