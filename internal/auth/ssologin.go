package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
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

// domainSSO is the enabled connection of the organization that verified
// the domain of an email key; found is false when there is none.
func (s *Service) domainSSO(ctx context.Context, emailKey string) (conn *gardien.SSOConnection, found bool, err error) {
	if !strings.Contains(emailKey, "@") {
		return nil, false, nil
	}
	conn, err = s.Store.SSOForDomain(ctx, emailDomain(emailKey))
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("auth: sso of domain: %w", err)
	}
	return conn, true, nil
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

// SSOStart is where to send a person to log in through their identity
// provider, and the value their browser keeps (in a cookie) to show, when
// the answer comes back, that it is the browser that started the login.
type SSOStart struct {
	URL     string
	Browser string
	Expires time.Time // when the login's wait ends, and the cookie with it
}

// browserValue is the value a browser keeps for its SSO logins: the one it
// has (so that two logins started in two tabs both hold), or a new one.
func browserValue(had string) string {
	if tokenShaped(had) {
		return had
	}
	v, _ := newToken()
	return v
}

// StartSSO begins a login through the identity provider of the
// organization that verified the email's domain, and returns where to send
// the person. returnTo is the page they wanted (already checked local);
// browser is the value the browser kept from an earlier start, if any.
func (s *Service) StartSSO(ctx context.Context, rawEmail, returnTo, browser string, c gardien.Client) (*SSOStart, error) {
	email, _, ok := NormalizeEmail(rawEmail)
	if !ok {
		return nil, gardien.Invalid("email", "err.email_invalid")
	}
	if err := s.ssoStartAllowed(ctx, emailDomain(email), c); err != nil {
		return nil, err
	}
	conn, err := s.Store.SSOForDomain(ctx, emailDomain(email))
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, errNoSSOForDomain
	}
	if err != nil {
		return nil, fmt.Errorf("auth: sso start: %w", err)
	}
	start := &SSOStart{Browser: browserValue(browser), Expires: s.Now().Add(ssoLoginTTL)}
	l := &gardien.SSOLogin{OrgID: conn.OrgID, ReturnTo: returnTo, BrowserHash: hashToken(start.Browser), ExpiresAt: start.Expires}
	if conn.Protocol == gardien.ProtocolSAML {
		start.URL, err = s.startSAML(ctx, conn, l)
	} else {
		start.URL, err = s.startOIDC(ctx, conn, l, email)
	}
	if err != nil {
		return nil, err
	}
	return start, nil
}

// LogsInWithSSO says whether an email's domain logs in through its
// organization's identity provider (verified for SSO, and on): the login
// page's first step sends those people there, everyone else to the
// password. A fact about the domain, which /sso/start tells anyone; never
// about an account.
func (s *Service) LogsInWithSSO(ctx context.Context, rawEmail string) (bool, error) {
	_, key, ok := NormalizeEmail(rawEmail)
	if !ok {
		return false, gardien.Invalid("email", "err.email_invalid")
	}
	_, found, err := s.domainSSO(ctx, key)
	return found, err
}

// Starts of SSO logins, counted per address (an IPv6 client's /64) and
// per email domain: anyone may start one, and each costs a pending login
// and, answered with an error, an audit line. Wide enough for an office
// behind one address logging in at nine.
var (
	ssoStartsPerAddress = countLimit{"sso-start-address", 300, 10 * time.Minute}
	ssoStartsPerDomain  = countLimit{"sso-start-domain", 3000, 10 * time.Minute}
)

// ssoStartAllowed counts a start from c's address for domain, or refuses
// it (rate_limited) when either count is full.
func (s *Service) ssoStartAllowed(ctx context.Context, domain string, c gardien.Client) error {
	address := addressBucket(c.IP)
	if err := s.limitAllowed(ctx, ssoStartsPerAddress, address); err != nil {
		return err
	}
	if err := s.limitAllowed(ctx, ssoStartsPerDomain, domain); err != nil {
		s.notUsed(ctx, ssoStartsPerAddress, address)
		return err
	}
	return nil
}

