package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gardien/gardien"
)

// SCIMToken is an organization's SCIM token; gardien.ErrNotFound when SCIM
// is off.
func (s *Store) SCIMToken(ctx context.Context, orgID int64) (*gardien.SCIMToken, error) {
	t := gardien.SCIMToken{OrgID: orgID}
	var created, used int64
	err := s.queryRow(ctx, s.reader, `SELECT prefix, created_at, last_used_at FROM scim_tokens WHERE org_id = ?`, orgID).Scan(&t.Prefix, &created, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gardien.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: scim token: %w", err)
	}
	t.CreatedAt, t.LastUsedAt = time.Unix(created, 0).UTC(), unixOrZero(used)
	return &t, nil
}

// SetSCIMToken turns SCIM on with a token, or replaces its token (the old
// one stops at once).
func (s *Store) SetSCIMToken(ctx context.Context, t *gardien.SCIMToken, hash []byte, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.txExec(ctx, tx, `INSERT INTO scim_tokens (org_id, token_hash, prefix, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (org_id) DO UPDATE SET token_hash = excluded.token_hash, prefix = excluded.prefix, created_at = excluded.created_at, last_used_at = 0`,
			t.OrgID, hash, t.Prefix, t.CreatedAt.Unix()); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: set scim token: %w", err)
	}
	return nil
}

// DeleteSCIMToken turns SCIM off; gardien.ErrNotFound when it was off.
func (s *Store) DeleteSCIMToken(ctx context.Context, orgID int64, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.txExec1(ctx, tx, `DELETE FROM scim_tokens WHERE org_id = ?`, orgID); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if errors.Is(err, gardien.ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("sqlstore: delete scim token: %w", err)
	}
	return nil
}

// SCIMTokenByHash is the token of that hash; gardien.ErrNotFound when none.
func (s *Store) SCIMTokenByHash(ctx context.Context, hash []byte) (*gardien.SCIMToken, error) {
	var t gardien.SCIMToken
	var created, used int64
	err := s.queryRow(ctx, s.reader, `SELECT org_id, prefix, created_at, last_used_at FROM scim_tokens WHERE token_hash = ?`, hash).
		Scan(&t.OrgID, &t.Prefix, &created, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gardien.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: scim token by hash: %w", err)
	}
	t.CreatedAt, t.LastUsedAt = time.Unix(created, 0).UTC(), unixOrZero(used)
	return &t, nil
}

// TouchSCIMToken notes a token's use.
func (s *Store) TouchSCIMToken(ctx context.Context, orgID int64, at time.Time) error {
	if _, err := s.exec(ctx, s.writer, `UPDATE scim_tokens SET last_used_at = ? WHERE org_id = ?`, at.Unix(), orgID); err != nil {
		return fmt.Errorf("sqlstore: touch scim token: %w", err)
	}
	return nil
}

const scimUserColumns = `su.user_id, su.org_id, u.email, u.name, su.given_name, su.family_name, su.external_id,
	u.disabled_at, u.disabled_by, su.created_at, su.updated_at, su.deleted_at`

const scimUserFrom = ` FROM scim_users su JOIN users u ON u.id = su.user_id`

func scanSCIMUser(row scanner) (gardien.SCIMUser, error) {
	var su gardien.SCIMUser
	var disabled, created, updated, deleted int64
	err := row.Scan(&su.UserID, &su.OrgID, &su.Email, &su.Name, &su.GivenName, &su.FamilyName, &su.ExternalID,
		&disabled, &su.DisabledBy, &created, &updated, &deleted)
	su.Active = disabled == 0
	if su.Active {
		su.DisabledBy = ""
	}
	su.CreatedAt, su.UpdatedAt, su.Deleted = time.Unix(created, 0).UTC(), time.Unix(updated, 0).UTC(), deleted != 0
	return su, err
}

// SCIMUsers lists an organization's provisioned people (not those its
// identity provider deleted), by id, from offset; and how many there are.
func (s *Store) SCIMUsers(ctx context.Context, orgID int64, f gardien.SCIMFilter, offset, limit int) ([]gardien.SCIMUser, int, error) {
	where, args := []string{`su.org_id = ?`, `su.deleted_at = 0`}, []any{orgID}
	if f.EmailKey != "" {
		where, args = append(where, `u.email_key = ?`), append(args, f.EmailKey)
	}
	if f.ExternalID != "" {
		where, args = append(where, `su.external_id = ?`), append(args, f.ExternalID)
	}
	cond := ` WHERE ` + strings.Join(where, " AND ")
	var total int
	if err := s.queryRow(ctx, s.reader, `SELECT COUNT(*)`+scimUserFrom+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("sqlstore: scim users: %w", err)
	}
	out, err := queryAll(ctx, s, `SELECT `+scimUserColumns+scimUserFrom+cond+` ORDER BY su.user_id LIMIT ? OFFSET ?`,
		scanSCIMUser, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlstore: scim users: %w", err)
	}
	return out, total, nil
}

