package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/gardien/gardien"
)

// SetDisabled disables (ending every session) or enables an account, as
// the operator (an identity provider cannot undo it), and writes the
// event, in one transaction; gardien.ErrNotFound when no such
// account.
func (s *Store) SetDisabled(ctx context.Context, userID int64, disabled bool, e *gardien.Event) error {
	at := int64(0)
	if disabled {
		at = e.Time.Unix()
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.txExec1(ctx, tx, `UPDATE users SET disabled_at = ?, disabled_by = '' WHERE id = ?`, at, userID); err != nil {
			return err
		}
		if disabled {
			if _, err := s.txExec(ctx, tx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
				return err
			}
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: set disabled: %w", err)
	}
	return nil
}

// EndAllSessions ends every session of a person, with the event; it
// returns how many ended.
func (s *Store) EndAllSessions(ctx context.Context, userID int64, e *gardien.Event) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, `DELETE FROM sessions WHERE user_id = ?`, userID)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlstore: end sessions: %w", err)
	}
	return n, nil
}

// ClearSecondFactorLock forgets a person's wrong codes and lifts their
// second factor's lock, with the event.
func (s *Store) ClearSecondFactorLock(ctx context.Context, userID int64, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.txExec1(ctx, tx, `UPDATE users SET tfa_failures = 0, tfa_lock_level = 0, tfa_locked_until = 0,
			tfa_day_failures = 0 WHERE id = ?`, userID); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: clear lock: %w", err)
	}
	return nil
}

// AccountRow is one line of an operator's list of accounts.
type AccountRow struct {
	User      gardien.User
	LastLogin time.Time // zero: never
}

// ListUsers lists accounts whose email or name contains match ("" for
// all), by email, up to limit.
func (s *Store) ListUsers(ctx context.Context, match string, limit int) ([]AccountRow, error) {
	out, err := queryAll(ctx, s, `SELECT `+userColumns+`, COALESCE(u.last_login_at, 0) FROM users u
		WHERE ? = '' OR LOWER(u.email) LIKE ? ESCAPE '\' OR LOWER(u.name) LIKE ? ESCAPE '\' ORDER BY u.email LIMIT ?`,
		func(row scanner) (AccountRow, error) {
			var last int64
			u, err := scanUser(row, &last)
			if err != nil {
				return AccountRow{}, err
			}
			return AccountRow{User: *u, LastLogin: unixOrZero(last)}, nil
		}, match, "%"+likeEscape(strings.ToLower(match))+"%", "%"+likeEscape(strings.ToLower(match))+"%", limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list users: %w", err)
	}
	return out, nil
}

// GivenUpMail is the trace of a mail given up after its tries.
type GivenUpMail struct {
	ID        int64
	To        string
	CreatedAt time.Time
	Attempts  int
	LastError string
	// RetryUntil is when its link expires: until then it can be sent
	// again (RetryMail). Zero: its body is gone already.
	RetryUntil time.Time
}

// GivenUpMails lists the traces of mails given up, newest first.
func (s *Store) GivenUpMails(ctx context.Context, limit int) ([]GivenUpMail, error) {
	out, err := queryAll(ctx, s, `SELECT id, to_addr, created_at, attempts, last_error,
		CASE WHEN body IS NULL THEN 0 ELSE expires_at END FROM outbox
		WHERE next_attempt_at >= ? ORDER BY id DESC LIMIT ?`,
		func(row scanner) (GivenUpMail, error) {
			var m GivenUpMail
			var created, until int64
			err := row.Scan(&m.ID, &m.To, &created, &m.Attempts, &m.LastError, &until)
			m.CreatedAt = time.Unix(created, 0).UTC()
			if until > 0 {
				m.RetryUntil = time.Unix(until, 0).UTC()
			}
			return m, err
		}, givenUpAt, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: given-up mails: %w", err)
	}
	return out, nil
}

// likeEscape makes s match itself in a LIKE pattern (ESCAPE '\').
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
