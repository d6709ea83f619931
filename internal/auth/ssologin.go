package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/mail"
	"github.com/gardien/gardien/internal/sso"
)

// ssoLoginTTL is how long a login sent to an identity provider waits for
// its answer.
const ssoLoginTTL = 10 * time.Minute

var (
	errSSOFailed             = gardien.Errorf(gardien.CodeSSOFailed, "err.sso_failed")
	errSSOLinkRequired       = gardien.Errorf(gardien.CodeConflict, "err.sso_link_required")
	errSSORequired           = gardien.Errorf(gardien.CodeSSORequired, "err.sso_required")
	errInvalidCredentialsSSO = gardien.Errorf(gardien.CodeInvalidCredentials, "err.invalid_credentials_sso")
	errSSONoPassword         = gardien.Errorf(gardien.CodeSSOUser, "err.sso_user_password")
)

// domainSSO is the enabled connection of the organization that verified
// the domain of an email key, or nil.
func (s *Service) domainSSO(ctx context.Context, emailKey string) (*gardien.SSOConnection, error) {
	if !strings.Contains(emailKey, "@") {
		return nil, nil
	}
	conn, err := s.Store.SSOForDomain(ctx, emailDomain(emailKey))
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auth: sso of domain: %w", err)
	}
	return conn, nil
}

func (s *Service) verifierContext(orgID int64) []byte {
	return []byte("sso-login:" + strconv.FormatInt(orgID, 10))
}

// emailDomain is the domain of an email, as domains are kept.
func emailDomain(email string) string {
	at := strings.LastIndexByte(email, '@')
	d, _ := NormalizeDomain(email[at+1:])
	return d
}

// oidcClient is an organization's registration at its provider, secret
// unsealed.
func (s *Service) oidcClient(conn *gardien.SSOConnection) (sso.OIDCClient, error) {
	secret, err := s.Box.Open(conn.ClientSecretSealed, s.ssoSealContext(conn.OrgID))
	if err != nil {
		return sso.OIDCClient{}, fmt.Errorf("auth: sso client secret: %w", err)
	}
	return sso.OIDCClient{Issuer: conn.Issuer, ClientID: conn.ClientID, ClientSecret: string(secret), RedirectURL: s.Links.OIDCCallback()}, nil
}

// StartSSO begins a login through the identity provider of the
// organization that verified the email's domain, and returns where to send
// the person. returnTo is the page they wanted (already checked local).
func (s *Service) StartSSO(ctx context.Context, rawEmail, returnTo string) (string, error) {
	email, _, ok := NormalizeEmail(rawEmail)
	if !ok {
		return "", gardien.Invalid("email", "err.email_invalid")
	}
	conn, err := s.Store.SSOForDomain(ctx, emailDomain(email))
	if errors.Is(err, gardien.ErrNotFound) || err == nil && conn.Protocol != gardien.ProtocolOIDC {
		return "", gardien.Errorf(gardien.CodeSSONotConfigured, "err.sso_not_configured")
	}
	if err != nil {
		return "", fmt.Errorf("auth: sso start: %w", err)
	}
	client, err := s.oidcClient(conn)
	if err != nil {
		return "", err
	}
	state, stateHash := newToken()
	nonce, _ := newToken()
	verifier, _ := newToken() // 43 characters of base64url: a PKCE verifier
	sealed, err := s.Box.Seal([]byte(verifier), s.verifierContext(conn.OrgID))
	if err != nil {
		return "", fmt.Errorf("auth: sso start: %w", err)
	}
	l := &gardien.SSOLogin{OrgID: conn.OrgID, Nonce: nonce, VerifierSealed: sealed, ReturnTo: returnTo, ExpiresAt: s.Now().Add(ssoLoginTTL)}
	if err := s.Store.CreateSSOLogin(ctx, l, stateHash); err != nil {
		return "", fmt.Errorf("auth: sso start: %w", err)
	}
	to, err := s.Providers.AuthURL(ctx, client, state, nonce, verifier, email)
	if err != nil {
		s.Log.WarnContext(ctx, "sso provider unreachable", "org_id", conn.OrgID, "err", err)
		return "", errSSOFailed
	}
	return to, nil
}

