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

// TOTPSecret returns the sealed secret of an enabled 2FA.
// With it comes when the 2FA check-up is due (zero: none), which a login
// that passes its second step offers: one read for both.
func (s *Store) TOTPSecret(ctx context.Context, userID int64) ([]byte, time.Time, error) {
	var sealed []byte
	var due int64
	err := s.queryRow(ctx, s.reader, `SELECT secret, checkup_due_at FROM two_factor WHERE user_id = ? AND enabled_at IS NOT NULL`, userID).
		Scan(&sealed, &due)
	if errors.Is(err, sql.ErrNoRows) {
		err = gardien.ErrNotFound
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("sqlstore: totp secret: %w", err)
	}
	return sealed, unixOrZero(due), nil
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
// recovery codes and writes the event, in one transaction.
// gardien.ErrNotFound when no live pending secret remains.
func (s *Store) ActivateTOTP(ctx context.Context, userID, step int64, codeHashes [][]byte, e *gardien.Event) error {
	at := e.Time.Unix()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		before, err := s.protection(ctx, tx, userID)
		if err != nil {
			return err
		}
		if err := s.txExec1(ctx, tx, `UPDATE two_factor SET enabled_at = ?, expires_at = NULL, last_step = ?,
			checkup_due_at = ?, checkup_postponed = 0
			WHERE user_id = ? AND enabled_at IS NULL AND expires_at > ?`, at, step, at+int64(gardien.CheckupAfter/time.Second), userID, at); err != nil {
			return err
		}
		if err := s.replaceCodes(ctx, tx, userID, codeHashes); err != nil {
			return err
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

// ConsumeTOTPStep records that the code of step was used, if no code of
// this step or a later one was used before. This one conditional statement
// is the replay guard: of two requests with one code, on one node or
// several, exactly one changes the row.
func (s *Store) ConsumeTOTPStep(ctx context.Context, userID, step int64) (bool, error) {
	res, err := s.exec(ctx, s.writer, `UPDATE two_factor SET last_step = ? WHERE user_id = ? AND enabled_at IS NOT NULL AND last_step < ?`, step, userID, step)
	if err != nil {
		return false, fmt.Errorf("sqlstore: consume totp step: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlstore: consume totp step: %w", err)
	}
	return n == 1, nil
}

// ConsumeRecoveryCode uses a recovery code once and returns how many remain.
// gardien.ErrNotFound for an unknown or used code.
func (s *Store) ConsumeRecoveryCode(ctx context.Context, userID int64, codeHash []byte, at time.Time) (int, error) {
	var remaining int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.txExec1(ctx, tx, `UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL`, at.Unix(), userID, codeHash); err != nil {
			return err
		}
		return s.txQueryRow(ctx, tx, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`, userID).Scan(&remaining)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlstore: consume recovery code: %w", err)
	}
	return remaining, nil
}

// TwoFactorStatus says since when 2FA is enabled and how many recovery
// codes remain; gardien.ErrNotFound when it is not enabled.
func (s *Store) TwoFactorStatus(ctx context.Context, userID int64) (time.Time, int, error) {
	var enabled int64
	var remaining int
	err := s.queryRow(ctx, s.reader, `SELECT t.enabled_at,
		(SELECT COUNT(*) FROM recovery_codes r WHERE r.user_id = t.user_id AND r.used_at IS NULL)
		FROM two_factor t WHERE t.user_id = ? AND t.enabled_at IS NOT NULL`, userID).Scan(&enabled, &remaining)
	if errors.Is(err, sql.ErrNoRows) {
		err = gardien.ErrNotFound
	}
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("sqlstore: two-factor status: %w", err)
	}
	return time.Unix(enabled, 0).UTC(), remaining, nil
}

// DisableTOTP removes a person's 2FA (secret and recovery codes), ends
// their sessions but keep (0: all), and writes the event, in one
// transaction. gardien.ErrNotFound when 2FA was not enabled.
func (s *Store) DisableTOTP(ctx context.Context, userID, keep int64, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		before, err := s.protection(ctx, tx, userID)
		if err != nil {
			return err
		}
		if err := s.txExec1(ctx, tx, `DELETE FROM two_factor WHERE user_id = ? AND enabled_at IS NOT NULL`, userID); err != nil {
			return err
		}
		if err := s.countProtection(ctx, tx, userID, before); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM recovery_codes WHERE user_id = ?`,
			`UPDATE users SET tfa_failures = 0, tfa_lock_level = 0, tfa_locked_until = 0 WHERE id = ?`} {
			if _, err := s.txExec(ctx, tx, q, userID); err != nil {
				return err
			}
		}
		if _, err := s.txExec(ctx, tx, `DELETE FROM sessions WHERE user_id = ? AND id <> ?`, userID, keep); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: disable totp: %w", err)
	}
	return nil
}

// ReserveSecondFactorTry counts a second-factor try before it is checked,
// so that concurrent guesses cannot slip past the limits: the try is
// allowed when the account is not locked and both counts are under their
// limits. A right code gives its try back (PassSecondStep). When refused,
// it returns until when the account is locked.
func (s *Store) ReserveSecondFactorTry(ctx context.Context, userID int64, lim gardien.TryLimits, now time.Time) (bool, time.Time, error) {
	res, err := s.exec(ctx, s.writer, reserveTry, reserveTryArgs(userID, lim, now)...)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("sqlstore: reserve try: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, time.Time{}, nil
	}
	var until int64
	if err := s.queryRow(ctx, s.writer, lockedUntil, userID).Scan(&until); err != nil {
		return false, time.Time{}, fmt.Errorf("sqlstore: reserve try: %w", err)
	}
	return false, openAgain(until, now), nil
}

// reserveTry counts a try when the account is not locked and both counts
// are under their limits (tryAllowed); it changes no row otherwise.
const reserveTry = `UPDATE users SET
		tfa_lock_level = CASE WHEN tfa_last_failure < ? THEN 0 ELSE tfa_lock_level END,
		tfa_failures = CASE WHEN tfa_last_failure < ? THEN 1 ELSE tfa_failures + 1 END,
		tfa_day_failures = CASE WHEN tfa_day_start <= ? THEN 1 ELSE tfa_day_failures + 1 END,
		tfa_day_start = CASE WHEN tfa_day_start <= ? THEN ? ELSE tfa_day_start END,
		tfa_last_failure = ?` + tryAllowed

// passTry is reserveTry and clearTries in one statement, for a right code:
// under the same conditions, the try counted and given back (the failures
// cleared, the day's count as it was or begun anew), the login recorded.
const passTry = `UPDATE users SET
		tfa_lock_level = CASE WHEN tfa_last_failure < ? THEN 0 ELSE tfa_lock_level END,
		tfa_failures = 0,
		tfa_day_failures = CASE WHEN tfa_day_start <= ? THEN 0 ELSE tfa_day_failures END,
		tfa_day_start = CASE WHEN tfa_day_start <= ? THEN ? ELSE tfa_day_start END,
		tfa_last_failure = ?, last_login_at = ?` + tryAllowed

// tryAllowed is when a try may be made: not locked, both counts under their
// limits (or their window over).
const tryAllowed = `
		WHERE id = ? AND tfa_locked_until <= ?
		AND (tfa_failures < ? OR tfa_last_failure < ?)
		AND (tfa_day_failures < ? OR tfa_day_start <= ?)`

func reserveTryArgs(userID int64, lim gardien.TryLimits, now time.Time) []any {
	n, dayAgo := now.Unix(), now.Add(-lim.Day).Unix()
	return []any{dayAgo, dayAgo, dayAgo, dayAgo, n, n, // SET
		userID, n, lim.Consecutive, dayAgo, lim.Daily, dayAgo} // tryAllowed
}

func passTryArgs(userID int64, lim gardien.TryLimits, now, loginAt time.Time) []any {
	n, dayAgo := now.Unix(), now.Add(-lim.Day).Unix()
	return []any{dayAgo, dayAgo, dayAgo, n, n, loginAt.Unix(), // SET
		userID, n, lim.Consecutive, dayAgo, lim.Daily, dayAgo} // tryAllowed
}

const lockedUntil = `SELECT tfa_locked_until FROM users WHERE id = ?`

// openAgain is when a refused try may be made again.
func openAgain(lockedUntil int64, now time.Time) time.Time {
	if lockedUntil <= now.Unix() {
		// Tries up to a limit are under way and not yet judged: a moment.
		lockedUntil = now.Unix() + 1
	}
	return time.Unix(lockedUntil, 0).UTC()
}

// errStepUsed rolls back a pass whose code's step was used already.
var errStepUsed = errors.New("step used")

// TrySecondStep is a login's second step by code, in one transaction on
// the writer (one commit, and no read of its own on a reader): the session
// the cookie's key names, its person and their sealed secret are read in
// one query (sealed is nil when 2FA is off), and check decides — the
// session may take its step, the code's time step and whether it is right,
// what the step makes of the session. Then the try is counted and, when the
// code is right, the step passed as PassSecondStep does, the try given back
// in the same statement. gardien.ErrNotFound, and check not called, when
// the key names no session; check's error rolls back and is returned as it
// is. When the try is refused it returns a *gardien.TriesExhaustedError and
// changes nothing, doing the same work whatever the code was: attempts
// refused are not counted, and must not tell a right code from a wrong one,
// even by their time. A right code of a step used already returns
// gardien.ErrCodeUsed with its try counted, as a wrong code's.
func (s *Store) TrySecondStep(ctx context.Context, key gardien.SessionKey, lim gardien.TryLimits, now time.Time,
	check func(sess *gardien.Session, u *gardien.User, sealed []byte, checkupDue time.Time) (p gardien.SecondStep, right bool, err error)) error {
	var userID int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		where, arg := sessionWhere(key)
		row := s.txQueryRow(ctx, tx, `SELECT `+userColumns+`, `+sessionColumns+`, t.secret, COALESCE(t.checkup_due_at, 0)
			FROM sessions s JOIN users u ON u.id = s.user_id
			LEFT JOIN two_factor t ON t.user_id = u.id AND t.enabled_at IS NOT NULL WHERE `+where, arg)
		var sealed []byte
		var due int64
		sess, u, err := scanSessionUser(key, row, &sealed, &due)
		if err != nil {
			return err
		}
		p, right, err := check(sess, u, sealed, unixOrZero(due))
		if err != nil {
			return err
		}
		userID, p.UserID, p.SessionID, p.Key = u.ID, u.ID, sess.ID, key
		q, args := reserveTry, reserveTryArgs(p.UserID, lim, now)
		if right {
			q, args = passTry, passTryArgs(p.UserID, lim, now, p.Event.Time)
		}
		res, err := s.txExec(ctx, tx, q, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			var until int64
			if err := s.txQueryRow(ctx, tx, lockedUntil, p.UserID).Scan(&until); err != nil {
				return err
			}
			return &gardien.TriesExhaustedError{Until: openAgain(until, now)}
		}
		if !right {
			return nil
		}
		if fresh, err := s.useStep(ctx, tx, p); err != nil || !fresh {
			if err == nil {
				err = errStepUsed
			}
			return err
		}
		return s.promoteSession(ctx, tx, p)
	})
	if errors.Is(err, errStepUsed) {
		// Rare (a replay, or two requests with one code): the pass is
		// rolled back and the try counted on its own, as a wrong code's.
		ok, until, rerr := s.ReserveSecondFactorTry(ctx, userID, lim, now)
		switch {
		case rerr != nil:
			err = rerr
		case !ok:
			err = &gardien.TriesExhaustedError{Until: until}
		default:
			err = gardien.ErrCodeUsed
		}
	}
	if err != nil {
		return fmt.Errorf("sqlstore: try second step: %w", err)
	}
	return nil
}