// SCIMUser is one person of an organization's provisioning, deleted or
// not; gardien.ErrNotFound when its identity provider never provisioned
// them.
func (s *Store) SCIMUser(ctx context.Context, orgID, userID int64) (*gardien.SCIMUser, error) {
	su, err := scanSCIMUser(s.queryRow(ctx, s.reader, `SELECT `+scimUserColumns+scimUserFrom+` WHERE su.org_id = ? AND su.user_id = ?`, orgID, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gardien.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: scim user: %w", err)
	}
	return &su, nil
}

// CreateSCIMUser creates an SSO account provisioned by an organization's
// identity provider, a member of it with role member (su.UserID set);
// gardien.ErrDuplicate when the email is taken.
func (s *Store) CreateSCIMUser(ctx context.Context, su *gardien.SCIMUser, emailKey string, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		now := su.UpdatedAt.Unix()
		if err := s.txQueryRow(ctx, tx, `INSERT INTO users (email, email_key, name, password_hash, locale, sso, email_verified_at, created_at, updated_at)
			VALUES (?, ?, ?, '', '', ?, ?, ?, ?) RETURNING id`, su.Email, emailKey, su.Name, true, now, now, now).Scan(&su.UserID); err != nil {
			return err
		}
		if _, err := s.joinThroughSSO(ctx, tx, su.OrgID, su.UserID, gardien.RoleMember, su.UpdatedAt); err != nil {
			return err
		}
		e.UserID = su.UserID
		return s.saveSCIMUser(ctx, tx, su, e)
	})
	if isUnique(err) {
		return gardien.ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create scim user: %w", err)
	}
	return nil
}

// SaveSCIMUser writes what an identity provider says of one of its
// people, an existing SSO account: their email and name, its own id for
// them, whether they are active — deprovisioned, every session ends (on
// every node) and their apps are told; active again, their account and
// membership work again — and whether it deleted them. gardien.ErrDuplicate
// when the new email is another account's.
func (s *Store) SaveSCIMUser(ctx context.Context, su *gardien.SCIMUser, emailKey string, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.txExec1(ctx, tx, `UPDATE users SET email = ?, email_key = ?, name = ?, updated_at = ? WHERE id = ? AND sso`,
			su.Email, emailKey, su.Name, su.UpdatedAt.Unix(), su.UserID); err != nil {
			return err
		}
		if _, err := s.joinThroughSSO(ctx, tx, su.OrgID, su.UserID, gardien.RoleMember, su.UpdatedAt); err != nil {
			return err
		}
		return s.saveSCIMUser(ctx, tx, su, e)
	})
	if isUnique(err) {
		return gardien.ErrDuplicate
	}
	if errors.Is(err, gardien.ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("sqlstore: save scim user: %w", err)
	}
	return nil
}

func (s *Store) saveSCIMUser(ctx context.Context, tx *sql.Tx, su *gardien.SCIMUser, e *gardien.Event) error {
	now := su.UpdatedAt.Unix()
	deleted := int64(0)
	if su.Deleted {
		deleted = now
	}
	if _, err := s.txExec(ctx, tx, `INSERT INTO scim_users (org_id, user_id, external_id, given_name, family_name, created_at, updated_at, deleted_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id, user_id) DO UPDATE SET external_id = excluded.external_id, given_name = excluded.given_name,
			family_name = excluded.family_name, updated_at = excluded.updated_at, deleted_at = excluded.deleted_at,
			created_at = CASE WHEN scim_users.deleted_at <> 0 THEN excluded.created_at ELSE scim_users.created_at END`,
		su.OrgID, su.UserID, su.ExternalID, su.GivenName, su.FamilyName, now, now, deleted); err != nil {
		return err
	}
	if su.Active {
		// Only what an identity provider disabled, it enables.
		if _, err := s.txExec(ctx, tx, `UPDATE users SET disabled_at = 0, disabled_by = '' WHERE id = ? AND disabled_by = ?`,
			su.UserID, gardien.DisabledBySCIM); err != nil {
			return err
		}
	} else {
		res, err := s.txExec(ctx, tx, `UPDATE users SET disabled_at = ?, disabled_by = ? WHERE id = ? AND disabled_at = 0`,
			now, gardien.DisabledBySCIM, su.UserID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			if _, err := s.txExec(ctx, tx, `DELETE FROM sessions WHERE user_id = ?`, su.UserID); err != nil {
				return err
			}
		}
	}
	if e == nil {
		return nil
	}
	return s.insertEvent(ctx, tx, e)
}
