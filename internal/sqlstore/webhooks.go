package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gardien/gardien"
)

// webhookLifetime is how long a webhook delivery is tried.
const webhookLifetime = 24 * time.Hour

var (
	orgWebhookTypes    = map[string]bool{}
	memberWebhookTypes = map[string]bool{}
)

func init() {
	for _, t := range gardien.WebhookEventTypes {
		orgWebhookTypes[t] = true
	}
	for _, t := range gardien.MemberEventTypes {
		memberWebhookTypes[t] = true
		orgWebhookTypes[t] = false
	}
}

// webhookable says whether an event may reach webhooks: an organization's
// event of a type they may ask for, or a person's own event that reaches
// their organizations'.
func webhookable(e *gardien.Event) bool {
	if e.OrgID != 0 {
		return orgWebhookTypes[e.Type]
	}
	return e.UserID != 0 && memberWebhookTypes[e.Type]
}

// queueWebhooks writes, in the event's transaction, a delivery of it to
// each endpoint that asked for its type: none is lost, none is sent for a
// change that did not commit.
func (s *Store) queueWebhooks(ctx context.Context, tx *sql.Tx, e *gardien.Event) error {
	at := e.Time.Unix()
	like := "% " + e.Type + " %"
	var err error
	if e.OrgID != 0 {
		_, err = s.txExec(ctx, tx, `INSERT INTO webhook_deliveries (webhook_id, event_id, created_at, expires_at, next_attempt_at)
			SELECT id, ?, ?, ?, ? FROM webhooks WHERE org_id = ? AND disabled_at = 0 AND events LIKE ?`,
			e.ID, at, at+int64(webhookLifetime/time.Second), at, e.OrgID, like)
	} else {
		_, err = s.txExec(ctx, tx, `INSERT INTO webhook_deliveries (webhook_id, event_id, created_at, expires_at, next_attempt_at)
			SELECT id, ?, ?, ?, ? FROM webhooks WHERE org_id IN (SELECT org_id FROM memberships WHERE user_id = ?) AND disabled_at = 0 AND events LIKE ?`,
			e.ID, at, at+int64(webhookLifetime/time.Second), at, e.UserID, like)
	}
	if err != nil {
		return fmt.Errorf("queue webhooks: %w", err)
	}
	return nil
}

const webhookColumns = `id, org_id, url, events, secret, created_at, disabled_at, failing_since, old_secret_until`

func scanWebhook(row scanner) (gardien.Webhook, error) {
	var w gardien.Webhook
	var events string
	var created, disabled, failing, oldUntil int64
	err := row.Scan(&w.ID, &w.OrgID, &w.URL, &events, &w.Sealed, &created, &disabled, &failing, &oldUntil)
	w.Events = strings.Fields(events)
	w.CreatedAt, w.DisabledAt, w.FailingSince = time.Unix(created, 0).UTC(), unixOrZero(disabled), unixOrZero(failing)
	w.OldSecretUntil = unixOrZero(oldUntil)
	return w, err
}

// webhookEvents writes event types as the column keeps them.
func webhookEvents(types []string) string { return " " + strings.Join(types, " ") + " " }

// Webhooks lists an organization's endpoints, the oldest first.
func (s *Store) Webhooks(ctx context.Context, orgID int64) ([]gardien.Webhook, error) {
	out, err := queryAll(ctx, s, `SELECT `+webhookColumns+` FROM webhooks WHERE org_id = ? ORDER BY id`, scanWebhook, orgID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: webhooks: %w", err)
	}
	return out, nil
}

