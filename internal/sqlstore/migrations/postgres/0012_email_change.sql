-- A change of email waits, with its new address, for the link mailed to
-- that address: the address changes only when the link is followed.
ALTER TABLE tokens ADD COLUMN data TEXT NOT NULL DEFAULT '';
