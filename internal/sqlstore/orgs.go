package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gardien/gardien"
)

// CreateOrganization makes an organization with its owner, and the event.
func (s *Store) CreateOrganization(ctx context.Context, o *gardien.Organization, ownerID int64, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.txQueryRow(ctx, tx, `INSERT INTO organizations (name, created_at) VALUES (?, ?) RETURNING id`, o.Name, o.CreatedAt.Unix()).Scan(&o.ID); err != nil {
			return err
		}
		if _, err := s.txExec(ctx, tx, `INSERT INTO memberships (org_id, user_id, role, created_at) VALUES (?, ?, ?, ?)`, o.ID, ownerID, string(gardien.RoleOwner), o.CreatedAt.Unix()); err != nil {
			return err
		}
		if err := s.countMember(ctx, tx, o.ID, ownerID, +1); err != nil {
			return err
		}
		e.OrgID = o.ID
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: create organization: %w", err)
	}
	return nil
}

// Membership returns a person's membership of an organization, or gardien.ErrNotFound.
func (s *Store) Membership(ctx context.Context, orgID, userID int64) (*gardien.Membership, error) {
	var m gardien.Membership
	var role string
	var created int64
	var deadline int64
	err := s.queryRow(ctx, s.reader, `SELECT o.id, o.name, o.require_two_factor, o.require_two_factor_deadline, o.require_phishing_resistant, o.created_at, m.role
		FROM memberships m JOIN organizations o ON o.id = m.org_id WHERE m.org_id = ? AND m.user_id = ?`, orgID, userID).
		Scan(&m.ID, &m.Name, &m.RequireTwoFactor, &deadline, &m.RequirePhishingResistant, &created, &role)
	if errors.Is(err, sql.ErrNoRows) {
		err = gardien.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: membership: %w", err)
	}
	m.Role, m.CreatedAt, m.TwoFactorDeadline = gardien.Role(role), time.Unix(created, 0).UTC(), unixOrZero(deadline)
	return &m, nil
}

// Memberships lists a person's organizations, by name.
func (s *Store) Memberships(ctx context.Context, userID int64) ([]gardien.Membership, error) {
	out, err := lookupAll(ctx, s, `SELECT o.id, o.name, o.require_two_factor, o.require_two_factor_deadline, o.require_phishing_resistant, o.created_at, m.role
		FROM memberships m JOIN organizations o ON o.id = m.org_id WHERE m.user_id = ? ORDER BY o.name, o.id`,
		func(row scanner) (gardien.Membership, error) {
			var m gardien.Membership
			var role string
			var created, deadline int64
			err := row.Scan(&m.ID, &m.Name, &m.RequireTwoFactor, &deadline, &m.RequirePhishingResistant, &created, &role)
			m.Role, m.CreatedAt, m.TwoFactorDeadline = gardien.Role(role), time.Unix(created, 0).UTC(), unixOrZero(deadline)
			return m, err
		}, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: memberships: %w", err)
	}
	return out, nil
}

// RequiringOrganization returns the name of an organization of the person
// that requires 2FA — one that asks for a key (keys) first — or
// gardien.ErrNotFound when none does.
func (s *Store) RequiringOrganization(ctx context.Context, userID int64) (name string, keys bool, _ error) {
	err := s.queryRow(ctx, s.reader, `SELECT o.name, o.require_phishing_resistant FROM memberships m JOIN organizations o ON o.id = m.org_id
		WHERE m.user_id = ? AND o.require_two_factor ORDER BY o.require_phishing_resistant DESC, o.name LIMIT 1`, userID).Scan(&name, &keys)
	if errors.Is(err, sql.ErrNoRows) {
		err = gardien.ErrNotFound
	}
	if err != nil {
		return "", false, fmt.Errorf("sqlstore: requiring organization: %w", err)
	}
	return name, keys, nil
}

// unprotected is the condition of a member (m, u) the requirement of their
// organization (m.org_id) holds back: not SSO, and without 2FA — or, where
// it asks for a phishing-resistant method, without a key.
const unprotected = `u.sso = ? AND NOT (` + keysOn + ` OR ` + appOn + ` AND NOT EXISTS (SELECT 1 FROM organizations po
	WHERE po.id = m.org_id AND po.require_phishing_resistant))`

