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
	"github.com/gardien/gardien/internal/auth"
)

const grantColumns = `g.id, g.app_id, a.client_id, g.request, g.created_at, g.expires_at, COALESCE(g.user_id, 0), COALESCE(g.session_id, 0),
	g.auth_time, g.amr, g.acr, g.revoked_at IS NOT NULL`

func scanGrant(row scanner) (*gardien.Grant, error) {
	var g gardien.Grant
	var req, amr string
	var created, expires, authTime int64
	err := row.Scan(&g.ID, &g.AppID, &g.ClientID, &req, &created, &expires, &g.UserID, &g.SessionID, &authTime, &amr, &g.ACR, &g.Revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gardien.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(req), &g.Request); err != nil {
		return nil, fmt.Errorf("grant %s: request: %w", g.ID, err)
	}
	g.CreatedAt, g.ExpiresAt = time.Unix(created, 0).UTC(), time.Unix(expires, 0).UTC()
	if authTime != 0 {
		g.AuthTime = time.Unix(authTime, 0).UTC()
	}
	if amr != "" {
		g.AMR = strings.Split(amr, " ")
	}
	return &g, nil
}

// CreateGrant saves an app's request while the person logs in.
func (s *Store) CreateGrant(ctx context.Context, g *gardien.Grant) error {
	req, err := json.Marshal(g.Request)
	if err != nil {
		return fmt.Errorf("sqlstore: create grant: %w", err)
	}
	if _, err := s.exec(ctx, s.writer, `INSERT INTO oidc_grants (id, app_id, request, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		g.ID, g.AppID, string(req), g.CreatedAt.Unix(), g.ExpiresAt.Unix()); err != nil {
		return fmt.Errorf("sqlstore: create grant: %w", err)
	}
	return nil
}

// Grant returns a grant by id.
func (s *Store) Grant(ctx context.Context, id string) (*gardien.Grant, error) {
	g, err := scanGrant(s.queryRow(ctx, s.reader, `SELECT `+grantColumns+` FROM oidc_grants g JOIN apps a ON a.id = g.app_id WHERE g.id = ?`, id))
	if err != nil && !errors.Is(err, gardien.ErrNotFound) {
		return nil, fmt.Errorf("sqlstore: grant: %w", err)
	}
	return g, err
}

// CompleteGrant records who signed in through a grant not yet done.
func (s *Store) CompleteGrant(ctx context.Context, g *gardien.Grant, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.txExec1(ctx, tx, `UPDATE oidc_grants SET user_id = ?, session_id = ?, auth_time = ?, amr = ?, acr = ?
			WHERE id = ? AND user_id IS NULL AND revoked_at IS NULL`,
			g.UserID, g.SessionID, g.AuthTime.Unix(), strings.Join(g.AMR, " "), g.ACR, g.ID); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: complete grant: %w", err)
	}
	return nil
}

// SetGrantCode gives a done grant its authorization code.
func (s *Store) SetGrantCode(ctx context.Context, id string, codeHash []byte, expires time.Time) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		return s.txExec1(ctx, tx, `UPDATE oidc_grants SET code_hash = ?, code_expires_at = ?
			WHERE id = ? AND user_id IS NOT NULL AND code_hash IS NULL AND revoked_at IS NULL`, codeHash, expires.Unix(), id)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: set grant code: %w", err)
	}
	return nil
}

// CreateDoneGrant saves a grant done at once, with its code, and e.
func (s *Store) CreateDoneGrant(ctx context.Context, g *gardien.Grant, codeHash []byte, codeExpires time.Time, e *gardien.Event) error {
	req, err := json.Marshal(g.Request)
	if err != nil {
		return fmt.Errorf("sqlstore: create done grant: %w", err)
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.txExec(ctx, tx, `INSERT INTO oidc_grants (id, app_id, request, created_at, expires_at, user_id, session_id, auth_time, amr, acr,
			code_hash, code_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			g.ID, g.AppID, string(req), g.CreatedAt.Unix(), g.ExpiresAt.Unix(), g.UserID, g.SessionID, g.AuthTime.Unix(),
			strings.Join(g.AMR, " "), g.ACR, codeHash, codeExpires.Unix()); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: create done grant: %w", err)
	}
	return nil
}