// Webhook is one endpoint of an organization; gardien.ErrNotFound when it
// has no such endpoint.
func (s *Store) Webhook(ctx context.Context, orgID, id int64) (*gardien.Webhook, error) {
	w, err := scanWebhook(s.queryRow(ctx, s.reader, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ? AND org_id = ?`, id, orgID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gardien.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: webhook: %w", err)
	}
	return &w, nil
}

// AddWebhook adds an endpoint (w.ID set) and its audit line; refused with
// gardien.ErrTooMany when the organization has max already.
func (s *Store) AddWebhook(ctx context.Context, w *gardien.Webhook, max int, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := s.txQueryRow(ctx, tx, `SELECT COUNT(*) FROM webhooks WHERE org_id = ?`, w.OrgID).Scan(&n); err != nil {
			return err
		}
		if n >= max {
			return gardien.ErrTooMany
		}
		if err := s.txQueryRow(ctx, tx, `INSERT INTO webhooks (org_id, url, events, secret, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			w.OrgID, w.URL, webhookEvents(w.Events), w.Sealed, w.CreatedAt.Unix()).Scan(&w.ID); err != nil {
			return err
		}
		if e.Data == nil {
			e.Data = gardien.EventData{}
		}
		e.Data["text"] = fmt.Sprint(w.ID)
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil && !errors.Is(err, gardien.ErrTooMany) {
		return fmt.Errorf("sqlstore: add webhook: %w", err)
	}
	return err
}

// UpdateWebhook writes an endpoint's URL and events, and turns it on again
// when enable (its failures forgotten); gardien.ErrNotFound when the
// organization has no such endpoint.
func (s *Store) UpdateWebhook(ctx context.Context, w *gardien.Webhook, enable bool, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		q := `UPDATE webhooks SET url = ?, events = ? WHERE id = ? AND org_id = ?`
		if enable {
			q = `UPDATE webhooks SET url = ?, events = ?, disabled_at = 0, failing_since = 0 WHERE id = ? AND org_id = ?`
		}
		if err := s.txExec1(ctx, tx, q, w.URL, webhookEvents(w.Events), w.ID, w.OrgID); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if errors.Is(err, gardien.ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("sqlstore: update webhook: %w", err)
	}
	return nil
}

// RotateWebhookSecret gives an endpoint a new secret (sealed); the one it
// replaces signs beside it until oldUntil. gardien.ErrNotFound when the
// organization has no such endpoint.
func (s *Store) RotateWebhookSecret(ctx context.Context, orgID, id int64, sealed []byte, oldUntil time.Time, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.txExec1(ctx, tx, `UPDATE webhooks SET old_secret = secret, old_secret_until = ?, secret = ? WHERE id = ? AND org_id = ?`,
			oldUntil.Unix(), sealed, id, orgID); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if errors.Is(err, gardien.ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("sqlstore: rotate webhook secret: %w", err)
	}
	return nil
}

// DeleteWebhook deletes an endpoint and its deliveries; gardien.ErrNotFound
// when the organization has no such endpoint.
func (s *Store) DeleteWebhook(ctx context.Context, orgID, id int64, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.txExec1(ctx, tx, `DELETE FROM webhooks WHERE id = ? AND org_id = ?`, id, orgID); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if errors.Is(err, gardien.ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("sqlstore: delete webhook: %w", err)
	}
	return nil
}

// DisableWebhook turns an endpoint off when it has been failing since
// before failingBefore, its waiting deliveries given up; false when it was
// not (or another node did it first).
func (s *Store) DisableWebhook(ctx context.Context, id int64, failingBefore, now time.Time, e *gardien.Event) (bool, error) {
	done := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, `UPDATE webhooks SET disabled_at = ? WHERE id = ? AND disabled_at = 0 AND failing_since <> 0 AND failing_since <= ?`,
			now.Unix(), id, failingBefore.Unix())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		done = true
		if _, err := s.txExec(ctx, tx, `UPDATE webhook_deliveries SET state = 'failed', next_attempt_at = 0, response = ?
			WHERE webhook_id = ? AND state = 'pending'`, "not sent: the endpoint was turned off", id); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return false, fmt.Errorf("sqlstore: disable webhook: %w", err)
	}
	return done, nil
}

const webhookDeliveryColumns = `d.id, d.webhook_id, d.state, d.attempts, d.created_at, d.last_attempt_at, d.next_attempt_at, d.response, ` +
	eventColumns + `, COALESCE(uu.email, ''), COALESCE(ua.email, '')`

const webhookDeliveryFrom = ` FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
	LEFT JOIN users uu ON uu.id = e.user_id LEFT JOIN users ua ON ua.id = e.actor_id`

func scanWebhookDelivery(row scanner) (gardien.WebhookDelivery, error) {
	var d gardien.WebhookDelivery
	var created, last, next, at int64
	var detail string
	e := &d.Event
	err := row.Scan(&d.ID, &d.WebhookID, &d.State, &d.Attempts, &created, &last, &next, &d.Response,
		&e.ID, &at, &e.Type, &e.UserID, &e.ActorID, &e.OrgID, &e.IP, &e.UserAgent, &detail, &e.UserEmail, &e.ActorEmail)
	d.CreatedAt, d.LastAttemptAt = time.Unix(created, 0).UTC(), unixOrZero(last)
	if d.State == gardien.WebhookPending {
		d.NextAttemptAt = unixOrZero(next)
	}
	e.Time, e.Data = time.Unix(at, 0).UTC(), decodeEventData(detail)
	return d, err
}