// SSOLogin is a login completed through an identity provider — or, when
// the provider vouched for the email of a password account, a link to
// confirm: LinkToken is then set and Login nil. The browser keeps the
// token, its owner logs in with the account's password (and second
// factor) and confirms (LinkSSO).
type SSOLogin struct {
	*Login
	LinkToken string
	ReturnTo  string
}

// FinishSSO takes the provider's answer (the state and code of the
// callback, or the error it sent): the login must be one Gardien started,
// unused and not older than ten minutes; the code is exchanged with its
// PKCE verifier and the ID token checked; the email must be one the
// provider vouches for, in a domain verified by that same organization.
// The person logs in — created at their first arrival, as an SSO user and
// a member — but a password account of the same email is never taken over
// without its owner: errSSOLinkRequired. Every refusal is in the
// organization's audit log.
func (s *Service) FinishSSO(ctx context.Context, state, code, providerError, oldToken string, c gardien.Client) (*SSOLogin, error) {
	if state == "" || len(state) > 100 {
		return nil, errSSOFailed
	}
	l, err := s.Store.ConsumeSSOLogin(ctx, hashToken(state), s.Now())
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, errSSOFailed // unknown, used, or expired: nobody to tell
	}
	if err != nil {
		return nil, fmt.Errorf("auth: sso: %w", err)
	}
	fail := func(why string, err error) (*SSOLogin, error) {
		s.Log.InfoContext(ctx, "sso login refused", "org_id", l.OrgID, "why", why, "err", err)
		if err := s.Store.AddEvent(ctx, s.orgEvent(gardien.EventSSOLoginFailed, l.OrgID, 0, 0, c, why)); err != nil {
			return nil, fmt.Errorf("auth: sso: %w", err)
		}
		return nil, errSSOFailed
	}
	if providerError != "" {
		return fail("the provider answered "+gardien.Clip(providerError, 100), nil)
	}
	conn, err := s.Store.SSOConnection(ctx, l.OrgID)
	if errors.Is(err, gardien.ErrNotFound) || err == nil && (!conn.Enabled || conn.Protocol != gardien.ProtocolOIDC) {
		return fail("single sign-on is off", nil)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: sso: %w", err)
	}
	client, err := s.oidcClient(conn)
	if err != nil {
		return nil, err
	}
	verifier, err := s.Box.Open(l.VerifierSealed, s.verifierContext(l.OrgID))
	if err != nil {
		return nil, fmt.Errorf("auth: sso verifier: %w", err)
	}
	id, err := s.Providers.Exchange(ctx, client, code, string(verifier), l.Nonce)
	if err != nil {
		return fail("the provider's answer did not check out", err)
	}
	email, key, ok := NormalizeEmail(id.Email)
	switch {
	case !ok:
		return fail("the provider gave no usable email", nil)
	case !id.EmailVerified:
		return fail("the provider does not vouch for "+email, nil)
	}
	if owner, err := s.Store.SSOForDomain(ctx, emailDomain(email)); err != nil || owner.OrgID != l.OrgID {
		if err != nil && !errors.Is(err, gardien.ErrNotFound) {
			return nil, fmt.Errorf("auth: sso: %w", err)
		}
		return fail(email+" is not in a verified domain of this organization", nil)
	}
	u, err := s.ssoPerson(ctx, l.OrgID, email, key, id, c)
	if errors.Is(err, errSSOLinkRequired) {
		tok, hash := newToken()
		if err := s.Store.CreateSSOLink(ctx, hash, u.ID, l.OrgID, id.Context, s.Now().Add(ssoLoginTTL)); err != nil {
			return nil, fmt.Errorf("auth: sso link: %w", err)
		}
		return &SSOLogin{LinkToken: tok, ReturnTo: l.ReturnTo}, nil
	}
	if err != nil {
		return nil, err
	}
	s.endToken(ctx, oldToken)
	sess, tok, err := s.openSession(ctx, u.ID, gardien.LevelFull, c, id.Context)
	if err != nil {
		return nil, err
	}
	if err := s.event(ctx, gardien.EventLogin, u.ID, u.ID, c, "sso: "+id.Context); err != nil {
		return nil, err
	}
	s.recordLogin(ctx, u.ID)
	return &SSOLogin{Login: &Login{User: u, Session: sess, Token: tok, Status: StatusOK}, ReturnTo: l.ReturnTo}, nil
}

