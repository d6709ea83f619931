-- An organization's 2FA requirement may ask for a phishing-resistant
-- method (a passkey or a security key): members whose only second factor
-- is an app are then held as members without 2FA are (same deadline).
ALTER TABLE organizations ADD COLUMN require_phishing_resistant BOOLEAN NOT NULL DEFAULT FALSE;

-- The kept count of members with a key (or SSO), beside members_protected:
-- the pop-up's counts of an organization that asks for a key.
ALTER TABLE organizations ADD COLUMN members_keyed BIGINT NOT NULL DEFAULT 0;
UPDATE organizations SET members_keyed = (SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id
	WHERE m.org_id = organizations.id AND (u.sso OR EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = u.id)));