// WebhookDeliveries lists an endpoint's deliveries, the newest first.
func (s *Store) WebhookDeliveries(ctx context.Context, webhookID int64, limit int) ([]gardien.WebhookDelivery, error) {
	out, err := queryAll(ctx, s, `SELECT `+webhookDeliveryColumns+webhookDeliveryFrom+` WHERE d.webhook_id = ? ORDER BY d.id DESC LIMIT ?`,
		scanWebhookDelivery, webhookID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: webhook deliveries: %w", err)
	}
	return out, nil
}

// ResendWebhookDelivery queues an event of an endpoint's log again, as a
// new delivery (its ID); gardien.ErrNotFound when the endpoint has no such
// delivery or it is still waiting.
func (s *Store) ResendWebhookDelivery(ctx context.Context, webhookID, deliveryID int64, now time.Time) (int64, error) {
	var id int64
	err := s.queryRow(ctx, s.writer, `INSERT INTO webhook_deliveries (webhook_id, event_id, created_at, expires_at, next_attempt_at)
		SELECT webhook_id, event_id, ?, ?, ? FROM webhook_deliveries WHERE id = ? AND webhook_id = ? AND state <> 'pending'
		RETURNING id`, now.Unix(), now.Add(webhookLifetime).Unix(), now.Unix(), deliveryID, webhookID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, gardien.ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("sqlstore: send webhook delivery again: %w", err)
	}
	return id, nil
}

// QueueWebhookTest writes a test event and its delivery to one endpoint
// (the delivery's ID); gardien.ErrNotFound when the organization has no
// such endpoint, on.
func (s *Store) QueueWebhookTest(ctx context.Context, orgID, webhookID int64, e *gardien.Event) (int64, error) {
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.insertEvent(ctx, tx, e); err != nil {
			return err
		}
		at := e.Time.Unix()
		err := s.txQueryRow(ctx, tx, `INSERT INTO webhook_deliveries (webhook_id, event_id, created_at, expires_at, next_attempt_at)
			SELECT id, ?, ?, ?, ? FROM webhooks WHERE id = ? AND org_id = ? AND disabled_at = 0 RETURNING id`,
			e.ID, at, at+int64(webhookLifetime/time.Second), at, webhookID, orgID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return gardien.ErrNotFound
		}
		return err
	})
	if errors.Is(err, gardien.ErrNotFound) {
		return 0, err
	}
	if err != nil {
		return 0, fmt.Errorf("sqlstore: test webhook: %w", err)
	}
	return id, nil
}

// DeleteOldWebhookDeliveries deletes the log's lines sent or given up
// before before.
func (s *Store) DeleteOldWebhookDeliveries(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.exec(ctx, s.writer, `DELETE FROM webhook_deliveries WHERE state <> 'pending' AND created_at < ?`, before.Unix())
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete old webhook deliveries: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// WebhookQueue is the webhook deliveries' outbox, for deliver.Worker: one
// delivery at a time per endpoint, in the order of their events; a line
// of the log once done.
type WebhookQueue struct{ s *Store }

// WebhookQueue returns the webhook deliveries' outbox.
func (s *Store) WebhookQueue() WebhookQueue { return WebhookQueue{s} }

// first is the condition of an endpoint's first waiting delivery: only it
// may be sent (alias d).
const first = `d.state = 'pending' AND NOT EXISTS (SELECT 1 FROM webhook_deliveries o WHERE o.webhook_id = d.webhook_id AND o.state = 'pending' AND o.id < d.id)`

// NextDeliveryDue says when the next endpoint's first delivery is due.
func (q WebhookQueue) NextDeliveryDue(ctx context.Context) (time.Time, bool, error) {
	var next sql.NullInt64
	if err := q.s.queryRow(ctx, q.s.reader, `SELECT MIN(d.next_attempt_at) FROM webhook_deliveries d WHERE `+first).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("sqlstore: next webhook delivery: %w", err)
	}
	return time.Unix(next.Int64, 0), next.Valid, nil
}

