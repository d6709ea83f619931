package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gardien/gardien"
)

// unixOrZero reads a time kept as Unix seconds where 0 means none.
func unixOrZero(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

// unixOrNone writes a time as Unix seconds, 0 for none.
func unixOrNone(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// PendingDeadline is the nearest deadline, after now, of a requirement that
// holds the person (no 2FA, not SSO); gardien.ErrNotFound when none.
func (s *Store) PendingDeadline(ctx context.Context, userID int64, now time.Time) (*gardien.Deadline, error) {
	var d gardien.Deadline
	var at int64
	err := s.queryRow(ctx, s.reader, `SELECT o.id, o.name, o.require_two_factor_deadline
		FROM memberships m JOIN organizations o ON o.id = m.org_id JOIN users u ON u.id = m.user_id
		WHERE m.user_id = ? AND o.require_two_factor AND o.require_two_factor_deadline > ? AND `+unprotected+`
		ORDER BY o.require_two_factor_deadline, o.id LIMIT 1`, userID, now.Unix(), false).Scan(&d.OrgID, &d.OrgName, &at)
	if errors.Is(err, sql.ErrNoRows) {
		err = gardien.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: pending deadline: %w", err)
	}
	d.At = time.Unix(at, 0).UTC()
	return &d, nil
}

// DeadlinesWithin lists the organizations whose requirement's deadline is
// after now and no later than now+within: the ones whose members get
// reminders.
func (s *Store) DeadlinesWithin(ctx context.Context, now time.Time, within time.Duration) ([]gardien.Deadline, error) {
	out, err := queryAll(ctx, s, `SELECT id, name, require_two_factor_deadline FROM organizations
		WHERE require_two_factor AND require_two_factor_deadline > ? AND require_two_factor_deadline <= ? ORDER BY id`,
		func(row scanner) (gardien.Deadline, error) {
			var d gardien.Deadline
			var at int64
			err := row.Scan(&d.OrgID, &d.OrgName, &at)
			d.At = time.Unix(at, 0).UTC()
			return d, err
		}, now.Unix(), now.Add(within).Unix())
	if err != nil {
		return nil, fmt.Errorf("sqlstore: deadlines: %w", err)
	}
	return out, nil
}

// UnremindedMembers lists, by user id after after, up to limit members of
// the deadline's organization without 2FA who have had no reminder of
// this many days before it (a disabled account gets none: it cannot log
// in to set anything up).
func (s *Store) UnremindedMembers(ctx context.Context, d gardien.Deadline, days int, after int64, limit int) ([]gardien.Member, error) {
	out, err := queryAll(ctx, s, `SELECT `+memberColumns+`m.org_id = ? AND m.user_id > ? AND u.disabled_at = 0 AND `+unprotected+`
		AND NOT EXISTS (SELECT 1 FROM deadline_reminders r WHERE r.org_id = m.org_id AND r.user_id = m.user_id AND r.deadline = ? AND r.days = ?)
		ORDER BY m.user_id LIMIT ?`, value(scanMember), d.OrgID, after, false, d.At.Unix(), days, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: unreminded members: %w", err)
	}
	return out, nil
}

// ClaimDeadlineReminder records that a member gets the reminder of this
// many days before the deadline, and when: true for the one caller that
// records it (another node, or a second sweep, gets false and sends
// nothing).
func (s *Store) ClaimDeadlineReminder(ctx context.Context, d gardien.Deadline, userID int64, days int, at time.Time) (bool, error) {
	claimed := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, `INSERT INTO deadline_reminders (org_id, user_id, deadline, days, sent_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, d.OrgID, userID, d.At.Unix(), days, at.Unix())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err
		}
		claimed = true
		_, err = s.txExec(ctx, tx, `UPDATE memberships SET last_reminded_at = ? WHERE org_id = ? AND user_id = ?`, at.Unix(), d.OrgID, userID)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("sqlstore: claim reminder: %w", err)
	}
	return claimed, nil
}

// MarkReminded notes, for every member of the organization without 2FA,
// that a mail asked them to set it up at at.
func (s *Store) MarkReminded(ctx context.Context, orgID int64, at time.Time) error {
	if _, err := s.exec(ctx, s.writer, `UPDATE memberships SET last_reminded_at = ? WHERE org_id = ? AND user_id IN
		(SELECT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = ? AND `+unprotected+`)`,
		at.Unix(), orgID, orgID, false); err != nil {
		return fmt.Errorf("sqlstore: mark reminded: %w", err)
	}
	return nil
}
