-- Mails wait sealed: a link in a mail (reset, validation, invitation) is a
-- key to an account, so the outbox keeps it only sealed with the secret
-- key (body), and only while it can still be used (expires_at). The clear
-- columns stay for mails queued before this migration, and are emptied.
ALTER TABLE outbox ADD COLUMN body BYTEA;
ALTER TABLE outbox ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