// PassSecondStep completes a login's second step in one transaction (one
// commit, where there were four): the failed tries are cleared (the try was
// counted before the check: it is given back) and the login recorded, the
// code's step used up, the session promoted, the event written.
// gardien.ErrCodeUsed, and nothing changed, when a code of that step or a
// later one was accepted already: of two requests with one code, on one
// node or several, exactly one passes.
func (s *Store) PassSecondStep(ctx context.Context, p gardien.SecondStep) error {
	err := s.txEnd(ctx, func(tx *sql.Tx) error {
		// users first, as every transaction that takes both rows.
		if err := s.clearTries(ctx, tx, p); err != nil {
			return err
		}
		if fresh, err := s.useStep(ctx, tx, p); err != nil || !fresh {
			if err == nil {
				err = gardien.ErrCodeUsed
			}
			return err
		}
		return s.promoteSession(ctx, tx, p)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: pass second step: %w", err)
	}
	return nil
}

// clearTries clears the failed tries (the step's own try, counted before,
// is given back) and records the login.
func (s *Store) clearTries(ctx context.Context, tx *sql.Tx, p gardien.SecondStep) error {
	_, err := s.txExec(ctx, tx, `UPDATE users SET tfa_failures = 0,
		tfa_day_failures = CASE WHEN tfa_day_failures > 0 THEN tfa_day_failures - 1 ELSE 0 END, last_login_at = ? WHERE id = ?`,
		p.Event.Time.Unix(), p.UserID)
	return err
}

// useStep uses up the code's time step, the replay guard: false when a code
// of that step or a later one was accepted already. A recovery code (step
// 0) was used up before.
func (s *Store) useStep(ctx context.Context, tx *sql.Tx, p gardien.SecondStep) (bool, error) {
	if p.Step == 0 {
		return true, nil
	}
	res, err := s.txExec(ctx, tx, `UPDATE two_factor SET last_step = ? WHERE user_id = ? AND enabled_at IS NOT NULL AND last_step < ?`,
		p.Step, p.UserID, p.Step)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// promoteSession gives the session its new secret and level while the
// step's key still opens it, and writes the event. gardien.ErrNotFound when
// another request promoted it first (two codes of the person's sent at once
// with one cookie; on PostgreSQL both may have read the session before
// either committed): the step rolls back.
func (s *Store) promoteSession(ctx context.Context, tx *sql.Tx, p gardien.SecondStep) error {
	if err := s.rotate(ctx, tx, p.SessionID, &p.Key, p.SecretHash, p.Level, p.Expires, p.Event.Time); err != nil {
		return err
	}
	return s.insertEvent(ctx, tx, p.Event)
}

// LockIfExhausted locks the second step once a limit is reached: for
// LockFor(level) after Consecutive failures, raising the level; until the
// day is over after Daily ones. It says until when, or the zero time when
// this call set no lock.
func (s *Store) LockIfExhausted(ctx context.Context, userID int64, lim gardien.TryLimits, now time.Time) (time.Time, error) {
	var until time.Time
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var failures, level, dayFailures int
		var dayStart int64
		if err := s.txQueryRow(ctx, tx, `SELECT tfa_failures, tfa_lock_level, tfa_day_failures, tfa_day_start FROM users WHERE id = ?`+s.forUpdate(), userID).
			Scan(&failures, &level, &dayFailures, &dayStart); err != nil {
			return err
		}
		if failures < lim.Consecutive && dayFailures < lim.Daily {
			return nil
		}
		until = now.Add(lim.LockFor(level))
		if dayEnd := time.Unix(dayStart, 0).Add(lim.Day); dayFailures >= lim.Daily && dayEnd.After(until) {
			until = dayEnd
		}
		_, err := s.txExec(ctx, tx, `UPDATE users SET tfa_locked_until = ?, tfa_lock_level = ?, tfa_failures = 0 WHERE id = ?`, until.Unix(), level+1, userID)
		return err
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlstore: lock: %w", err)
	}
	return until.UTC(), nil
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

// GiveBackSecondFactorTry returns a try counted before a right code (a
// second factor checked outside a login, as for a new app).
func (s *Store) GiveBackSecondFactorTry(ctx context.Context, userID int64) error {
	if _, err := s.exec(ctx, s.writer, `UPDATE users SET tfa_failures = 0,
		tfa_day_failures = CASE WHEN tfa_day_failures > 0 THEN tfa_day_failures - 1 ELSE 0 END WHERE id = ?`, userID); err != nil {
		return fmt.Errorf("sqlstore: give back try: %w", err)
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