// startOIDC sends the person to an OpenID Provider (code flow, PKCE);
// the login waits under its state.
func (s *Service) startOIDC(ctx context.Context, conn *gardien.SSOConnection, l *gardien.SSOLogin, email string) (string, error) {
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
	l.Nonce, l.VerifierSealed = nonce, sealed
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

// startSAML sends the person to a SAML identity provider with an
// AuthnRequest; the login waits under its RelayState, and the answer must
// be InResponseTo the request's ID.
func (s *Service) startSAML(ctx context.Context, conn *gardien.SSOConnection, l *gardien.SSOLogin) (string, error) {
	client, err := s.samlClient(conn)
	if err != nil {
		return "", err
	}
	state, stateHash := newToken()
	to, requestID, err := s.Providers.SAMLAuthURL(client, state)
	if err != nil {
		s.Log.WarnContext(ctx, "saml request not made", "org_id", conn.OrgID, "err", err)
		return "", errSSOFailed
	}
	l.Nonce, l.VerifierSealed = requestID, []byte{0}
	if err := s.Store.CreateSSOLogin(ctx, l, stateHash); err != nil {
		return "", fmt.Errorf("auth: sso start: %w", err)
	}
	return to, nil
}

// ssoAnswerTTL is how long a checked SAML answer waits for its browser to
// come back for it (a redirect away).
const ssoAnswerTTL = 2 * time.Minute

// AcceptSAML takes a SAML identity provider's answer at the ACS of
// organization orgID (a cross-site POST): the RelayState names a login
// Gardien started for that organization; the response must be signed, for
// Gardien's audience and ACS, in its time window, InResponseTo the login's
// request. The identity it vouches for waits under the token returned, for
// the browser that started the login (FinishSAML).
func (s *Service) AcceptSAML(ctx context.Context, orgID int64, relayState, samlResponse string, c gardien.Client) (string, error) {
	a, err := s.answer(ctx, relayState, gardien.ProtocolSAML, c)
	if errors.Is(err, errNoSuchLogin) {
		return s.acceptUnsolicited(ctx, orgID, samlResponse, c)
	}
	if err != nil {
		return "", err
	}
	if a.orgID != orgID {
		return "", a.refuse(ctx, gardien.EventData{"reason": "wrong_acs"}, nil)
	}
	client, err := s.samlClient(a.conn)
	if err != nil {
		return "", err
	}
	id, err := s.Providers.SAMLIdentity(client, samlResponse, a.login.Nonce)
	if err != nil {
		return "", a.refuse(ctx, gardien.EventData{"reason": "unchecked_answer", "cause": sso.Cause(err)}, err)
	}
	tok, hash := newToken()
	if err := s.Store.CreateSSOAnswer(ctx, hash, &gardien.SSOAnswer{OrgID: orgID, BrowserHash: a.login.BrowserHash, Identity: *id,
		ReturnTo: a.returnTo, ExpiresAt: s.Now().Add(ssoAnswerTTL)}); err != nil {
		return "", fmt.Errorf("auth: saml answer: %w", err)
	}
	return tok, nil
}

// acceptUnsolicited takes a SAML answer to no login of Gardien's: one the
// identity provider started (a dashboard tile). Only a connection that
// accepts those takes it — fresh, for its own ACS, each assertion once;
// it then waits for no particular browser. Refusals are logged, not
// audited: anyone can post to an ACS.
func (s *Service) acceptUnsolicited(ctx context.Context, orgID int64, samlResponse string, c gardien.Client) (string, error) {
	conn, err := s.Store.SSOConnection(ctx, orgID)
	if err != nil && !errors.Is(err, gardien.ErrNotFound) {
		return "", fmt.Errorf("auth: saml answer: %w", err)
	}
	switch {
	case err != nil || !conn.Enabled || conn.Protocol != gardien.ProtocolSAML:
		s.Log.InfoContext(ctx, "saml answer to no login refused", "org_id", orgID, "why", "no SAML connection on")
		return "", errSSOFailed
	case !conn.IdPInitiated:
		s.Log.InfoContext(ctx, "saml answer to no login refused", "org_id", orgID,
			"why", "an IdP-initiated login, or a login started more than ten minutes ago; the connection accepts no IdP-initiated login")
		return "", errIdPInitiatedOff
	}
	client, err := s.samlClient(conn)
	if err != nil {
		return "", err
	}
	client.UseAssertion = func(assertionID string, expires time.Time) error {
		err := s.Store.UseSAMLAssertion(ctx, orgID, assertionID, expires)
		if errors.Is(err, gardien.ErrDuplicate) {
			return sso.ErrAssertionUsed
		}
		return err
	}
	id, err := s.Providers.SAMLIdentity(client, samlResponse, "")
	if err != nil {
		s.Log.InfoContext(ctx, "saml answer to no login refused", "org_id", orgID, "why", "IdP-initiated answer did not check out",
			"cause", sso.Cause(err), "err", err)
		return "", errSSOFailed
	}
	tok, hash := newToken()
	if err := s.Store.CreateSSOAnswer(ctx, hash, &gardien.SSOAnswer{OrgID: orgID, Identity: *id, ExpiresAt: s.Now().Add(ssoAnswerTTL)}); err != nil {
		return "", fmt.Errorf("auth: saml answer: %w", err)
	}
	return tok, nil
}

// FinishSAML logs in, in the browser that started the login (browser: the
// value it kept), the person a checked SAML answer vouches for; an answer
// to a login the provider started waits for no browser, while its
// connection still accepts those.
func (s *Service) FinishSAML(ctx context.Context, token, browser, oldToken string, c gardien.Client) (*SSOLogin, error) {
	if !tokenShaped(token) { // no write for what cannot be one
		return nil, errSSOFailed
	}
	ans, err := s.Store.ConsumeSSOAnswer(ctx, hashToken(token), s.Now())
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, errSSOFailed
	}
	if err != nil {
		return nil, fmt.Errorf("auth: saml answer: %w", err)
	}
	a := &ssoAnswer{s: s, orgID: ans.OrgID, returnTo: ans.ReturnTo, c: c}
	if err := a.connection(ctx, gardien.ProtocolSAML); err != nil {
		return nil, err
	}
	unsolicited := len(ans.BrowserHash) == 0
	if unsolicited && !a.conn.IdPInitiated || !unsolicited && !sameBrowser(ans.BrowserHash, browser) {
		return nil, a.refuse(ctx, gardien.EventData{"reason": "other_browser"}, nil)
	}
	return a.logIn(ctx, &ans.Identity, oldToken)
}

