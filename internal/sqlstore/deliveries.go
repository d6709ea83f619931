package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gardien/gardien"
)

// NextDeliveryDue says when the next delivery is due (ok false: none
// waits); a read, so idle workers poll without the write lock.
func (s *Store) NextDeliveryDue(ctx context.Context) (time.Time, bool, error) {
	var next sql.NullInt64
	if err := s.queryRow(ctx, s.reader, `SELECT MIN(next_attempt_at) FROM deliveries`).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("sqlstore: next delivery: %w", err)
	}
	return time.Unix(next.Int64, 0), next.Valid, nil
}

// ClaimDelivery takes the oldest due delivery until leaseEnd (due again
// then if its worker dies); gardien.ErrNotFound when none is due.
func (s *Store) ClaimDelivery(ctx context.Context, now, leaseEnd time.Time) (*gardien.Delivery, error) {
	var d gardien.Delivery
	var payload string
	var expires int64
	err := s.queryRow(ctx, s.writer, `UPDATE deliveries SET next_attempt_at = ?, attempts = attempts + 1
		WHERE id = (SELECT id FROM deliveries WHERE next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 1) AND next_attempt_at <= ?
		RETURNING id, kind, target, payload, attempts, expires_at`, leaseEnd.Unix(), now.Unix(), now.Unix()).
		Scan(&d.ID, &d.Kind, &d.Target, &payload, &d.Attempts, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gardien.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: claim delivery: %w", err)
	}
	d.Payload, d.ExpiresAt = []byte(payload), time.Unix(expires, 0)
	return &d, nil
}

// DeliveryDone removes a delivery sent, or given up.
func (s *Store) DeliveryDone(ctx context.Context, d *gardien.Delivery, _ string) error {
	if _, err := s.exec(ctx, s.writer, `DELETE FROM deliveries WHERE id = ?`, d.ID); err != nil {
		return fmt.Errorf("sqlstore: delivery done: %w", err)
	}
	return nil
}

// DeliveryFailed records a failed try and when to try again.
func (s *Store) DeliveryFailed(ctx context.Context, d *gardien.Delivery, next time.Time, reason string) error {
	if _, err := s.exec(ctx, s.writer, `UPDATE deliveries SET next_attempt_at = ?, last_error = ? WHERE id = ?`,
		next.Unix(), gardien.Clip(reason, 500), d.ID); err != nil {
		return fmt.Errorf("sqlstore: delivery failed: %w", err)
	}
	return nil
}