// memberColumns reads members; the query goes on with its conditions.
// CROSS JOIN makes SQLite walk the organization's memberships (by their
// key) and look each person up, never the other way round over all
// accounts; PostgreSQL plans it as the inner join it is.
const memberColumns = `u.id, u.email, u.name, u.locale, m.role, u.sso,
	` + hasTwoFactor + `,
	COALESCE(u.last_login_at, 0), m.last_reminded_at, m.created_at, u.disabled_at, u.disabled_by
	FROM memberships m CROSS JOIN users u WHERE u.id = m.user_id AND `

// hasTwoFactor is a member's second factors' columns (app, keys).
const hasTwoFactor = appOn + `, ` + keysOn

func scanMember(row scanner) (*gardien.Member, error) {
	var m gardien.Member
	var role string
	var last, reminded, joined, disabled int64
	if err := row.Scan(&m.UserID, &m.Email, &m.Name, &m.Locale, &role, &m.SSO, &m.AppEnabled, &m.HasKeys, &last, &reminded, &joined, &disabled, &m.DisabledBy); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, gardien.ErrNotFound
		}
		return nil, err
	}
	m.TwoFactorEnabled = m.AppEnabled || m.HasKeys
	if m.Disabled = disabled != 0; !m.Disabled {
		m.DisabledBy = ""
	}
	m.Role, m.JoinedAt = gardien.Role(role), time.Unix(joined, 0).UTC()
	m.LastLoginAt, m.LastRemindedAt = unixOrZero(last), unixOrZero(reminded)
	return &m, nil
}

// Members lists an organization's members, in the order they joined:
// a page by Offset, or, for a walk through them all, those after After.
func (s *Store) Members(ctx context.Context, orgID int64, f gardien.MemberFilter) ([]gardien.Member, error) {
	where, args := `m.org_id = ? AND m.user_id > ?`, []any{orgID, f.After}
	if f.WithoutTwoFactor {
		where += ` AND ` + unprotected
		args = append(args, false)
	}
	if f.Role != "" {
		where += ` AND m.role = ?`
		args = append(args, string(f.Role))
	}
	args = append(args, f.Limit, f.Offset)
	columns := memberColumns
	if f.WithoutTwoFactor {
		// Known false for every row of this list (no key; and no app,
		// unless the organization asks for a phishing-resistant method).
		// Asked anyway, PostgreSQL answered it with a hash of every 2FA
		// row (12 ms a page at 100,000 members; BenchmarkLargeOrganization).
		var phishingResistant bool
		if err := s.queryRow(ctx, s.reader, `SELECT require_phishing_resistant FROM organizations WHERE id = ?`, orgID).Scan(&phishingResistant); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("sqlstore: members: %w", err)
		}
		known := "FALSE, FALSE"
		if phishingResistant {
			known = appOn + ", FALSE"
		}
		columns = strings.Replace(columns, hasTwoFactor, known, 1)
	}
	query := `SELECT ` + columns + where + ` ORDER BY m.user_id LIMIT ? OFFSET ?`
	if !f.WithoutTwoFactor {
		// Nothing to know of the people to choose the page: the page of
		// memberships first (by their key), then only its people. A
		// planner joining first reads every account (PostgreSQL did, at
		// 8 ms a page of 100,000 members).
		query = `SELECT ` + strings.Replace(memberColumns, "FROM memberships m",
			"FROM (SELECT * FROM memberships m WHERE "+where+" ORDER BY m.user_id LIMIT ? OFFSET ?) m", 1) + `TRUE ORDER BY m.user_id`
	}
	out, err := queryAll(ctx, s, query, value(scanMember), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: members: %w", err)
	}
	return out, nil
}

// value turns a scan that returns a pointer into one that returns a value.
func value[T any](scan func(scanner) (*T, error)) func(scanner) (T, error) {
	return func(row scanner) (T, error) {
		p, err := scan(row)
		if err != nil {
			var zero T
			return zero, err
		}
		return *p, nil
	}
}

