package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
)

const appColumns = `id, org_id, client_id, name, type, redirect_uris, post_logout_uris, backchannel_uri, audience,
	require_two_factor, signing_alg, created_at, updated_at, hosts`

func scanApp(row scanner) (gardien.App, error) {
	var a gardien.App
	var redirects, logouts, hosts string
	var created, updated int64
	err := row.Scan(&a.ID, &a.OrgID, &a.ClientID, &a.Name, &a.Type, &redirects, &logouts, &a.BackchannelLogoutURI, &a.Audience,
		&a.RequireTwoFactor, &a.SigningAlg, &created, &updated, &hosts)
	a.RedirectURIs, a.PostLogoutRedirectURIs, a.Hosts = lines(redirects), lines(logouts), lines(hosts)
	a.CreatedAt, a.UpdatedAt = time.Unix(created, 0).UTC(), time.Unix(updated, 0).UTC()
	return a, err
}

// lines splits a column of one value a line (URIs never hold a newline).
func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// CreateApp saves a new app with its first secret (nil for none) and e.
func (s *Store) CreateApp(ctx context.Context, a *gardien.App, secret *gardien.AppSecret, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := s.txQueryRow(ctx, tx, `INSERT INTO apps (org_id, client_id, name, type, redirect_uris, post_logout_uris, backchannel_uri, audience,
			require_two_factor, signing_alg, created_at, updated_at, hosts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.OrgID, a.ClientID, a.Name, a.Type, strings.Join(a.RedirectURIs, "\n"), strings.Join(a.PostLogoutRedirectURIs, "\n"),
			a.BackchannelLogoutURI, a.Audience, a.RequireTwoFactor, a.SigningAlg, a.CreatedAt.Unix(), a.UpdatedAt.Unix(),
			strings.Join(a.Hosts, "\n")).Scan(&a.ID)
		if err != nil {
			return err
		}
		if err := s.setAppHosts(ctx, tx, a); err != nil {
			return err
		}
		if secret != nil {
			if _, err := s.txExec(ctx, tx, `INSERT INTO app_secrets (app_id, hash, created_at) VALUES (?, ?, ?)`,
				a.ID, secret.Hash, secret.CreatedAt.Unix()); err != nil {
				return err
			}
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: create app: %w", err)
	}
	return nil
}

// UpdateApp saves an app's settings and e.
func (s *Store) UpdateApp(ctx context.Context, a *gardien.App, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.txExec1(ctx, tx, `UPDATE apps SET name = ?, redirect_uris = ?, post_logout_uris = ?, backchannel_uri = ?, audience = ?,
			require_two_factor = ?, signing_alg = ?, updated_at = ?, hosts = ? WHERE id = ?`,
			a.Name, strings.Join(a.RedirectURIs, "\n"), strings.Join(a.PostLogoutRedirectURIs, "\n"), a.BackchannelLogoutURI, a.Audience,
			a.RequireTwoFactor, a.SigningAlg, a.UpdatedAt.Unix(), strings.Join(a.Hosts, "\n"), a.ID); err != nil {
			return err
		}
		if err := s.setAppHosts(ctx, tx, a); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: update app: %w", err)
	}
	return nil
}

// setAppHosts makes a's hosts its own: gardien.ErrDuplicate when another
// app has one.
func (s *Store) setAppHosts(ctx context.Context, tx *sql.Tx, a *gardien.App) error {
	if _, err := s.txExec(ctx, tx, `DELETE FROM app_hosts WHERE app_id = ?`, a.ID); err != nil {
		return err
	}
	for _, h := range a.Hosts {
		if _, err := s.txExec(ctx, tx, `INSERT INTO app_hosts (host, app_id) VALUES (?, ?)`, h, a.ID); err != nil {
			if isUnique(err) {
				return gardien.ErrDuplicate
			}
			return err
		}
	}
	return nil
}

// AppByHost returns the proxy app of a host.
func (s *Store) AppByHost(ctx context.Context, host string) (*gardien.App, error) {
	a, err := scanApp(s.queryRow(ctx, s.reader, `SELECT `+prefixed("a.", appColumns)+` FROM app_hosts h JOIN apps a ON a.id = h.app_id WHERE h.host = ?`, host))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gardien.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: app by host: %w", err)
	}
	return &a, nil
}

// ProxyAppOf returns the proxy app of a host (what a proxy's question
// needs of it: id, organization, name, type, audience, need of 2FA), with a
// person's membership of its organization (nil when none) and whether it
// requires SSO: one query.
func (s *Store) ProxyAppOf(ctx context.Context, host string, userID int64) (*gardien.App, *gardien.Membership, bool, error) {
	var a gardien.App
	var m gardien.Membership
	var role sql.NullString
	var created, deadline int64
	var ssoRequired bool
	err := s.queryRow(ctx, s.reader, `SELECT a.id, a.org_id, a.name, a.type, a.audience, a.require_two_factor,
		o.id, o.name, o.require_two_factor, o.require_two_factor_deadline, o.require_phishing_resistant, o.created_at, m.role, COALESCE(c.enabled AND c.require_sso, ?)
		FROM app_hosts h JOIN apps a ON a.id = h.app_id JOIN organizations o ON o.id = a.org_id
		LEFT JOIN memberships m ON m.org_id = a.org_id AND m.user_id = ?
		LEFT JOIN sso_connections c ON c.org_id = a.org_id WHERE h.host = ?`, false, userID, host).
		Scan(&a.ID, &a.OrgID, &a.Name, &a.Type, &a.Audience, &a.RequireTwoFactor,
			&m.ID, &m.Name, &m.RequireTwoFactor, &deadline, &m.RequirePhishingResistant, &created, &role, &ssoRequired)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, false, gardien.ErrNotFound
	}
	if err != nil {
		return nil, nil, false, fmt.Errorf("sqlstore: proxy app: %w", err)
	}
	if !role.Valid {
		return &a, nil, ssoRequired, nil
	}
	m.Role, m.CreatedAt, m.TwoFactorDeadline = gardien.Role(role.String), time.Unix(created, 0).UTC(), unixOrZero(deadline)
	return &a, &m, ssoRequired, nil
}

// DeleteApp deletes an organization's app (its secrets, sign-ins and tokens
// go with it) and saves e.
func (s *Store) DeleteApp(ctx context.Context, orgID, appID int64, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.txExec1(ctx, tx, `DELETE FROM apps WHERE id = ? AND org_id = ?`, appID, orgID); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: delete app: %w", err)
	}
	return nil
}

// App returns an app by id.
func (s *Store) App(ctx context.Context, appID int64) (*gardien.App, error) {
	return s.appWhere(ctx, `id = ?`, appID)
}

// AppByClientID returns an app by its client id.
func (s *Store) AppByClientID(ctx context.Context, clientID string) (*gardien.App, error) {
	return s.appWhere(ctx, `client_id = ?`, clientID)
}

func (s *Store) appWhere(ctx context.Context, where string, arg any) (*gardien.App, error) {
	a, err := scanApp(s.queryRow(ctx, s.reader, `SELECT `+appColumns+` FROM apps WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gardien.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: app: %w", err)
	}
	return &a, nil
}

