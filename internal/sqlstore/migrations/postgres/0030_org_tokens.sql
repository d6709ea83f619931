-- An organization's API tokens: made by one of its owners (user_id), for
-- that organization only; they stop working when their maker no longer
-- owns it.
ALTER TABLE api_tokens ADD COLUMN org_id BIGINT REFERENCES organizations(id) ON DELETE CASCADE;
CREATE INDEX api_tokens_org ON api_tokens(org_id);
