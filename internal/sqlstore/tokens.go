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

const tokenColumns = `t.id, t.user_id, COALESCE(t.org_id, 0), t.name, t.prefix, t.scopes, t.created_at, t.expires_at, t.last_used_at`

func scanToken(row scanner, extra ...any) (gardien.APIToken, error) {
	var t gardien.APIToken
	var scopes string
	var created, expires, used int64
	err := row.Scan(append([]any{&t.ID, &t.UserID, &t.OrgID, &t.Name, &t.Prefix, &scopes, &created, &expires, &used}, extra...)...)
	t.Scopes, t.CreatedAt, t.ExpiresAt, t.LastUsedAt = strings.Fields(scopes), time.Unix(created, 0).UTC(), unixOrZero(expires), unixOrZero(used)
	return t, err
}

// AddToken saves a person's new token (setting its ID) and e.
func (s *Store) AddToken(ctx context.Context, t *gardien.APIToken, hash []byte, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var org any // NULL for a person's token
		if t.OrgID != 0 {
			org = t.OrgID
		}
		if err := s.txQueryRow(ctx, tx, `INSERT INTO api_tokens (user_id, org_id, name, token_hash, prefix, scopes, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, t.UserID, org, t.Name, hash, t.Prefix, strings.Join(t.Scopes, " "),
			t.CreatedAt.Unix(), unixOrNone(t.ExpiresAt)).Scan(&t.ID); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: add token: %w", err)
	}
	return nil
}

// Tokens lists a person's own tokens, the newest first.
func (s *Store) Tokens(ctx context.Context, userID int64) ([]gardien.APIToken, error) {
	out, err := lookupAll(ctx, s, `SELECT `+tokenColumns+` FROM api_tokens t WHERE t.user_id = ? AND t.org_id IS NULL ORDER BY t.id DESC`,
		func(row scanner) (gardien.APIToken, error) { return scanToken(row) }, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: tokens: %w", err)
	}
	return out, nil
}

// OrgTokens lists an organization's tokens, the newest first.
func (s *Store) OrgTokens(ctx context.Context, orgID int64) ([]gardien.APIToken, error) {
	out, err := lookupAll(ctx, s, `SELECT `+tokenColumns+` FROM api_tokens t WHERE t.org_id = ? ORDER BY t.id DESC`,
		func(row scanner) (gardien.APIToken, error) { return scanToken(row) }, orgID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: organization tokens: %w", err)
	}
	return out, nil
}

// DeleteToken revokes a person's token (orgID 0) or an organization's,
// with e; gardien.ErrNotFound when there is none such.
func (s *Store) DeleteToken(ctx context.Context, userID, orgID, id int64, e *gardien.Event) error {
	query, args := `DELETE FROM api_tokens WHERE id = ? AND user_id = ? AND org_id IS NULL`, []any{id, userID}
	if orgID != 0 {
		query, args = `DELETE FROM api_tokens WHERE id = ? AND org_id = ?`, []any{id, orgID}
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.txExec1(ctx, tx, query, args...); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil && !errors.Is(err, gardien.ErrNotFound) {
		return fmt.Errorf("sqlstore: revoke token: %w", err)
	}
	return err
}

// TokenByHash returns the token of a hash with its person; gardien.ErrNotFound
// when none.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (*gardien.APIToken, *gardien.User, error) {
	var t gardien.APIToken
	u, err := scanUser(scanFunc(func(userDest ...any) error {
		var err error
		t, err = scanToken(s.queryRow(ctx, s.reader, `SELECT `+tokenColumns+`, `+userColumns+`
			FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?`, hash), userDest...)
		return err
	}))
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) || errors.Is(err, gardien.ErrNotFound) {
			return nil, nil, gardien.ErrNotFound
		}
		return nil, nil, fmt.Errorf("sqlstore: token: %w", err)
	}
	return &t, u, nil
}

// TouchToken records that a token was used.
func (s *Store) TouchToken(ctx context.Context, id int64, at time.Time) error {
	if _, err := s.exec(ctx, s.writer, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, at.Unix(), id); err != nil {
		return fmt.Errorf("sqlstore: touch token: %w", err)
	}
	return nil
}