// ClaimDelivery takes the oldest due delivery that is its endpoint's
// first, until leaseEnd: while it is out, its endpoint gets no other.
func (q WebhookQueue) ClaimDelivery(ctx context.Context, now, leaseEnd time.Time) (*gardien.Delivery, error) {
	s := q.s
	var d gardien.Delivery
	var wd gardien.WebhookDelivery
	var eventID, expires int64
	err := s.queryRow(ctx, s.writer, `UPDATE webhook_deliveries SET next_attempt_at = ?, attempts = attempts + 1, last_attempt_at = ?
		WHERE id = (SELECT d.id FROM webhook_deliveries d WHERE `+first+` AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at, d.id LIMIT 1)
		AND state = 'pending' AND next_attempt_at <= ?
		RETURNING id, webhook_id, event_id, attempts, expires_at`, leaseEnd.Unix(), now.Unix(), now.Unix(), now.Unix()).
		Scan(&d.ID, &wd.WebhookID, &eventID, &d.Attempts, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gardien.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: claim webhook delivery: %w", err)
	}
	d.Kind, d.ExpiresAt = gardien.DeliveryWebhook, time.Unix(expires, 0)
	wd, err = scanWebhookDelivery(s.queryRow(ctx, s.writer, `SELECT `+webhookDeliveryColumns+webhookDeliveryFrom+` WHERE d.id = ?`, d.ID))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: claimed webhook delivery: %w", err)
	}
	var oldUntil int64
	if err := s.queryRow(ctx, s.writer, `SELECT url, secret, org_id, old_secret, old_secret_until FROM webhooks WHERE id = ?`, wd.WebhookID).
		Scan(&d.Target, &d.Secret, &wd.OrgID, &d.OldSecret, &oldUntil); err != nil {
		return nil, fmt.Errorf("sqlstore: claimed webhook delivery's endpoint: %w", err)
	}
	if oldUntil <= now.Unix() {
		d.OldSecret = nil
	}
	d.Webhook = &wd
	return &d, nil
}

// DeliveryDone records a delivery that went through (failure empty), or
// was given up; its endpoint's failures are forgotten, or start.
func (q WebhookQueue) DeliveryDone(ctx context.Context, d *gardien.Delivery, failure string) error {
	s := q.s
	err := s.tx(ctx, func(tx *sql.Tx) error {
		state, response := gardien.WebhookDelivered, d.Response
		if failure != "" {
			state, response = gardien.WebhookFailed, failure
		}
		var webhookID int64
		if err := s.txQueryRow(ctx, tx, `UPDATE webhook_deliveries SET state = ?, next_attempt_at = 0, response = ? WHERE id = ? RETURNING webhook_id`,
			state, gardien.Clip(response, 500), d.ID).Scan(&webhookID); err != nil {
			return err
		}
		return q.failing(ctx, tx, webhookID, d.ID, failure != "")
	})
	if err != nil && !errors.Is(err, sql.ErrNoRows) { // deleted with its endpoint meanwhile
		return fmt.Errorf("sqlstore: webhook delivery done: %w", err)
	}
	return nil
}

// failing starts (at the try of delivery deliveryID) or ends an
// endpoint's run of failures.
func (q WebhookQueue) failing(ctx context.Context, tx *sql.Tx, webhookID, deliveryID int64, failed bool) error {
	if !failed {
		_, err := q.s.txExec(ctx, tx, `UPDATE webhooks SET failing_since = 0 WHERE id = ? AND failing_since <> 0`, webhookID)
		return err
	}
	_, err := q.s.txExec(ctx, tx, `UPDATE webhooks SET failing_since = (SELECT last_attempt_at FROM webhook_deliveries WHERE id = ?)
		WHERE id = ? AND failing_since = 0`, deliveryID, webhookID)
	return err
}

// DeliveryFailed records a failed try and when to try again.
func (q WebhookQueue) DeliveryFailed(ctx context.Context, d *gardien.Delivery, next time.Time, reason string) error {
	s := q.s
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var webhookID int64
		if err := s.txQueryRow(ctx, tx, `UPDATE webhook_deliveries SET next_attempt_at = ?, response = ? WHERE id = ? AND state = 'pending' RETURNING webhook_id`,
			next.Unix(), gardien.Clip(reason, 500), d.ID).Scan(&webhookID); err != nil {
			return err
		}
		return q.failing(ctx, tx, webhookID, d.ID, true)
	})
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlstore: webhook delivery failed: %w", err)
	}
	return nil
}
