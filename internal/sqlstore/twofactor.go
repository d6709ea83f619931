package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gardien/gardien"
)

// forUpdate locks the rows a transaction reads, on PostgreSQL; SQLite's
// transactions here take the write lock at BEGIN, which serializes them anyway.
func (s *Store) forUpdate() string {
	if s.dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// SavePendingTOTP stores a new secret awaiting activation, replacing any
// earlier pending one. gardien.ErrDuplicate if 2FA is already enabled.
func (s *Store) SavePendingTOTP(ctx context.Context, userID int64, sealed []byte, expires, at time.Time) error {
	res, err := s.exec(ctx, s.writer, `INSERT INTO two_factor (user_id, secret, created_at, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at, expires_at = excluded.expires_at
		WHERE two_factor.enabled_at IS NULL`, userID, sealed, at.Unix(), expires.Unix())
	if err != nil {
		return fmt.Errorf("sqlstore: pending totp: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("sqlstore: pending totp: %w", gardien.ErrDuplicate)
	}
	return nil
}

// PendingTOTP returns the sealed secret awaiting activation, if not expired.
func (s *Store) PendingTOTP(ctx context.Context, userID int64, now time.Time) ([]byte, error) {
	return s.secret(ctx, "pending totp", `SELECT secret FROM two_factor WHERE user_id = ? AND enabled_at IS NULL AND expires_at > ?`, userID, now.Unix())
}

func (s *Store) secret(ctx context.Context, what, query string, args ...any) ([]byte, error) {
	var sealed []byte
	err := s.queryRow(ctx, s.reader, query, args...).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		err = gardien.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	return sealed, nil
}

// ActivateTOTP enables the pending secret, records the step of the code
// that activated it (so that code cannot log in again), replaces the
// recovery codes (when codeHashes is not nil: a person whose keys turned
// 2FA on keeps theirs) and writes the event, in one transaction.
// gardien.ErrNotFound when no live pending secret remains.
func (s *Store) ActivateTOTP(ctx context.Context, userID, step int64, codeHashes [][]byte, e *gardien.Event) error {
	at := e.Time.Unix()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		before, err := s.protectionOf(ctx, tx, userID)
		if err != nil {
			return err
		}
		if err := s.txExec1(ctx, tx, `UPDATE two_factor SET enabled_at = ?, expires_at = NULL, last_step = ?,
			checkup_due_at = ?, checkup_postponed = 0
			WHERE user_id = ? AND enabled_at IS NULL AND expires_at > ?`, at, step, at+int64(gardien.CheckupAfter/time.Second), userID, at); err != nil {
			return err
		}
		if codeHashes != nil {
			if err := s.replaceCodes(ctx, tx, userID, codeHashes); err != nil {
				return err
			}
		}
		if err := s.countProtection(ctx, tx, userID, before); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: activate totp: %w", err)
	}
	return nil
}

func (s *Store) replaceCodes(ctx context.Context, tx *sql.Tx, userID int64, codeHashes [][]byte) error {
	if _, err := s.txExec(ctx, tx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return err
	}
	for _, h := range codeHashes {
		if _, err := s.txExec(ctx, tx, `INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)`, userID, h); err != nil {
			return err
		}
	}
	return nil
}

// ReplaceRecoveryCodes sets a new list of recovery codes, with its event.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID int64, codeHashes [][]byte, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.replaceCodes(ctx, tx, userID, codeHashes); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: replace recovery codes: %w", err)
	}
	return nil
}

// TwoFactorStatus says since when the person's app is on (zero: no app)
// and how many recovery codes remain.
func (s *Store) TwoFactorStatus(ctx context.Context, userID int64) (time.Time, int, error) {
	var enabled int64
	var remaining int
	err := s.queryRow(ctx, s.reader, `SELECT
		COALESCE((SELECT t.enabled_at FROM two_factor t WHERE t.user_id = ? AND t.enabled_at IS NOT NULL), 0),
		(SELECT COUNT(*) FROM recovery_codes r WHERE r.user_id = ? AND r.used_at IS NULL)`, userID, userID).Scan(&enabled, &remaining)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("sqlstore: two-factor status: %w", err)
	}
	return unixOrZero(enabled), remaining, nil
}

// DisableSecondFactors turns a person's 2FA off — app, keys, recovery
// codes — ends their sessions but keep (0: all), and writes the event, in
// one transaction; gardien.ErrNotFound when 2FA was not on.
func (s *Store) DisableSecondFactors(ctx context.Context, userID, keep int64, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		before, err := s.lockSecondFactors(ctx, tx, userID)
		if err != nil {
			return err
		}
		if !before.on {
			return gardien.ErrNotFound
		}
		if err := s.secondFactorsOff(ctx, tx, userID, keep, e); err != nil {
			return err
		}
		return s.countProtection(ctx, tx, userID, before)
	})
	if err != nil && !errors.Is(err, gardien.ErrNotFound) {
		return fmt.Errorf("sqlstore: disable 2fa: %w", err)
	}
	return err
}

