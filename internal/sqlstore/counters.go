package sqlstore

import (
	"context"
	"database/sql"
)

// The kept counters of organizations (members_total, members_protected)
// move with every change of a membership or of a person's protection, in
// that change's transaction; MemberCounts reads them.

// protectedOf is 1 when the person (the one ?) is protected — 2FA on, or
// SSO — else 0.
const protectedOf = `(SELECT CASE WHEN u.sso OR ` + secondOn + `
	THEN 1 ELSE 0 END FROM users u WHERE u.id = ?)`

// countMember moves orgID's counters by one member (sign +1 joining, -1
// leaving), counting them protected as they are now.
func (s *Store) countMember(ctx context.Context, tx *sql.Tx, orgID, userID int64, sign int) error {
	_, err := s.txExec(ctx, tx, `UPDATE organizations SET members_total = members_total + ?,
		members_protected = members_protected + ? * `+protectedOf+` WHERE id = ?`, sign, sign, userID, orgID)
	return err
}

// countLeavingAll takes the person out of the counters of every
// organization of theirs (before their account is deleted).
func (s *Store) countLeavingAll(ctx context.Context, tx *sql.Tx, userID int64) error {
	_, err := s.txExec(ctx, tx, `UPDATE organizations SET members_total = members_total - 1,
		members_protected = members_protected - `+protectedOf+`
		WHERE id IN (SELECT org_id FROM memberships WHERE user_id = ?)`, userID, userID)
	return err
}

// protection is whether the person is protected now (0 or 1), read in tx
// before a change of their protection.
func (s *Store) protection(ctx context.Context, tx *sql.Tx, userID int64) (int, error) {
	var p int
	err := s.txQueryRow(ctx, tx, `SELECT `+protectedOf, userID).Scan(&p)
	return p, err
}

// countProtection moves the protected counters of every organization of
// the person by the change of their protection: before, as protection
// read before the change; after, as it is now.
func (s *Store) countProtection(ctx context.Context, tx *sql.Tx, userID int64, before int) error {
	after, err := s.protection(ctx, tx, userID)
	if err != nil || after == before {
		return err
	}
	_, err = s.txExec(ctx, tx, `UPDATE organizations SET members_protected = members_protected + ?
		WHERE id IN (SELECT org_id FROM memberships WHERE user_id = ?)`, after-before, userID)
	return err
}
