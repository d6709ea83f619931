package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gardien/gardien"
)

// SSOConnection returns an organization's SSO connection with its domains;
// gardien.ErrNotFound when it has none.
func (s *Store) SSOConnection(ctx context.Context, orgID int64) (*gardien.SSOConnection, error) {
	c := gardien.SSOConnection{OrgID: orgID}
	var updated int64
	err := s.queryRow(ctx, s.reader, `SELECT protocol, enabled, require_sso, issuer, client_id, COALESCE(client_secret, ?), idp_metadata_url, idp_metadata_xml,
		idp_initiated, COALESCE(sp_key, ?), sp_cert, updated_at FROM sso_connections WHERE org_id = ?`, []byte{}, []byte{}, orgID).
		Scan(&c.Protocol, &c.Enabled, &c.RequireSSO, &c.Issuer, &c.ClientID, &c.ClientSecretSealed, &c.IDPMetadataURL, &c.IDPMetadataXML,
			&c.IdPInitiated, &c.SPKeySealed, &c.SPCertPEM, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gardien.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: sso connection: %w", err)
	}
	c.UpdatedAt = time.Unix(updated, 0).UTC()
	if c.Domains, err = s.ssoDomains(ctx, orgID); err != nil {
		return nil, err
	}
	return &c, nil
}

// SSORequired says whether an organization's connection is on and
// requires SSO (false when it has none).
func (s *Store) SSORequired(ctx context.Context, orgID int64) (bool, error) {
	var required bool
	err := s.queryRow(ctx, s.reader, `SELECT enabled AND require_sso FROM sso_connections WHERE org_id = ?`, orgID).Scan(&required)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlstore: sso required: %w", err)
	}
	return required, nil
}

func (s *Store) ssoDomains(ctx context.Context, orgID int64) ([]gardien.SSODomain, error) {
	out, err := queryAll(ctx, s, `SELECT domain, token, COALESCE(verified_at, 0) FROM sso_domains WHERE org_id = ? ORDER BY domain`,
		func(row scanner) (gardien.SSODomain, error) {
			var d gardien.SSODomain
			var verified int64
			err := row.Scan(&d.Domain, &d.Token, &verified)
			if verified > 0 {
				d.VerifiedAt = time.Unix(verified, 0).UTC()
			}
			return d, err
		}, orgID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: sso domains: %w", err)
	}
	return out, nil
}

// SaveSSOConnection creates or replaces an organization's connection and
// sets its domains to c.Domains: domains kept keep their token and their
// verification, new ones are added with theirs, others go. One
// transaction, with its audit event.
func (s *Store) SaveSSOConnection(ctx context.Context, c *gardien.SSOConnection, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := s.txExec(ctx, tx, `INSERT INTO sso_connections (org_id, protocol, enabled, require_sso, issuer, client_id, client_secret,
			idp_metadata_url, idp_metadata_xml, idp_initiated, sp_key, sp_cert, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (org_id) DO UPDATE SET protocol = excluded.protocol, enabled = excluded.enabled, require_sso = excluded.require_sso,
			issuer = excluded.issuer, client_id = excluded.client_id, client_secret = excluded.client_secret,
			idp_metadata_url = excluded.idp_metadata_url, idp_metadata_xml = excluded.idp_metadata_xml, idp_initiated = excluded.idp_initiated,
			sp_key = excluded.sp_key, sp_cert = excluded.sp_cert, updated_at = excluded.updated_at`,
			c.OrgID, c.Protocol, c.Enabled, c.RequireSSO, c.Issuer, c.ClientID, nullBytes(c.ClientSecretSealed),
			c.IDPMetadataURL, c.IDPMetadataXML, c.IdPInitiated, nullBytes(c.SPKeySealed), c.SPCertPEM, c.UpdatedAt.Unix())
		if err != nil {
			return err
		}
		keep := map[string]bool{}
		for _, d := range c.Domains {
			keep[d.Domain] = true
			if _, err := s.txExec(ctx, tx, `INSERT INTO sso_domains (org_id, domain, token, created_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (org_id, domain) DO NOTHING`, c.OrgID, d.Domain, d.Token, c.UpdatedAt.Unix()); err != nil {
				return err
			}
		}
		domains, err := s.txStrings(ctx, tx, `SELECT domain FROM sso_domains WHERE org_id = ?`, c.OrgID)
		if err != nil {
			return err
		}
		for _, d := range domains {
			if keep[d] {
				continue
			}
			if _, err := s.txExec(ctx, tx, `DELETE FROM sso_domains WHERE org_id = ? AND domain = ?`, c.OrgID, d); err != nil {
				return err
			}
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: save sso connection: %w", err)
	}
	return nil
}

