package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ReserveTry counts one try under key, if fewer than max are counted in its
// window (which starts again once older than window): one conditional
// statement, so concurrent tries on any node share one count and none
// slips past the limit. ok is false when the limit is reached; until is
// then when the window ends.
//
// The upsert's WHERE is evaluated on the row as locked by the statement
// (PostgreSQL re-reads it after waiting for a concurrent writer; SQLite has
// one writer), so the count cannot be read stale.
func (s *Store) ReserveTry(ctx context.Context, key []byte, max int, window time.Duration, now time.Time) (bool, time.Time, error) {
	n, since := now.Unix(), now.Add(-window).Unix()
	res, err := s.exec(ctx, s.writer, `INSERT INTO login_throttle (key, failures, window_start) VALUES (?, 1, ?)
		ON CONFLICT (key) DO UPDATE SET
		failures = CASE WHEN login_throttle.window_start <= ? THEN 1 ELSE login_throttle.failures + 1 END,
		window_start = CASE WHEN login_throttle.window_start <= ? THEN ? ELSE login_throttle.window_start END
		WHERE login_throttle.window_start <= ? OR login_throttle.failures < ?`,
		key, n, since, since, n, since, max)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("sqlstore: reserve try: %w", err)
	}
	if changed, err := res.RowsAffected(); err != nil {
		return false, time.Time{}, fmt.Errorf("sqlstore: reserve try: %w", err)
	} else if changed > 0 {
		return true, time.Time{}, nil
	}
	var start int64
	err = s.queryRow(ctx, s.writer, `SELECT window_start FROM login_throttle WHERE key = ?`, key).Scan(&start)
	if errors.Is(err, sql.ErrNoRows) {
		start = n // swept meanwhile: try again at once
	} else if err != nil {
		return false, time.Time{}, fmt.Errorf("sqlstore: reserve try: %w", err)
	}
	return false, time.Unix(start, 0).Add(window), nil
}

// TriesLeft says, without counting one, whether a try under key would be
// allowed now; until is when its window ends when it would not. Refusing
// early spares a try over its limit the wait for a hashing slot; the count
// that decides is ReserveTry's.
func (s *Store) TriesLeft(ctx context.Context, key []byte, max int, window time.Duration, now time.Time) (bool, time.Time, error) {
	var failures int
	var start int64
	err := s.queryRow(ctx, s.reader, `SELECT failures, window_start FROM login_throttle WHERE key = ?`, key).Scan(&failures, &start)
	if errors.Is(err, sql.ErrNoRows) {
		return true, time.Time{}, nil
	}
	if err != nil {
		return false, time.Time{}, fmt.Errorf("sqlstore: tries left: %w", err)
	}
	if start <= now.Add(-window).Unix() || failures < max {
		return true, time.Time{}, nil
	}
	return false, time.Unix(start, 0).Add(window), nil
}

// ReleaseTry gives back one try counted under key.
func (s *Store) ReleaseTry(ctx context.Context, key []byte) error {
	if _, err := s.exec(ctx, s.writer, `UPDATE login_throttle SET failures = failures - 1 WHERE key = ? AND failures > 0`, key); err != nil {
		return fmt.Errorf("sqlstore: release try: %w", err)
	}
	return nil
}

// ClearTries forgets the tries counted under key.
func (s *Store) ClearTries(ctx context.Context, key []byte) error {
	if _, err := s.exec(ctx, s.writer, `DELETE FROM login_throttle WHERE key = ?`, key); err != nil {
		return fmt.Errorf("sqlstore: clear tries: %w", err)
	}
	return nil
}

// DeleteOldTries removes counts whose window started before before.
func (s *Store) DeleteOldTries(ctx context.Context, before time.Time) error {
	if _, err := s.exec(ctx, s.writer, `DELETE FROM login_throttle WHERE window_start < ?`, before.Unix()); err != nil {
		return fmt.Errorf("sqlstore: old tries: %w", err)
	}
	return nil
}
