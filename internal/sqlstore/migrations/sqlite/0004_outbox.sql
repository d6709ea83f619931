-- Mails waiting to leave: written by the request that causes them (after
-- its change, not in its transaction), sent by workers on any node,
-- deleted once sent. A killed process loses none once written.
CREATE TABLE outbox (
	id              INTEGER PRIMARY KEY,
	created_at      INTEGER NOT NULL,
	to_addr         TEXT NOT NULL,
	subject         TEXT NOT NULL,
	text_body       TEXT NOT NULL,
	html_body       TEXT NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,          -- due then; a claim pushes it past the sender's lease
	last_error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox(next_attempt_at);
