package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// LoginFailures returns how many failures a key has in its current window,
// and when that window started (zero when none is open since windowStart).
func (s *Store) LoginFailures(ctx context.Context, key []byte, since time.Time) (int, time.Time, error) {
	var n int
	var start int64
	err := s.queryRow(ctx, s.r, `SELECT failures, window_start FROM login_throttle WHERE key = ? AND window_start >= ?`, key, since.Unix()).Scan(&n, &start)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("sqlstore: login failures: %w", err)
	}
	return n, time.Unix(start, 0), nil
}

// AddLoginFailure counts a failure for each key; a window older than since
// starts again at now.
func (s *Store) AddLoginFailure(ctx context.Context, keys [][]byte, now, since time.Time) error {
	for _, k := range keys {
		_, err := s.exec(ctx, s.w, `INSERT INTO login_throttle (key, failures, window_start) VALUES (?, 1, ?)
			ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN login_throttle.window_start < ? THEN 1 ELSE login_throttle.failures + 1 END,
			window_start = CASE WHEN login_throttle.window_start < ? THEN ? ELSE login_throttle.window_start END`,
			k, now.Unix(), since.Unix(), since.Unix(), now.Unix())
		if err != nil {
			return fmt.Errorf("sqlstore: login failure: %w", err)
		}
	}
	return nil
}

// ClearLoginFailures forgets a key's failures (a right password).
func (s *Store) ClearLoginFailures(ctx context.Context, key []byte) error {
	if _, err := s.exec(ctx, s.w, `DELETE FROM login_throttle WHERE key = ?`, key); err != nil {
		return fmt.Errorf("sqlstore: clear login failures: %w", err)
	}
	return nil
}

// DeleteOldLoginFailures removes windows that ended.
func (s *Store) DeleteOldLoginFailures(ctx context.Context, before time.Time) error {
	if _, err := s.exec(ctx, s.w, `DELETE FROM login_throttle WHERE window_start < ?`, before.Unix()); err != nil {
		return fmt.Errorf("sqlstore: old login failures: %w", err)
	}
	return nil
}
