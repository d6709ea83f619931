package sqlstore

import (
	"context"
	"database/sql"
)

// The kept counters of organizations (members_total, members_protected,
// members_keyed) move with every change of a membership or of a person's
// protection, in that change's transaction; MemberCounts reads them.

// protectedOf is 1 when the person (the one ?) is protected — 2FA on, or
// SSO — else 0; keyedOf when they have a key, or SSO (what an organization
// that asks for a phishing-resistant method counts).
const (
	protectedOf = `(SELECT CASE WHEN u.sso OR ` + secondOn + `
	THEN 1 ELSE 0 END FROM users u WHERE u.id = ?)`
	keyedOf = `(SELECT CASE WHEN u.sso OR ` + keysOn + ` THEN 1 ELSE 0 END FROM users u WHERE u.id = ?)`
)

// protection is a person's second factors and what the counters count of
// them: protected (2FA on, or SSO), keyed (a key, or SSO).
type protection struct {
	protected, keyed int
	on, keys         bool // 2FA on (an app or a key); a key
}

// countMember moves orgID's counters by one member (sign +1 joining, -1
// leaving), counting them protected as they are now.
func (s *Store) countMember(ctx context.Context, tx *sql.Tx, orgID, userID int64, sign int) error {
	_, err := s.txExec(ctx, tx, `UPDATE organizations SET members_total = members_total + ?,
		members_protected = members_protected + ? * `+protectedOf+`, members_keyed = members_keyed + ? * `+keyedOf+` WHERE id = ?`,
		sign, sign, userID, sign, userID, orgID)
	return err
}

// countLeavingAll takes the person out of the counters of every
// organization of theirs (before their account is deleted).
func (s *Store) countLeavingAll(ctx context.Context, tx *sql.Tx, userID int64) error {
	_, err := s.txExec(ctx, tx, `UPDATE organizations SET members_total = members_total - 1,
		members_protected = members_protected - `+protectedOf+`, members_keyed = members_keyed - `+keyedOf+`
		WHERE id IN (SELECT org_id FROM memberships WHERE user_id = ?)`, userID, userID, userID)
	return err
}

// protectionOf is the person's protection now, read in tx before a change
// of it.
func (s *Store) protectionOf(ctx context.Context, tx *sql.Tx, userID int64) (protection, error) {
	var sso, app, keys bool
	err := s.txQueryRow(ctx, tx, `SELECT u.sso, `+appOn+`, `+keysOn+` FROM users u WHERE u.id = ?`, userID).Scan(&sso, &app, &keys)
	p := protection{on: app || keys, keys: keys}
	if sso || p.on {
		p.protected = 1
	}
	if sso || keys {
		p.keyed = 1
	}
	return p, err
}

// countProtection moves the counters of every organization of the person
// by the change of their protection: before, as read before the change;
// after, as it is now.
func (s *Store) countProtection(ctx context.Context, tx *sql.Tx, userID int64, before protection) error {
	after, err := s.protectionOf(ctx, tx, userID)
	if err != nil {
		return err
	}
	return s.moveCounters(ctx, tx, userID, before, after)
}

// moveCounters moves the counters by a change of protection read by the
// caller.
func (s *Store) moveCounters(ctx context.Context, tx *sql.Tx, userID int64, before, after protection) error {
	if after.protected == before.protected && after.keyed == before.keyed {
		return nil
	}
	_, err := s.txExec(ctx, tx, `UPDATE organizations SET members_protected = members_protected + ?, members_keyed = members_keyed + ?
		WHERE id IN (SELECT org_id FROM memberships WHERE user_id = ?)`, after.protected-before.protected, after.keyed-before.keyed, userID)
	return err
}