// GrantOfCode returns the grant of a code not expired, and whether the code
// was used already.
func (s *Store) GrantOfCode(ctx context.Context, codeHash []byte, now time.Time) (*gardien.Grant, bool, error) {
	var used bool
	g, err := scanGrant(scanFunc(func(dest ...any) error {
		return s.queryRow(ctx, s.reader, `SELECT `+grantColumns+`, g.code_used_at IS NOT NULL FROM oidc_grants g JOIN apps a ON a.id = g.app_id
			WHERE g.code_hash = ? AND g.code_expires_at > ? AND g.revoked_at IS NULL`, codeHash, now.Unix()).Scan(append(dest, &used)...)
	}))
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("sqlstore: grant of code: %w", err)
	}
	g.CodeHash = codeHash
	return g, used, nil
}

// AddGrantTokens saves refresh tokens of a live grant, which lives as long
// as they and the access token; with codeHash, the same statement uses the
// code, once (gardien.ErrUsed otherwise).
func (s *Store) AddGrantTokens(ctx context.Context, grantID string, tokens []gardien.GrantToken, codeHash []byte, accessEnd, now time.Time) error {
	last := accessEnd.Unix()
	for _, t := range tokens {
		last = max(last, t.ExpiresAt.Unix())
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		q, args := `UPDATE oidc_grants SET expires_at = CASE WHEN expires_at > ? THEN expires_at ELSE ? END
			WHERE id = ? AND revoked_at IS NULL AND user_id IS NOT NULL`, []any{last, last, grantID}
		if codeHash != nil {
			q, args = `UPDATE oidc_grants SET code_used_at = ?, expires_at = CASE WHEN expires_at > ? THEN expires_at ELSE ? END
				WHERE id = ? AND code_hash = ? AND code_used_at IS NULL AND revoked_at IS NULL`, []any{now.Unix(), last, last, grantID, codeHash}
		}
		if err := s.txExec1(ctx, tx, q, args...); err != nil {
			if codeHash != nil && errors.Is(err, gardien.ErrNotFound) {
				return gardien.ErrUsed // or revoked since it was read: a reuse either way
			}
			return err
		}
		for _, t := range tokens {
			if _, err := s.txExec(ctx, tx, `INSERT INTO oidc_tokens (hash, grant_id, kind, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
				t.Hash, grantID, t.Kind, t.CreatedAt.Unix(), t.ExpiresAt.Unix()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, gardien.ErrNotFound) || errors.Is(err, gardien.ErrUsed) {
			return err
		}
		return fmt.Errorf("sqlstore: add grant tokens: %w", err)
	}
	return nil
}

// UseRefreshToken marks a refresh token used and returns its grant, and
// whether it had been used before (one statement decides).
func (s *Store) UseRefreshToken(ctx context.Context, hash []byte, now time.Time) (*gardien.Grant, bool, error) {
	var g *gardien.Grant
	used := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, `UPDATE oidc_tokens SET used_at = ? WHERE hash = ? AND kind = 'refresh' AND used_at IS NULL AND expires_at > ?`,
			now.Unix(), hash, now.Unix())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		used = n == 0
		g, err = scanGrant(s.txQueryRow(ctx, tx, `SELECT `+grantColumns+` FROM oidc_tokens t JOIN oidc_grants g ON g.id = t.grant_id
			JOIN apps a ON a.id = g.app_id WHERE t.hash = ? AND t.kind = 'refresh' AND t.used_at IS NOT NULL AND g.revoked_at IS NULL`, hash))
		return err
	})
	if err != nil {
		if errors.Is(err, gardien.ErrNotFound) {
			return nil, false, err
		}
		return nil, false, fmt.Errorf("sqlstore: use refresh token: %w", err)
	}
	return g, used, nil
}

// TokenGrant returns the live grant of a live token of kind.
func (s *Store) TokenGrant(ctx context.Context, hash []byte, kind string, now time.Time) (*gardien.Grant, error) {
	g, err := scanGrant(s.queryRow(ctx, s.reader, `SELECT `+grantColumns+` FROM oidc_tokens t JOIN oidc_grants g ON g.id = t.grant_id
		JOIN apps a ON a.id = g.app_id WHERE t.hash = ? AND t.kind = ? AND t.used_at IS NULL AND t.expires_at > ? AND g.revoked_at IS NULL`,
		hash, kind, now.Unix()))
	if err != nil && !errors.Is(err, gardien.ErrNotFound) {
		return nil, fmt.Errorf("sqlstore: token grant: %w", err)
	}
	return g, err
}

// RevokeGrants revokes the live grants f selects and deletes their tokens.
func (s *Store) RevokeGrants(ctx context.Context, f auth.GrantFilter, now time.Time, e *gardien.Event) ([]gardien.Grant, error) {
	where, args := []string{"g.revoked_at IS NULL", "g.user_id IS NOT NULL"}, []any{}
	add := func(cond string, v any) { where, args = append(where, cond), append(args, v) }
	if f.ID != "" {
		add("g.id = ?", f.ID)
	}
	if f.UserID != 0 {
		add("g.user_id = ?", f.UserID)
	}
	if f.SessionID != 0 {
		add("g.session_id = ?", f.SessionID)
	}
	if f.AppID != 0 {
		add("g.app_id = ?", f.AppID)
	}
	if f.OrgID != 0 {
		add("a.org_id = ?", f.OrgID)
	}
	if len(args) == 0 {
		return nil, errors.New("sqlstore: revoke grants: no filter")
	}
	var out []gardien.Grant
	err := s.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.q(`SELECT `+grantColumns+` FROM oidc_grants g JOIN apps a ON a.id = g.app_id WHERE `+
			strings.Join(where, " AND ")), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			g, err := scanGrant(rows)
			if err != nil {
				return err
			}
			out = append(out, *g)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		for _, g := range out {
			if _, err := s.txExec(ctx, tx, `UPDATE oidc_grants SET revoked_at = ?, ended_at = COALESCE(ended_at, ?) WHERE id = ?`,
				now.Unix(), now.Unix(), g.ID); err != nil {
				return err
			}
			if _, err := s.txExec(ctx, tx, `DELETE FROM oidc_tokens WHERE grant_id = ?`, g.ID); err != nil {
				return err
			}
		}
		if e != nil && len(out) > 0 {
			return s.insertEvent(ctx, tx, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: revoke grants: %w", err)
	}
	return out, nil
}

// SigningKeys returns the keys not expired, the newest first.
func (s *Store) SigningKeys(ctx context.Context, now time.Time) ([]gardien.SigningKey, error) {
	out, err := queryAll(ctx, s, `SELECT id, alg, private_key, created_at, retired_at, expires_at FROM oidc_keys
		WHERE expires_at = 0 OR expires_at > ? ORDER BY created_at DESC, id`, func(row scanner) (gardien.SigningKey, error) {
		var k gardien.SigningKey
		var created, retired, expires int64
		err := row.Scan(&k.ID, &k.Alg, &k.Sealed, &created, &retired, &expires)
		k.CreatedAt = time.Unix(created, 0).UTC()
		if retired != 0 {
			k.RetiredAt = time.Unix(retired, 0).UTC()
		}
		if expires != 0 {
			k.ExpiresAt = time.Unix(expires, 0).UTC()
		}
		return k, err
	}, now.Unix())
	if err != nil {
		return nil, fmt.Errorf("sqlstore: signing keys: %w", err)
	}
	return out, nil
}

// AddSigningKeys saves keys, and retires the ones signing when retire is set.
func (s *Store) AddSigningKeys(ctx context.Context, keys []gardien.SigningKey, retire, expire time.Time, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if !retire.IsZero() {
			if _, err := s.txExec(ctx, tx, `UPDATE oidc_keys SET retired_at = ?, expires_at = ? WHERE retired_at = 0`,
				retire.Unix(), expire.Unix()); err != nil {
				return err
			}
		}
		for _, k := range keys {
			if _, err := s.txExec(ctx, tx, `INSERT INTO oidc_keys (id, alg, private_key, created_at) VALUES (?, ?, ?, ?)`,
				k.ID, k.Alg, k.Sealed, k.CreatedAt.Unix()); err != nil {
				return err
			}
		}
		if e != nil {
			return s.insertEvent(ctx, tx, e)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlstore: add signing keys: %w", err)
	}
	return nil
}

// UserSignIns lists the apps a person has live grants of, the most
// recent first.
func (s *Store) UserSignIns(ctx context.Context, userID int64, now time.Time) ([]gardien.SignIn, error) {
	out, err := queryAll(ctx, s, `SELECT `+prefixed("a.", appColumns)+`, o.name, MAX(g.created_at) FROM oidc_grants g
		JOIN apps a ON a.id = g.app_id JOIN organizations o ON o.id = a.org_id
		WHERE g.user_id = ? AND g.revoked_at IS NULL AND g.expires_at > ?
		GROUP BY `+prefixed("a.", appColumns)+`, o.name ORDER BY MAX(g.created_at) DESC`,
		func(row scanner) (gardien.SignIn, error) {
			var si gardien.SignIn
			var last int64
			var err error
			si.App, err = scanApp(scanFunc(func(dest ...any) error { return row.Scan(append(dest, &si.OrgName, &last)...) }))
			si.LastAt = time.Unix(last, 0).UTC()
			return si, err
		}, userID, now.Unix())
	if err != nil {
		return nil, fmt.Errorf("sqlstore: user sign-ins: %w", err)
	}
	return out, nil
}

// prefixed qualifies a list of columns with a table's alias.
func prefixed(alias, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = alias + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// QueueBackchannelLogouts queues, for the apps of grants that ended (their
// session ended, or they were revoked) and that ask to be told, a
// back-channel logout each, and marks those grants told: in one
// transaction, so that a killed process tells each app once, or not yet.
func (s *Store) QueueBackchannelLogouts(ctx context.Context, now, expires time.Time, limit int) (int, error) {
	type ended struct {
		id, clientID, target, alg string
		userID, sessionID         int64
	}
	n := 0
	err := s.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.q(`SELECT g.id, a.client_id, a.backchannel_uri, a.signing_alg, g.user_id, COALESCE(g.session_id, 0)
			FROM oidc_grants g JOIN apps a ON a.id = g.app_id
			WHERE g.ended_at IS NOT NULL AND g.told_at IS NULL AND g.user_id IS NOT NULL ORDER BY g.ended_at LIMIT ?`), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		var all []ended
		for rows.Next() {
			var e ended
			if err := rows.Scan(&e.id, &e.clientID, &e.target, &e.alg, &e.userID, &e.sessionID); err != nil {
				return err
			}
			all = append(all, e)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		told := map[string]bool{} // one logout per app and session
		for _, e := range all {
			// Conditional: on PostgreSQL another node's worker may have read
			// the same grants; the one whose write lands tells the app.
			res, err := s.txExec(ctx, tx, `UPDATE oidc_grants SET told_at = ? WHERE id = ? AND told_at IS NULL`, now.Unix(), e.id)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				continue
			}
			key := fmt.Sprint(e.clientID, e.userID, e.sessionID)
			if e.target == "" || told[key] {
				continue
			}
			told[key] = true
			payload, err := json.Marshal(gardien.BackchannelLogout{ClientID: e.clientID, UserID: e.userID, SessionID: e.sessionID, Alg: e.alg})
			if err != nil {
				return err
			}
			if _, err := s.txExec(ctx, tx, `INSERT INTO deliveries (kind, target, payload, created_at, expires_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)`,
				gardien.DeliveryBackchannelLogout, e.target, string(payload), now.Unix(), expires.Unix(), now.Unix()); err != nil {
				return err
			}
		}
		n = len(all)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlstore: queue back-channel logouts: %w", err)
	}
	return n, nil
}

// DeleteStaleGrants deletes the sign-ins to apps that lapsed before
// `before` — their apps told when they ended — with their tokens, the
// refresh tokens, passes and WebAuthn ceremonies expired at now, and
// signing keys expired before `before`.
func (s *Store) DeleteStaleGrants(ctx context.Context, now, before time.Time) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []struct {
			query string
			args  []any
		}{
			{`DELETE FROM oidc_grants WHERE expires_at < ? AND (ended_at IS NULL OR told_at IS NOT NULL)`, []any{before.Unix()}},
			{`DELETE FROM oidc_tokens WHERE expires_at < ?`, []any{now.Unix()}},
			{`DELETE FROM forward_sessions WHERE expires_at < ?`, []any{now.Unix()}},
			{`DELETE FROM oidc_keys WHERE expires_at <> 0 AND expires_at < ?`, []any{before.Unix()}},
			{`DELETE FROM webauthn_logins WHERE expires_at < ?`, []any{now.Unix()}},
			{`DELETE FROM webauthn_ceremonies WHERE expires_at < ?`, []any{now.Unix()}},
		} {
			res, err := s.txExec(ctx, tx, q.query, q.args...)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += k
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete stale grants: %w", err)
	}
	return n, nil
}