// DeleteSSOConnection removes an organization's connection and domains.
func (s *Store) DeleteSSOConnection(ctx context.Context, orgID int64, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.txExec1(ctx, tx, `DELETE FROM sso_connections WHERE org_id = ?`, orgID); err != nil {
			return err
		}
		if _, err := s.txExec(ctx, tx, `DELETE FROM sso_domains WHERE org_id = ?`, orgID); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: delete sso connection: %w", err)
	}
	return nil
}

// VerifySSODomain marks an organization's domain verified, with its event.
// gardien.ErrNotFound when the organization does not claim it (or it is
// verified already); gardien.ErrDuplicate when another organization has
// verified it.
func (s *Store) VerifySSODomain(ctx context.Context, orgID int64, domain string, at time.Time, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.txExec1(ctx, tx, `UPDATE sso_domains SET verified_at = ? WHERE org_id = ? AND domain = ? AND verified_at IS NULL`,
			at.Unix(), orgID, domain); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	switch {
	case isUnique(err):
		return gardien.ErrDuplicate
	case errors.Is(err, gardien.ErrNotFound):
		return err
	case err != nil:
		return fmt.Errorf("sqlstore: verify sso domain: %w", err)
	}
	return nil
}

func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// SSOForDomain returns the enabled connection of the organization that
// verified domain; gardien.ErrNotFound when none did, or its connection is
// off.
func (s *Store) SSOForDomain(ctx context.Context, domain string) (*gardien.SSOConnection, error) {
	var orgID int64
	err := s.queryRow(ctx, s.reader, `SELECT d.org_id FROM sso_domains d JOIN sso_connections c ON c.org_id = d.org_id
		WHERE d.domain = ? AND d.verified_at IS NOT NULL AND c.enabled`, domain).Scan(&orgID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gardien.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: sso for domain: %w", err)
	}
	return s.SSOConnection(ctx, orgID)
}