// secondFactorsOff removes whatever is left of a person's second factors,
// their tries and their sessions but keep, and writes e; the caller moves
// the counters.
func (s *Store) secondFactorsOff(ctx context.Context, tx *sql.Tx, userID, keep int64, e *gardien.Event) error {
	for _, q := range []string{`DELETE FROM two_factor WHERE user_id = ? AND enabled_at IS NOT NULL`,
		`DELETE FROM passkeys WHERE user_id = ?`, `DELETE FROM recovery_codes WHERE user_id = ?`,
		`UPDATE users SET tfa_failures = 0, tfa_lock_level = 0, tfa_locked_until = 0 WHERE id = ?`} {
		if _, err := s.txExec(ctx, tx, q, userID); err != nil {
			return err
		}
	}
	if _, err := s.txExec(ctx, tx, `DELETE FROM sessions WHERE user_id = ? AND id <> ?`, userID, keep); err != nil {
		return err
	}
	return s.insertEvent(ctx, tx, e)
}

// SaveNextTOTP keeps the secret of a new authenticator app beside the one
// in use until expires; gardien.ErrNotFound when 2FA is not on.
func (s *Store) SaveNextTOTP(ctx context.Context, userID int64, sealed []byte, expires time.Time) error {
	res, err := s.exec(ctx, s.writer, `UPDATE two_factor SET next_secret = ?, next_expires_at = ? WHERE user_id = ? AND enabled_at IS NOT NULL`,
		sealed, expires.Unix(), userID)
	if err != nil {
		return fmt.Errorf("sqlstore: next totp: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return gardien.ErrNotFound
	}
	return nil
}

// NextTOTP returns the sealed secret of a new app awaiting its first code.
func (s *Store) NextTOTP(ctx context.Context, userID int64, now time.Time) ([]byte, error) {
	return s.secret(ctx, "next totp", `SELECT next_secret FROM two_factor WHERE user_id = ? AND next_secret IS NOT NULL AND next_expires_at > ?`, userID, now.Unix())
}

// SwapTOTP puts the new app's secret in place of the old one, its code's
// step used up, with its event; gardien.ErrNotFound when none waits (or it
// expired, or another request swapped it first).
func (s *Store) SwapTOTP(ctx context.Context, userID, step int64, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.txExec1(ctx, tx, `UPDATE two_factor SET secret = next_secret, next_secret = NULL, next_expires_at = NULL, last_step = ?
			WHERE user_id = ? AND next_secret IS NOT NULL AND next_expires_at > ?`, step, userID, e.Time.Unix()); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if errors.Is(err, gardien.ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("sqlstore: swap totp: %w", err)
	}
	return nil
}

// Checkup returns where a person's 2FA check-up stands; gardien.ErrNotFound
// when 2FA is not on.
func (s *Store) Checkup(ctx context.Context, userID int64) (*gardien.Checkup, error) {
	var c gardien.Checkup
	var due int64
	err := s.queryRow(ctx, s.reader, `SELECT t.checkup_due_at, t.checkup_postponed, t.last_step,
		(SELECT COUNT(*) FROM recovery_codes r WHERE r.user_id = t.user_id AND r.used_at IS NULL)
		FROM two_factor t WHERE t.user_id = ? AND t.enabled_at IS NOT NULL`, userID).Scan(&due, &c.Postponed, &c.LastStep, &c.CodesLeft)
	if errors.Is(err, sql.ErrNoRows) {
		err = gardien.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: checkup: %w", err)
	}
	c.Due = unixOrZero(due)
	return &c, nil
}

// SetCheckup moves a person's check-up to due (zero: done) with postponed
// times "later", and writes the event, in one transaction; postponed is
// checked against wasPostponed so that two answers at once count once.
// gardien.ErrNotFound when no check-up is due as it was read (another
// answer came first, or 2FA is off).
func (s *Store) SetCheckup(ctx context.Context, userID int64, due time.Time, wasPostponed, postponed int, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, `UPDATE two_factor SET checkup_due_at = ?, checkup_postponed = ?
			WHERE user_id = ? AND enabled_at IS NOT NULL AND checkup_due_at <> 0 AND checkup_postponed = ?`,
			unixOrNone(due), postponed, userID, wasPostponed)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return gardien.ErrNotFound
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: set checkup: %w", err)
	}
	return nil
}
