-- Whether an organization's SAML connection accepts logins its identity
-- provider starts (a dashboard tile): off unless its owner turns it on.
ALTER TABLE sso_connections ADD COLUMN idp_initiated BOOLEAN NOT NULL DEFAULT FALSE;

-- The assertions of IdP-initiated logins accepted, kept until they expire:
-- such an answer answers no login of Gardien's, so its ID is what makes it
-- usable once.
CREATE TABLE saml_assertions (
	org_id       BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
	assertion_id TEXT NOT NULL,
	expires_at   BIGINT NOT NULL,
	PRIMARY KEY (org_id, assertion_id)
);