// CreateSSOLogin stores a login sent to an identity provider.
func (s *Store) CreateSSOLogin(ctx context.Context, l *gardien.SSOLogin, stateHash []byte) error {
	if _, err := s.exec(ctx, s.writer, `INSERT INTO sso_logins (state_hash, org_id, nonce, verifier, return_to, browser_hash, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		stateHash, l.OrgID, l.Nonce, l.VerifierSealed, l.ReturnTo, nonNil(l.BrowserHash), l.ExpiresAt.Unix()); err != nil {
		return fmt.Errorf("sqlstore: sso login: %w", err)
	}
	return nil
}

// ConsumeSSOLogin takes the login of a state, once: a replayed or late
// answer finds nothing (gardien.ErrNotFound).
func (s *Store) ConsumeSSOLogin(ctx context.Context, stateHash []byte, now time.Time) (*gardien.SSOLogin, error) {
	var l gardien.SSOLogin
	var expires int64
	err := s.queryRow(ctx, s.writer, `DELETE FROM sso_logins WHERE state_hash = ? RETURNING org_id, nonce, verifier, return_to, browser_hash, expires_at`, stateHash).
		Scan(&l.OrgID, &l.Nonce, &l.VerifierSealed, &l.ReturnTo, &l.BrowserHash, &expires)
	if errors.Is(err, sql.ErrNoRows) || err == nil && expires <= now.Unix() {
		return nil, gardien.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: sso login: %w", err)
	}
	l.ExpiresAt = time.Unix(expires, 0).UTC()
	return &l, nil
}

// DeleteStaleSSOLogins removes logins whose answer never came, and
// answers whose browser never came back for them.
func (s *Store) DeleteStaleSSOLogins(ctx context.Context, now time.Time) error {
	for _, table := range []string{"sso_logins", "sso_answers", "saml_assertions"} {
		if _, err := s.exec(ctx, s.writer, `DELETE FROM `+table+` WHERE expires_at <= ?`, now.Unix()); err != nil {
			return fmt.Errorf("sqlstore: stale %s: %w", table, err)
		}
	}
	return nil
}

// CreateSSOAnswer keeps a checked answer under the hash of a one-time
// token.
func (s *Store) CreateSSOAnswer(ctx context.Context, tokenHash []byte, a *gardien.SSOAnswer) error {
	id := a.Identity
	if _, err := s.exec(ctx, s.writer, `INSERT INTO sso_answers (token_hash, org_id, browser_hash, subject, email, email_verified, name, sso_context, return_to, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, tokenHash, a.OrgID, nonNil(a.BrowserHash), id.Subject, id.Email, id.EmailVerified, id.Name, id.Context,
		a.ReturnTo, a.ExpiresAt.Unix()); err != nil {
		return fmt.Errorf("sqlstore: sso answer: %w", err)
	}
	return nil
}

// ConsumeSSOAnswer takes the answer of a token, once: a used or late one
// is gardien.ErrNotFound.
func (s *Store) ConsumeSSOAnswer(ctx context.Context, tokenHash []byte, now time.Time) (*gardien.SSOAnswer, error) {
	var a gardien.SSOAnswer
	var expires int64
	id := &a.Identity
	err := s.queryRow(ctx, s.writer, `DELETE FROM sso_answers WHERE token_hash = ?
		RETURNING org_id, browser_hash, subject, email, email_verified, name, sso_context, return_to, expires_at`, tokenHash).
		Scan(&a.OrgID, &a.BrowserHash, &id.Subject, &id.Email, &id.EmailVerified, &id.Name, &id.Context, &a.ReturnTo, &expires)
	if errors.Is(err, sql.ErrNoRows) || err == nil && expires <= now.Unix() {
		return nil, gardien.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: sso answer: %w", err)
	}
	a.ExpiresAt = time.Unix(expires, 0).UTC()
	return &a, nil
}

// UseSAMLAssertion records that an assertion of an organization's IdP was
// accepted, until it expires: gardien.ErrDuplicate when it was already.
func (s *Store) UseSAMLAssertion(ctx context.Context, orgID int64, assertionID string, expires time.Time) error {
	_, err := s.exec(ctx, s.writer, `INSERT INTO saml_assertions (org_id, assertion_id, expires_at) VALUES (?, ?, ?)`,
		orgID, assertionID, expires.Unix())
	if isUnique(err) {
		return gardien.ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("sqlstore: saml assertion: %w", err)
	}
	return nil
}

// nonNil keeps a NOT NULL byte column from receiving NULL for an empty
// value.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// CreateSSOUser makes the account of a person who arrived through their
// organization's identity provider — validated email, no password — and
// their membership, in one transaction with its event.
func (s *Store) CreateSSOUser(ctx context.Context, u *gardien.User, emailKey string, orgID int64, role gardien.Role, e *gardien.Event) error {
	now := u.CreatedAt.Unix()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.txQueryRow(ctx, tx, `INSERT INTO users (email, email_key, name, password_hash, locale, sso, email_verified_at, created_at, updated_at)
			VALUES (?, ?, ?, '', '', ?, ?, ?, ?) RETURNING id`, u.Email, emailKey, u.Name, true, now, now, now).Scan(&u.ID); err != nil {
			return err
		}
		if _, err := s.joinThroughSSO(ctx, tx, orgID, u.ID, role, u.CreatedAt); err != nil {
			return err
		}
		e.UserID, e.ActorID = u.ID, u.ID
		return s.insertEvent(ctx, tx, e)
	})
	if isUnique(err) {
		return gardien.ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create sso user: %w", err)
	}
	u.SSO, u.EmailVerified = true, true
	return nil
}

// joinThroughSSO makes a person who logs in through an organization's SSO
// one of its members with role, unless they are one already (joined
// false), and closes their pending invitations to it: they joined, so it
// no longer shows as pending and its link no longer works. Which role
// (their invitation's, while its sender may still give it) is auth's rule.
func (s *Store) joinThroughSSO(ctx context.Context, tx *sql.Tx, orgID, userID int64, role gardien.Role, at time.Time) (bool, error) {
	res, err := s.txExec(ctx, tx, `INSERT INTO memberships (org_id, user_id, role, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (org_id, user_id) DO NOTHING`,
		orgID, userID, string(role), at.Unix())
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		if err := s.countMember(ctx, tx, orgID, userID, +1); err != nil {
			return false, err
		}
	}
	if _, err := s.txExec(ctx, tx, `UPDATE invitations SET accepted_at = ? WHERE org_id = ? AND accepted_at IS NULL AND revoked_at IS NULL
		AND email_key = (SELECT email_key FROM users WHERE id = ?)`, at.Unix(), orgID, userID); err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// JoinThroughSSO makes a person who logged in through an organization's