// Member returns one member of an organization, or gardien.ErrNotFound.
func (s *Store) Member(ctx context.Context, orgID, userID int64) (*gardien.Member, error) {
	m, err := scanMember(s.queryRow(ctx, s.reader, `SELECT `+memberColumns+`m.org_id = ? AND m.user_id = ?`, orgID, userID))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: member: %w", err)
	}
	return m, nil
}

// MemberCounts counts an organization's members and the protected ones
// (2FA on, or SSO), in one pass over the organization's memberships.
func (s *Store) MemberCounts(ctx context.Context, orgID int64) (gardien.MemberCounts, error) {
	var c gardien.MemberCounts
	err := s.queryRow(ctx, s.reader, `SELECT members_total, members_protected, members_keyed FROM organizations WHERE id = ?`, orgID).Scan(&c.Total, &c.Protected, &c.Keyed)
	if errors.Is(err, sql.ErrNoRows) {
		err = gardien.ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("sqlstore: member counts: %w", err)
	}
	return c, nil
}

// OwnerCount is how many owners an organization has.
func (s *Store) OwnerCount(ctx context.Context, orgID int64) (int, error) {
	var n int
	if err := s.queryRow(ctx, s.reader, `SELECT COUNT(*) FROM memberships WHERE org_id = ? AND role = ?`, orgID, string(gardien.RoleOwner)).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: owners: %w", err)
	}
	return n, nil
}

// SetRole changes a member's role, with the event, refusing (gardien.ErrLastOwner)
// to leave the organization without an owner.
func (s *Store) SetRole(ctx context.Context, orgID, userID int64, role gardien.Role, e *gardien.Event) error {
	return s.changeMember(ctx, "set role", orgID, userID, e, func(tx *sql.Tx) (sql.Result, error) {
		return s.txExec(ctx, tx, `UPDATE memberships SET role = ? WHERE org_id = ? AND user_id = ?`, string(role), orgID, userID)
	})
}

// RemoveMember takes a person out of an organization, with the event,
// refusing (gardien.ErrLastOwner) to leave it without an owner.
func (s *Store) RemoveMember(ctx context.Context, orgID, userID int64, e *gardien.Event) error {
	return s.changeMember(ctx, "remove member", orgID, userID, e, func(tx *sql.Tx) (sql.Result, error) {
		// Counted out first (undone with the rest if no such member).
		if err := s.countMember(ctx, tx, orgID, userID, -1); err != nil {
			return nil, err
		}
		return s.txExec(ctx, tx, `DELETE FROM memberships WHERE org_id = ? AND user_id = ?`, orgID, userID)
	})
}

// changeMember runs a change to one membership and checks, in the same
// transaction, that an owner remains.
func (s *Store) changeMember(ctx context.Context, what string, orgID, userID int64, e *gardien.Event, change func(*sql.Tx) (sql.Result, error)) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if s.dialect == Postgres {
			// Two owners demoting each other at once must not both succeed.
			if _, err := s.txExec(ctx, tx, `SELECT id FROM organizations WHERE id = ? FOR UPDATE`, orgID); err != nil {
				return err
			}
		}
		res, err := change(tx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return gardien.ErrNotFound
		}
		var owners int
		if err := s.txQueryRow(ctx, tx, `SELECT COUNT(*) FROM memberships WHERE org_id = ? AND role = ?`, orgID, string(gardien.RoleOwner)).Scan(&owners); err != nil {
			return err
		}
		if owners == 0 {
			return gardien.ErrLastOwner
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	return nil
}

// SetRequireTwoFactor flips an organization's requirement: one row,
// whatever the number of members. The event goes with it.
func (s *Store) SetRequireTwoFactor(ctx context.Context, orgID int64, on, phishingResistant, endSessions bool, deadline time.Time, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.txExec1(ctx, tx, `UPDATE organizations SET require_two_factor = ?, require_two_factor_deadline = ?, require_phishing_resistant = ? WHERE id = ?`,
			on, unixOrNone(deadline), on && phishingResistant, orgID); err != nil {
			return err
		}
		if endSessions {
			// The sessions of members the requirement now holds back: they
			// log in again and land on the set-up.
			if _, err := s.txExec(ctx, tx, `DELETE FROM sessions WHERE user_id IN (SELECT m.user_id FROM memberships m
				JOIN users u ON u.id = m.user_id WHERE m.org_id = ? AND `+unprotected+`)`, orgID, false); err != nil {
				return err
			}
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: require two-factor: %w", err)
	}
	return nil
}