// tokenShaped says whether s could be a token of newToken's (43 characters
// of base64url): anything else is refused before the database.
func tokenShaped(s string) bool {
	return len(s) == 43 && strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == ""
}

// sameBrowser says whether browser is the value whose hash a login kept.
func sameBrowser(kept []byte, browser string) bool {
	return len(kept) > 0 && browser != "" && subtle.ConstantTimeCompare(kept, hashToken(browser)) == 1
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

// ssoAnswer is an identity provider's answer to a login Gardien started:
// the login, found by its state (or RelayState) once, within ten minutes.
type ssoAnswer struct {
	s        *Service
	login    *gardien.SSOLogin
	orgID    int64
	returnTo string
	conn     *gardien.SSOConnection
	c        gardien.Client
}

// answer takes the login of a state and its organization's connection,
// which must still be on and speak protocol.
func (s *Service) answer(ctx context.Context, state, protocol string, c gardien.Client) (*ssoAnswer, error) {
	if !tokenShaped(state) { // no write for what cannot be one
		return nil, errNoSuchLogin
	}
	l, err := s.Store.ConsumeSSOLogin(ctx, hashToken(state), s.Now())
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, errNoSuchLogin // unknown, used, or expired: nobody to tell
	}
	if err != nil {
		return nil, fmt.Errorf("auth: sso: %w", err)
	}
	a := &ssoAnswer{s: s, login: l, orgID: l.OrgID, returnTo: l.ReturnTo, c: c}
	if err := a.connection(ctx, protocol); err != nil {
		return nil, err
	}
	return a, nil
}

// connection reads the organization's connection, which must still be on
// and speak protocol.
func (a *ssoAnswer) connection(ctx context.Context, protocol string) error {
	conn, err := a.s.Store.SSOConnection(ctx, a.orgID)
	if errors.Is(err, gardien.ErrNotFound) || err == nil && (!conn.Enabled || conn.Protocol != protocol) {
		return a.refuse(ctx, gardien.EventData{"reason": "sso_off"}, nil)
	}
	if err != nil {
		return fmt.Errorf("auth: sso: %w", err)
	}
	a.conn = conn
	return nil
}

// refuse records why an answer was refused (its "reason"), in the
// organization's audit log, and returns the error to show.
func (a *ssoAnswer) refuse(ctx context.Context, why gardien.EventData, err error) error {
	a.s.Log.InfoContext(ctx, "sso login refused", "org_id", a.orgID, "why", why["reason"], "cause", why["cause"], "err", err)
	if err := a.s.Store.AddEvent(ctx, a.s.orgEvent(gardien.EventSSOLoginFailed, a.orgID, 0, 0, a.c, why)); err != nil {
		return fmt.Errorf("auth: sso: %w", err)
	}
	return errSSOFailed
}