// SSO one of its members, with role, unless they are one already; its event
// when they join.
func (s *Store) JoinThroughSSO(ctx context.Context, orgID, userID int64, role gardien.Role, at time.Time, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		joined, err := s.joinThroughSSO(ctx, tx, orgID, userID, role, at)
		if err != nil || !joined {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: join: %w", err)
	}
	return nil
}

// CreateSSOLink stores a pending link of a password account to SSO.
func (s *Store) CreateSSOLink(ctx context.Context, tokenHash []byte, userID, orgID int64, ssoContext string, expires time.Time) error {
	if _, err := s.exec(ctx, s.writer, `INSERT INTO sso_links (token_hash, user_id, org_id, sso_context, expires_at) VALUES (?, ?, ?, ?, ?)`,
		tokenHash, userID, orgID, ssoContext, expires.Unix()); err != nil {
		return fmt.Errorf("sqlstore: sso link: %w", err)
	}
	return nil
}

// SSOLinkOf returns the organization of a live pending link for a person;
// gardien.ErrNotFound when there is none.
func (s *Store) SSOLinkOf(ctx context.Context, tokenHash []byte, userID int64, now time.Time) (int64, error) {
	var orgID int64
	err := s.queryRow(ctx, s.reader, `SELECT org_id FROM sso_links WHERE token_hash = ? AND user_id = ? AND expires_at > ?`,
		tokenHash, userID, now.Unix()).Scan(&orgID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, gardien.ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("sqlstore: sso link: %w", err)
	}
	return orgID, nil
}

// LinkToSSO uses a pending link, once: the account becomes an SSO user —
// no password, no Gardien second factor (its provider owns both), its
// email validated (the provider vouched for it) — and a
// member of the organization, with role; its other sessions end. One transaction,
// with its event. gardien.ErrNotFound when the link is gone.
func (s *Store) LinkToSSO(ctx context.Context, tokenHash []byte, userID, keepSession int64, role gardien.Role, now time.Time, e *gardien.Event) (int64, error) {
	var orgID int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.txQueryRow(ctx, tx, `DELETE FROM sso_links WHERE token_hash = ? AND user_id = ? AND expires_at > ? RETURNING org_id`,
			tokenHash, userID, now.Unix()).Scan(&orgID); errors.Is(err, sql.ErrNoRows) {
			return gardien.ErrNotFound
		} else if err != nil {
			return err
		}
		before, err := s.protectionOf(ctx, tx, userID)
		if err != nil {
			return err
		}
		// The provider vouched for the email: it is validated.
		if _, err := s.txExec(ctx, tx, `UPDATE users SET sso = ?, password_hash = '', email_verified_at = COALESCE(email_verified_at, ?), updated_at = ?
			WHERE id = ?`, true, now.Unix(), now.Unix(), userID); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM two_factor WHERE user_id = ?`, `DELETE FROM passkeys WHERE user_id = ?`, `DELETE FROM recovery_codes WHERE user_id = ?`} {
			if _, err := s.txExec(ctx, tx, q, userID); err != nil {
				return err
			}
		}
		if err := s.countProtection(ctx, tx, userID, before); err != nil {
			return err
		}
		if _, err := s.txExec(ctx, tx, `DELETE FROM sessions WHERE user_id = ? AND id <> ?`, userID, keepSession); err != nil {
			return err
		}
		if _, err := s.joinThroughSSO(ctx, tx, orgID, userID, role, now); err != nil {
			return err
		}
		e.OrgID = orgID
		return s.insertEvent(ctx, tx, e)
	})
	if errors.Is(err, gardien.ErrNotFound) {
		return 0, err
	}
	if err != nil {
		return 0, fmt.Errorf("sqlstore: link to sso: %w", err)
	}
	return orgID, nil
}
