-- SAML 2.0: Gardien's key (sealed with the secret key) and certificate as
-- the organization's service provider, made at the first SAML save.
ALTER TABLE sso_connections ADD COLUMN sp_key BLOB;
ALTER TABLE sso_connections ADD COLUMN sp_cert TEXT NOT NULL DEFAULT '';
