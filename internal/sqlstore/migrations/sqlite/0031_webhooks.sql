-- An organization's webhooks: endpoints that events are posted to, signed
-- with a secret kept sealed (HMAC needs the secret itself).
CREATE TABLE webhooks (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	org_id        INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
	url           TEXT NOT NULL,
	events        TEXT NOT NULL,              -- ' type type ': spaces around each, for LIKE
	secret        BLOB NOT NULL,
	created_at    INTEGER NOT NULL,
	disabled_at   INTEGER NOT NULL DEFAULT 0, -- 0: receives events
	failing_since INTEGER NOT NULL DEFAULT 0  -- 0: its last delivery went through
);
CREATE INDEX webhooks_org ON webhooks(org_id);

-- Each event on its way to each endpoint, written in the transaction of the
-- event; kept as the endpoint's delivery log once sent or given up.
CREATE TABLE webhook_deliveries (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	webhook_id      INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
	event_id        INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
	state           TEXT NOT NULL DEFAULT 'pending', -- pending, delivered, failed
	created_at      INTEGER NOT NULL,
	expires_at      INTEGER NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	last_attempt_at INTEGER NOT NULL DEFAULT 0,
	response        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(webhook_id, state, id);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries(event_id);