// OrgApps lists an organization's apps by name.
func (s *Store) OrgApps(ctx context.Context, orgID int64) ([]gardien.App, error) {
	out, err := queryAll(ctx, s, `SELECT `+appColumns+` FROM apps WHERE org_id = ? ORDER BY name, id`, scanApp, orgID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: org apps: %w", err)
	}
	return out, nil
}

// RotateAppSecret adds sec as the current secret: the current one works
// until oldUntil, older ones stop now.
func (s *Store) RotateAppSecret(ctx context.Context, appID int64, sec *gardien.AppSecret, oldUntil time.Time, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		now := sec.CreatedAt.Unix()
		if _, err := s.txExec(ctx, tx, `DELETE FROM app_secrets WHERE app_id = ? AND expires_at <> 0`, appID); err != nil {
			return err
		}
		if _, err := s.txExec(ctx, tx, `UPDATE app_secrets SET expires_at = ? WHERE app_id = ? AND expires_at = 0`, oldUntil.Unix(), appID); err != nil {
			return err
		}
		if _, err := s.txExec(ctx, tx, `INSERT INTO app_secrets (app_id, hash, created_at) VALUES (?, ?, ?)`, appID, sec.Hash, now); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: rotate app secret: %w", err)
	}
	return nil
}

// AppSecrets returns an app's secrets that work at now.
func (s *Store) AppSecrets(ctx context.Context, appID int64, now time.Time) ([]gardien.AppSecret, error) {
	out, err := lookupAll(ctx, s, `SELECT hash, created_at, expires_at FROM app_secrets WHERE app_id = ? AND (expires_at = 0 OR expires_at > ?)`,
		func(row scanner) (gardien.AppSecret, error) {
			var a gardien.AppSecret
			var created, expires int64
			err := row.Scan(&a.Hash, &created, &expires)
			a.CreatedAt = time.Unix(created, 0).UTC()
			if expires != 0 {
				a.ExpiresAt = time.Unix(expires, 0).UTC()
			}
			return a, err
		}, appID, now.Unix())
	if err != nil {
		return nil, fmt.Errorf("sqlstore: app secrets: %w", err)
	}
	return out, nil
}

// CreateForwardSession saves a browser's pass to proxy apps.
func (s *Store) CreateForwardSession(ctx context.Context, tokenHash []byte, sessionID int64, created, expires time.Time) error {
	if _, err := s.exec(ctx, s.writer, `INSERT INTO forward_sessions (token_hash, session_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		tokenHash, sessionID, created.Unix(), expires.Unix()); err != nil {
		return fmt.Errorf("sqlstore: create forward session: %w", err)
	}
	return nil
}

// ForwardSession returns the Gardien session of a live pass and its person.
func (s *Store) ForwardSession(ctx context.Context, tokenHash []byte, now time.Time) (*gardien.Session, *gardien.User, error) {
	sess, u, err := scanSessionUser(auth.SessionKey{}, s.queryRow(ctx, s.reader, `SELECT `+userColumns+`, `+sessionColumns+`
		FROM forward_sessions f JOIN sessions s ON s.id = f.session_id JOIN users u ON u.id = s.user_id
		WHERE f.token_hash = ? AND f.expires_at > ?`, tokenHash, now.Unix()))
	if err != nil {
		if errors.Is(err, gardien.ErrNotFound) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("sqlstore: forward session: %w", err)
	}
	return sess, u, nil
}