// CreateInvitation stores an invitation under the hash of its mailed token:
// ErrAlreadyMember when the email's account belongs to the organization,
// ErrAlreadyInvited when a live invitation to it is pending (checked in
// the transaction, so two managers inviting at once make one invitation).
func (s *Store) CreateInvitation(ctx context.Context, inv *gardien.Invitation, emailKey string, tokenHash []byte, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// The organization's row is the lock two concurrent invitations meet
		// at on PostgreSQL (SQLite has one writer).
		var n int64
		if err := s.txQueryRow(ctx, tx, `SELECT id FROM organizations WHERE id = ?`+s.forUpdate(), inv.OrgID).Scan(&n); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return gardien.ErrNotFound
			}
			return err
		}
		if err := s.txQueryRow(ctx, tx, `SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id
			WHERE m.org_id = ? AND u.email_key = ?`, inv.OrgID, emailKey).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return gardien.ErrAlreadyMember
		}
		if err := s.txQueryRow(ctx, tx, `SELECT COUNT(*) FROM invitations WHERE org_id = ? AND email_key = ?
			AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?`, inv.OrgID, emailKey, inv.CreatedAt.Unix()).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return gardien.ErrAlreadyInvited
		}
		if err := s.txQueryRow(ctx, tx, `INSERT INTO invitations (org_id, email, email_key, role, token_hash, invited_by, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, inv.OrgID, inv.Email, emailKey, string(inv.Role), tokenHash, nullID(inv.InvitedBy),
			inv.CreatedAt.Unix(), inv.ExpiresAt.Unix()).Scan(&inv.ID); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: create invitation: %w", err)
	}
	return nil
}

const invitationColumns = `i.id, i.org_id, o.name, i.email, i.role, COALESCE(i.invited_by, 0), i.created_at, i.expires_at`

func scanInvitation(row scanner) (*gardien.Invitation, error) {
	var inv gardien.Invitation
	var role string
	var created, expires int64
	if err := row.Scan(&inv.ID, &inv.OrgID, &inv.OrgName, &inv.Email, &role, &inv.InvitedBy, &created, &expires); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, gardien.ErrNotFound
		}
		return nil, err
	}
	inv.Role, inv.CreatedAt, inv.ExpiresAt = gardien.Role(role), time.Unix(created, 0).UTC(), time.Unix(expires, 0).UTC()
	return &inv, nil
}

// InvitationByToken returns a live invitation (not used, revoked or expired).
func (s *Store) InvitationByToken(ctx context.Context, tokenHash []byte, now time.Time) (*gardien.Invitation, string, error) {
	var emailKey string
	inv, err := scanInvitation(rowWith(s.queryRow(ctx, s.reader, `SELECT `+invitationColumns+`, i.email_key FROM invitations i JOIN organizations o ON o.id = i.org_id
		WHERE i.token_hash = ? AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > ?`, tokenHash, now.Unix()), &emailKey))
	if err != nil {
		return nil, "", fmt.Errorf("sqlstore: invitation: %w", err)
	}
	return inv, emailKey, nil
}

// PendingInvitationFor is the newest live invitation of an address to an
// organization; gardien.ErrNotFound when none.
func (s *Store) PendingInvitationFor(ctx context.Context, orgID int64, emailKey string, now time.Time) (*gardien.Invitation, error) {
	inv, err := scanInvitation(s.queryRow(ctx, s.reader, `SELECT `+invitationColumns+` FROM invitations i JOIN organizations o ON o.id = i.org_id
		WHERE i.org_id = ? AND i.email_key = ? AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > ? ORDER BY i.id DESC LIMIT 1`,
		orgID, emailKey, now.Unix()))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: pending invitation: %w", err)
	}
	return inv, nil
}

// rowWith appends destinations to a row's Scan.
type extraRow struct {
	row   scanner
	extra []any
}

func rowWith(row scanner, extra ...any) scanner { return extraRow{row, extra} }

func (r extraRow) Scan(dest ...any) error { return r.row.Scan(append(dest, r.extra...)...) }

// PendingInvitations lists an organization's live invitations, newest first.
func (s *Store) PendingInvitations(ctx context.Context, orgID int64, now time.Time) ([]gardien.Invitation, error) {
	out, err := queryAll(ctx, s, `SELECT `+invitationColumns+` FROM invitations i JOIN organizations o ON o.id = i.org_id
		WHERE i.org_id = ? AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > ? ORDER BY i.id DESC`,
		value(scanInvitation), orgID, now.Unix())
	if err != nil {
		return nil, fmt.Errorf("sqlstore: invitations: %w", err)
	}
	return out, nil
}

// RevokeInvitation voids a pending invitation, with the event.
func (s *Store) RevokeInvitation(ctx context.Context, orgID, invID int64, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.txExec1(ctx, tx, `UPDATE invitations SET revoked_at = ? WHERE id = ? AND org_id = ? AND accepted_at IS NULL AND revoked_at IS NULL`, e.Time.Unix(), invID, orgID); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: revoke invitation: %w", err)
	}
	return nil
}

// AcceptInvitation uses a live invitation (once) and makes the person a
// member with its role, with the event. A person already a member keeps
// their role. gardien.ErrNotFound when the invitation is not live.
func (s *Store) AcceptInvitation(ctx context.Context, invID, userID int64, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var orgID int64
		var role string
		err := s.txQueryRow(ctx, tx, `UPDATE invitations SET accepted_at = ? WHERE id = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?
			RETURNING org_id, role`, e.Time.Unix(), invID, e.Time.Unix()).Scan(&orgID, &role)
		if errors.Is(err, sql.ErrNoRows) {
			return gardien.ErrNotFound
		}
		if err != nil {
			return err
		}
		res, err := s.txExec(ctx, tx, `INSERT INTO memberships (org_id, user_id, role, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (org_id, user_id) DO NOTHING`, orgID, userID, role, e.Time.Unix())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			if err := s.countMember(ctx, tx, orgID, userID, +1); err != nil {
				return err
			}
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: accept invitation: %w", err)
	}
	return nil
}

// OrgEvents returns an organization's audit log, newest first: its own
// events, and its members' 2FA being turned on, off or reset.
func (s *Store) OrgEvents(ctx context.Context, orgID int64, f gardien.EventFilter) ([]gardien.Event, error) {
	where := []string{`(e.org_id = ? OR (e.org_id IS NULL AND e.type IN (?, ?, ?) AND e.user_id IN (SELECT user_id FROM memberships WHERE org_id = ?)))`}
	args := []any{orgID, gardien.EventTwoFactorEnabled, gardien.EventTwoFactorDisabled, gardien.EventTwoFactorReset, orgID}
	if f.Type != "" {
		where, args = append(where, `e.type = ?`), append(args, f.Type)
	}
	if f.UserID != 0 {
		where, args = append(where, `(e.user_id = ? OR e.actor_id = ?)`), append(args, f.UserID, f.UserID)
	}
	if f.Person != "" {
		where, args = append(where, `(uu.email_key = ? OR ua.email_key = ?)`), append(args, f.Person, f.Person)
	}
	if f.Before != 0 {
		where, args = append(where, `e.id < ?`), append(args, f.Before)
	}
	args = append(args, f.Limit)
	out, err := queryAll(ctx, s, `SELECT `+eventColumns+`, COALESCE(uu.email, ''), COALESCE(ua.email, '')
		FROM events e LEFT JOIN users uu ON uu.id = e.user_id LEFT JOIN users ua ON ua.id = e.actor_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY e.id DESC LIMIT ?`, scanOrgEvent, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: org events: %w", err)
	}
	return out, nil
}

// eventColumns are an event's columns (table alias e), for scanEvent.
const eventColumns = `e.id, e.at, e.type, COALESCE(e.user_id, 0), COALESCE(e.actor_id, 0), COALESCE(e.org_id, 0), e.ip, e.user_agent, e.detail`

func scanEvent(row scanner) (gardien.Event, error) {
	var e gardien.Event
	var at int64
	var detail string
	err := row.Scan(&e.ID, &at, &e.Type, &e.UserID, &e.ActorID, &e.OrgID, &e.IP, &e.UserAgent, &detail)
	e.Time = time.Unix(at, 0).UTC()
	e.Data = decodeEventData(detail)
	return e, err
}

// encodeEventData writes an event's data into the detail column, as a JSON
// object ("" for none).
func encodeEventData(d gardien.EventData) string {
	if len(d) == 0 {
		return ""
	}
	b, _ := json.Marshal(d) // a map of strings always encodes
	return string(b)
}

// decodeEventData reads the detail column. Lines written before events
// kept data hold an English sentence: it comes back as the data's "text".
func decodeEventData(detail string) gardien.EventData {
	if detail == "" {
		return nil
	}
	var d gardien.EventData
	if strings.HasPrefix(detail, "{") && json.Unmarshal([]byte(detail), &d) == nil {
		return d
	}
	return gardien.EventData{"text": detail}
}

// scanOrgEvent reads an event followed by the emails of its person and actor.
func scanOrgEvent(row scanner) (gardien.Event, error) {
	var userEmail, actorEmail string
	e, err := scanEvent(rowWith(row, &userEmail, &actorEmail))
	e.UserEmail, e.ActorEmail = userEmail, actorEmail
	return e, err
}

// NeedsTwoFactorSetup is true when the person has no 2FA, is not an SSO
// user, and an organization of theirs requires 2FA, with no deadline or
// one that has come (at now).
func (s *Store) NeedsTwoFactorSetup(ctx context.Context, userID int64, now time.Time) (bool, error) {
	var need bool
	err := s.queryRow(ctx, s.reader, `SELECT EXISTS (SELECT 1 FROM memberships m JOIN organizations o ON o.id = m.org_id JOIN users u ON u.id = m.user_id
		WHERE m.user_id = ? AND o.require_two_factor AND o.require_two_factor_deadline <= ? AND `+unprotected+`)`, userID, now.Unix(), false).Scan(&need)
	if err != nil {
		return false, fmt.Errorf("sqlstore: needs setup: %w", err)
	}
	return need, nil
}

// RecordLogin notes when a person last completed a login.
func (s *Store) RecordLogin(ctx context.Context, userID int64, at time.Time) error {
	if _, err := s.exec(ctx, s.writer, `UPDATE users SET last_login_at = ? WHERE id = ?`, at.Unix(), userID); err != nil {
		return fmt.Errorf("sqlstore: record login: %w", err)
	}
	return nil
}

// OrganizationByID returns an organization; gardien.ErrNotFound when none.
func (s *Store) OrganizationByID(ctx context.Context, id int64) (*gardien.Organization, error) {
	o := gardien.Organization{ID: id}
	var created int64
	err := s.queryRow(ctx, s.reader, `SELECT name, require_two_factor, require_phishing_resistant, created_at FROM organizations WHERE id = ?`, id).
		Scan(&o.Name, &o.RequireTwoFactor, &o.RequirePhishingResistant, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gardien.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: organization: %w", err)
	}
	o.CreatedAt = time.Unix(created, 0).UTC()
	return &o, nil
}

// RenameOrganization changes an organization's name, with its event.
func (s *Store) RenameOrganization(ctx context.Context, orgID int64, name string, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.txExec1(ctx, tx, `UPDATE organizations SET name = ? WHERE id = ?`, name, orgID); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if errors.Is(err, gardien.ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("sqlstore: rename organization: %w", err)
	}
	return nil
}

// DeleteOrganization removes an organization with its memberships,
// invitations and single sign-on; its event stays.
func (s *Store) DeleteOrganization(ctx context.Context, orgID int64, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.txExec1(ctx, tx, `DELETE FROM organizations WHERE id = ?`, orgID); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if errors.Is(err, gardien.ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("sqlstore: delete organization: %w", err)
	}
	return nil
}