// FinishSSO takes an OpenID Provider's answer (the state and code of the
// callback, or the error it sent), in the browser that started the login
// (browser: the value it kept): the code is exchanged with the login's
// PKCE verifier and the ID token checked (logIn does the rest).
func (s *Service) FinishSSO(ctx context.Context, state, code, providerError, browser, oldToken string, c gardien.Client) (*SSOLogin, error) {
	a, err := s.answer(ctx, state, gardien.ProtocolOIDC, c)
	if err != nil {
		return nil, err
	}
	if !sameBrowser(a.login.BrowserHash, browser) {
		return nil, a.refuse(ctx, gardien.EventData{"reason": "other_browser"}, nil)
	}
	if providerError != "" {
		// Anyone who started a login can send any text here: only a code
		// of the protocol's own list reaches the audit log.
		return nil, a.refuse(ctx, gardien.EventData{"reason": "provider_error", "error": providerErrorCode(providerError)}, nil)
	}
	client, err := s.oidcClient(a.conn)
	if err != nil {
		return nil, err
	}
	verifier, err := s.Box.Open(a.login.VerifierSealed, s.verifierContext(a.orgID))
	if err != nil {
		return nil, fmt.Errorf("auth: sso verifier: %w", err)
	}
	id, err := s.Providers.Exchange(ctx, client, code, string(verifier), a.login.Nonce)
	if err != nil {
		return nil, a.refuse(ctx, gardien.EventData{"reason": "unchecked_answer", "cause": sso.Cause(err)}, err)
	}
	return a.logIn(ctx, id, oldToken)
}

// providerErrorCodes are the error codes an authorization endpoint may
// answer (RFC 6749 §4.1.2.1, OpenID Connect Core §3.1.2.6).
var providerErrorCodes = []string{"invalid_request", "unauthorized_client", "access_denied", "unsupported_response_type",
	"invalid_scope", "server_error", "temporarily_unavailable", "interaction_required", "login_required",
	"account_selection_required", "consent_required", "invalid_request_uri", "invalid_request_object",
	"request_not_supported", "request_uri_not_supported", "registration_not_supported"}

// providerErrorCode is a provider's error as one of the protocol's codes,
// or "other".
func providerErrorCode(text string) string {
	if slices.Contains(providerErrorCodes, text) {
		return text
	}
	return "other"
}

// logIn lets the person the provider vouched for in: the email must be
// one it vouches for, in a domain verified by that same organization. The
// person is created at their first arrival, as an SSO user and a member;
// a password account of the same email is never taken over without its
// owner (a link to confirm: SSOLogin.LinkToken). Every refusal is in the
// organization's audit log.
func (a *ssoAnswer) logIn(ctx context.Context, id *gardien.SSOIdentity, oldToken string) (*SSOLogin, error) {
	s, c := a.s, a.c
	email, key, ok := NormalizeEmail(id.Email)
	switch {
	case !ok:
		return nil, a.refuse(ctx, gardien.EventData{"reason": "no_email"}, nil)
	case !id.EmailVerified:
		return nil, a.refuse(ctx, gardien.EventData{"reason": "email_not_verified", "email": email}, nil)
	}
	if owner, err := s.Store.SSOForDomain(ctx, emailDomain(email)); err != nil || owner.OrgID != a.orgID {
		if err != nil && !errors.Is(err, gardien.ErrNotFound) {
			return nil, fmt.Errorf("auth: sso: %w", err)
		}
		return nil, a.refuse(ctx, gardien.EventData{"reason": "domain_not_verified", "email": email}, nil)
	}
	u, err := s.ssoPerson(ctx, a.orgID, email, key, id, c)
	if errors.Is(err, errSSOLinkRequired) {
		tok, hash := newToken()
		if err := s.Store.CreateSSOLink(ctx, hash, u.ID, a.orgID, id.Context, s.Now().Add(ssoLoginTTL)); err != nil {
			return nil, fmt.Errorf("auth: sso link: %w", err)
		}
		return &SSOLogin{LinkToken: tok, ReturnTo: a.returnTo}, nil
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, errAccountDisabled
	}
	s.endToken(ctx, oldToken)
	sess, tok, err := s.openSession(ctx, u.ID, gardien.LevelFull, c, id.Context, "")
	if err != nil {
		return nil, err
	}
	if err := s.event(ctx, gardien.EventLogin, u.ID, u.ID, c, gardien.EventData{"sso": id.Context}); err != nil {
		return nil, err
	}
	s.recordLogin(ctx, u.ID)
	s.noticeBrowser(ctx, u, a.c)
	return &SSOLogin{Login: &Login{User: u, Session: sess, Token: tok, Status: StatusOK}, ReturnTo: a.returnTo}, nil
}

