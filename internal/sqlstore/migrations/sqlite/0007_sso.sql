-- Single sign-on: an organization's identity provider, and the email
-- domains it claims. A domain counts once verified, and a verified domain
-- belongs to one organization (the partial unique index): until then,
-- anyone may claim it, and nobody logs in through it.
CREATE TABLE sso_connections (
	org_id           INTEGER PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
	protocol         TEXT NOT NULL,               -- oidc or saml
	enabled          INTEGER NOT NULL DEFAULT 0,
	require_sso      INTEGER NOT NULL DEFAULT 0,
	issuer           TEXT NOT NULL DEFAULT '',
	client_id        TEXT NOT NULL DEFAULT '',
	client_secret    BLOB,                        -- sealed with the secret key
	idp_metadata_url TEXT NOT NULL DEFAULT '',
	idp_metadata_xml TEXT NOT NULL DEFAULT '',
	updated_at       INTEGER NOT NULL
);

CREATE TABLE sso_domains (
	org_id      INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
	domain      TEXT NOT NULL,                    -- lower case, ASCII (IDNA A-label)
	token       TEXT NOT NULL,                    -- the TXT record's value
	created_at  INTEGER NOT NULL,
	verified_at INTEGER,
	PRIMARY KEY (org_id, domain)
);
CREATE UNIQUE INDEX sso_domains_verified ON sso_domains(domain) WHERE verified_at IS NOT NULL;
