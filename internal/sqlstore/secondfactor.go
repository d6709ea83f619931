package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
)

// SecondFactor runs fn in one transaction on the writer (auth.SecondFactorStore):
// one commit for a whole proof of a second factor. The person's row is
// locked from the read of their factor (SQLite: the writer is one at a
// time; PostgreSQL: FOR UPDATE), so that concurrent proofs of one person
// are judged one after the other, whatever the node.
func (s *Store) SecondFactor(ctx context.Context, fn func(auth.SecondFactorTx) error) error {
	if err := s.tx(ctx, func(tx *sql.Tx) error { return fn(factorTx{s, tx}) }); err != nil {
		return fmt.Errorf("sqlstore: second factor: %w", err)
	}
	return nil
}

// factorTx is the statements of a proof of a second factor.
type factorTx struct {
	s  *Store
	tx *sql.Tx
}

// factorColumns follow userColumns and sessionColumns in StepOf, and stand
// alone in FactorOf: the sealed secret (NULL when 2FA is off), the
// whether keys are registered, when a key is asked for (-1: never), the
// check-up's date, the counts of tries.
const factorColumns = `t.secret, ` + keysOn + `, COALESCE((SELECT MIN(o.require_two_factor_deadline) FROM memberships m
	JOIN organizations o ON o.id = m.org_id WHERE m.user_id = u.id AND o.require_two_factor AND o.require_phishing_resistant), -1),
	COALESCE(t.checkup_due_at, 0),
	u.tfa_failures, u.tfa_lock_level, u.tfa_day_failures, u.tfa_day_start, u.tfa_last_failure, u.tfa_locked_until`

// factorScan is where factorColumns are read to.
type factorScan struct {
	f                                                auth.Factor
	keysDue, due, dayStart, lastFailure, lockedUntil int64
}

func (fs *factorScan) dest() []any {
	t := &fs.f.Tries
	return []any{&fs.f.Sealed, &fs.f.Keys, &fs.keysDue, &fs.due, &t.Failures, &t.LockLevel, &t.DayFailures, &fs.dayStart, &fs.lastFailure, &fs.lockedUntil}
}

func (fs *factorScan) factor() *auth.Factor {
	f := fs.f
	f.CheckupDue = unixOrZero(fs.due)
	if fs.keysDue >= 0 {
		// A requirement without a deadline (0) holds from its start.
		f.KeysDue = time.Unix(max(fs.keysDue, 1), 0).UTC()
	}
	f.Tries.DayStart, f.Tries.LastFailure, f.Tries.LockedUntil = unixOrZero(fs.dayStart), unixOrZero(fs.lastFailure), unixOrZero(fs.lockedUntil)
	return &f
}

// lockPerson is the end of a read of a factor: the person's row locked.
func (t factorTx) lockPerson() string {
	if t.s.dialect == Postgres {
		return ` FOR UPDATE OF u`
	}
	return ""
}

func (t factorTx) StepOf(ctx context.Context, key auth.SessionKey) (*gardien.Session, *gardien.User, *auth.Factor, error) {
	where, arg := sessionWhere(key)
	row := t.s.txQueryRow(ctx, t.tx, `SELECT `+userColumns+`, `+sessionColumns+`, `+factorColumns+`
		FROM sessions s JOIN users u ON u.id = s.user_id
		LEFT JOIN two_factor t ON t.user_id = u.id AND t.enabled_at IS NOT NULL WHERE `+where+t.lockPerson(), arg)
	var fs factorScan
	sess, u, err := scanSessionUser(key, row, fs.dest()...)
	if err != nil {
		return nil, nil, nil, err
	}
	return sess, u, fs.factor(), nil
}

func (t factorTx) FactorOf(ctx context.Context, userID int64) (*auth.Factor, error) {
	var fs factorScan
	err := t.s.txQueryRow(ctx, t.tx, `SELECT `+factorColumns+`
		FROM users u LEFT JOIN two_factor t ON t.user_id = u.id AND t.enabled_at IS NOT NULL WHERE u.id = ?`+t.lockPerson(), userID).Scan(fs.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gardien.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return fs.factor(), nil
}

// UseStep is the replay guard: one conditional statement, which of two
// proofs with one code changes the row for one only.
func (t factorTx) UseStep(ctx context.Context, userID, step int64) (bool, error) {
	res, err := t.s.txExec(ctx, t.tx, `UPDATE two_factor SET last_step = ? WHERE user_id = ? AND enabled_at IS NOT NULL AND last_step < ?`, step, userID, step)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t factorTx) UseRecoveryCode(ctx context.Context, userID int64, codeHash []byte, at time.Time) (int, error) {
	if err := t.s.txExec1(ctx, t.tx, `UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL`, at.Unix(), userID, codeHash); err != nil {
		return 0, err
	}
	var left int
	err := t.s.txQueryRow(ctx, t.tx, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`, userID).Scan(&left)
	return left, err
}

func (t factorTx) SetTries(ctx context.Context, userID int64, tr auth.Tries, loginAt time.Time) error {
	const set = `UPDATE users SET tfa_failures = ?, tfa_lock_level = ?, tfa_day_failures = ?, tfa_day_start = ?, tfa_last_failure = ?, tfa_locked_until = ?`
	args := []any{tr.Failures, tr.LockLevel, tr.DayFailures, unixOrNone(tr.DayStart), unixOrNone(tr.LastFailure), unixOrNone(tr.LockedUntil)}
	if loginAt.IsZero() {
		return t.s.txExec1(ctx, t.tx, set+` WHERE id = ?`, append(args, userID)...)
	}
	return t.s.txExec1(ctx, t.tx, set+`, last_login_at = ? WHERE id = ?`, append(args, loginAt.Unix(), userID)...)
}

func (t factorTx) Promote(ctx context.Context, p auth.Promotion) error {
	if err := t.s.rotate(ctx, t.tx, p.SessionID, &p.Key, p.SecretHash, p.Level, p.Expires, p.Event.Time); err != nil {
		return err
	}
	if p.Level == gardien.LevelFull {
		if _, err := t.s.txExec(ctx, t.tx, `UPDATE sessions SET mfa = TRUE, amr = ? WHERE id = ?`, p.AMR, p.SessionID); err != nil {
			return err
		}
	}
	return t.s.insertEvent(ctx, t.tx, p.Event)
}

// Passkeys reads a person's keys.
func (t factorTx) Passkeys(ctx context.Context, userID int64) ([]gardien.Passkey, error) {
	rows, err := t.tx.QueryContext(ctx, t.s.q(`SELECT `+passkeyColumns+` FROM passkeys WHERE user_id = ? ORDER BY id`), userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []gardien.Passkey
	for rows.Next() {
		p, err := scanPasskey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// TakeCeremony is Store.TakeCeremony in the proof's transaction.
func (t factorTx) TakeCeremony(ctx context.Context, sessionID int64, kind string, now time.Time) ([]byte, error) {
	return t.s.takeCeremony(ctx, t.tx, sessionID, kind, now)
}

func (t factorTx) UsePasskey(ctx context.Context, userID int64, credentialID, credential []byte, at time.Time) error {
	_, err := t.s.txExec(ctx, t.tx, usePasskey, string(credential), at.Unix(), userID, credentialID)
	return err
}

func (t factorTx) Record(ctx context.Context, e *gardien.Event) error {
	return t.s.insertEvent(ctx, t.tx, e)
}