// ssoPerson is the account of a person the provider vouched for: made at
// their first arrival (an SSO user and a member), found later; a password
// account of the same email is not theirs to take.
func (s *Service) ssoPerson(ctx context.Context, orgID int64, email, key string, id *gardien.SSOIdentity, c gardien.Client) (*gardien.User, error) {
	u, _, err := s.Store.UserByEmail(ctx, key)
	switch {
	case errors.Is(err, gardien.ErrNotFound):
		name, _ := cleanName(id.Name)
		if name == "" {
			name = email[:strings.LastIndexByte(email, '@')]
		}
		u = &gardien.User{Email: email, Name: name, CreatedAt: s.Now().UTC()}
		e := s.orgEvent(gardien.EventSSOUserCreated, orgID, 0, 0, c, nil)
		role, err := s.ssoRole(ctx, orgID, key)
		if err != nil {
			return nil, err
		}
		if err := s.Store.CreateSSOUser(ctx, u, key, orgID, role, e); err != nil {
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
	role, err := s.ssoRole(ctx, orgID, key)
	if err != nil {
		return nil, err
	}
	e := s.orgEvent(gardien.EventOrgMemberJoined, orgID, u.ID, u.ID, c, gardien.EventData{"role": string(role), "sso": ""})
	if err := s.Store.JoinThroughSSO(ctx, orgID, u.ID, role, s.Now(), e); err != nil {
		return nil, fmt.Errorf("auth: sso user: %w", err)
	}
	return u, nil
}

// ssoRole is the role a person joins an organization with through its
// SSO: the one their pending invitation offers, while its sender may still
// give it (as at the link's acceptance); a member's otherwise.
func (s *Service) ssoRole(ctx context.Context, orgID int64, emailKey string) (gardien.Role, error) {
	inv, err := s.Store.PendingInvitationFor(ctx, orgID, emailKey, s.Now())
	if errors.Is(err, gardien.ErrNotFound) {
		return gardien.RoleMember, nil
	}
	if err != nil {
		return "", fmt.Errorf("auth: sso role: %w", err)
	}
	if ok, err := s.senderMayOffer(ctx, inv); err != nil || !ok {
		return gardien.RoleMember, err
	}
	return inv.Role, nil
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
// organization (with the role of a pending invitation, as ssoRole says);
// its other sessions end; a mail tells them. It returns the session's new
// token.
func (s *Service) LinkSSO(ctx context.Context, sess *gardien.Session, u *gardien.User, token string, c gardien.Client) (string, error) {
	if (sess.Level != gardien.LevelFull && sess.Level != gardien.LevelSSOLink) || u.SSO {
		return "", errSSOFailed
	}
	if token == "" || len(token) > 100 {
		return "", errSSOFailed
	}
	// The organization the link joins, for the role they join with.
	orgID, err := s.Store.SSOLinkOf(ctx, hashToken(token), u.ID, s.Now())
	if errors.Is(err, gardien.ErrNotFound) {
		return "", errSSOFailed
	}
	if err != nil {
		return "", fmt.Errorf("auth: link sso: %w", err)
	}
	_, key, _ := NormalizeEmail(u.Email)
	role, err := s.ssoRole(ctx, orgID, key)
	if err != nil {
		return "", err
	}
	e := s.newEvent(gardien.EventSSOLinked, u.ID, u.ID, c, nil)
	if _, err := s.Store.LinkToSSO(ctx, hashToken(token), u.ID, sess.ID, role, s.Now(), e); err != nil {
		if errors.Is(err, gardien.ErrNotFound) {
			return "", errSSOFailed
		}
		return "", fmt.Errorf("auth: link sso: %w", err)
	}
	tok, err := s.Rotate(ctx, sess, gardien.LevelFull)
	if err != nil {
		return "", err
	}
	u.SSO, u.TwoFactorEnabled, u.EmailVerified = true, false, true
	s.send(ctx, mail.Letter{Kind: "sso_linked", To: u.Email, Name: u.Name, Lang: s.langOf(u, ""), Link: s.Links.Login()})
	return tok, nil
}
