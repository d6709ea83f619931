-- The 2FA check-up: 28 days after 2FA is turned on, a login asks the
-- person to confirm their app still gives codes and their recovery codes
-- are kept (0: nothing due). "Remind me later" moves it a day, twice at most.
ALTER TABLE two_factor ADD COLUMN checkup_due_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE two_factor ADD COLUMN checkup_postponed INTEGER NOT NULL DEFAULT 0;
UPDATE two_factor SET checkup_due_at = enabled_at + 2419200 WHERE enabled_at IS NOT NULL;