// ssoPerson is the account of a person the provider vouched for: made at
// their first arrival (an SSO user and a member), found later; a password
// account of the same email is not theirs to take.
func (s *Service) ssoPerson(ctx context.Context, orgID int64, email, key string, id *sso.Identity, c gardien.Client) (*gardien.User, error) {
	u, _, err := s.Store.UserByEmail(ctx, key)
	switch {
	case errors.Is(err, gardien.ErrNotFound):
		name, _ := cleanName(id.Name)
		if name == "" {
			name = email[:strings.LastIndexByte(email, '@')]
		}
		u = &gardien.User{Email: email, Name: name, CreatedAt: s.Now().UTC()}
		e := s.orgEvent(gardien.EventSSOUserCreated, orgID, 0, 0, c, "")
		if err := s.Store.CreateSSOUser(ctx, u, key, orgID, e); err != nil {
			if errors.Is(err, gardien.ErrDuplicate) {
				return nil, errSSOFailed // made by a login racing this one: start again
			}
			return nil, fmt.Errorf("auth: sso user: %w", err)
		}
		return u, nil
	case err != nil:
		return nil, fmt.Errorf("auth: sso user: %w", err)
	case !u.SSO:
		return u, errSSOLinkRequired
	}
	e := s.orgEvent(gardien.EventOrgMemberJoined, orgID, u.ID, u.ID, c, string(gardien.RoleMember)+" (sso)")
	if err := s.Store.JoinAsMember(ctx, orgID, u.ID, s.Now(), e); err != nil {
		return nil, fmt.Errorf("auth: sso user: %w", err)
	}
	return u, nil
}

// SSOLinkOffer names the organization a pending link would tie the
// person's account to (the confirmation page asks).
func (s *Service) SSOLinkOffer(ctx context.Context, u *gardien.User, token string) (*gardien.Membership, error) {
	if token == "" || len(token) > 100 {
		return nil, errSSOFailed
	}
	orgID, err := s.Store.SSOLinkOf(ctx, hashToken(token), u.ID, s.Now())
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, errSSOFailed
	}
	if err != nil {
		return nil, fmt.Errorf("auth: sso link: %w", err)
	}
	o, err := s.Store.OrganizationByID(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("auth: sso link: %w", err)
	}
	return &gardien.Membership{Organization: *o}, nil
}

// LinkSSO ties a password account to its organization's identity
// provider, once its owner proved it is theirs: a full session (password
// and, when they have one, second factor), the same person the provider
// vouched for, within ten minutes. From then on it logs in through SSO:
// no password, no Gardien 2FA (as the seed says), a member of the
// organization; its other sessions end; a mail tells them. It returns the
// session's new token.
func (s *Service) LinkSSO(ctx context.Context, sess *gardien.Session, u *gardien.User, token string, c gardien.Client) (string, error) {
	if sess.Level != gardien.LevelFull || u.SSO {
		return "", errSSOFailed
	}
	if token == "" || len(token) > 100 {
		return "", errSSOFailed
	}
	e := s.newEvent(gardien.EventSSOLinked, u.ID, u.ID, c, "")
	if _, err := s.Store.LinkToSSO(ctx, hashToken(token), u.ID, sess.ID, s.Now(), e); err != nil {
		if errors.Is(err, gardien.ErrNotFound) {
			return "", errSSOFailed
		}
		return "", fmt.Errorf("auth: link sso: %w", err)
	}
	tok, err := s.Rotate(ctx, sess, gardien.LevelFull)
	if err != nil {
		return "", err
	}
	u.SSO, u.TwoFactorEnabled = true, false
	s.send(ctx, mail.Letter{Kind: "sso_linked", To: u.Email, Name: u.Name, Lang: s.langOf(u, ""), Link: s.Links.Login()})
	return tok, nil
}
