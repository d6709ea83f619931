package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gardien/gardien"
)

// GrantStore is the storage of the OpenID Provider: people's sign-ins to
// apps (grants), the codes and tokens they give, and the signing keys.
type GrantStore interface {
	// CreateGrant saves an app's request while the person logs in.
	CreateGrant(ctx context.Context, g *gardien.Grant) error
	// Grant returns a grant by id; gardien.ErrNotFound if none.
	Grant(ctx context.Context, id string) (*gardien.Grant, error)
	// CompleteGrant records who signed in through a grant not yet done,
	// with e; gardien.ErrNotFound when it is gone or done.
	CompleteGrant(ctx context.Context, g *gardien.Grant, e *gardien.Event) error
	// SetGrantCode gives a done grant its authorization code.
	SetGrantCode(ctx context.Context, id string, codeHash []byte, expires time.Time) error
	// CreateDoneGrant saves a grant done at once, with its code, and e.
	CreateDoneGrant(ctx context.Context, g *gardien.Grant, codeHash []byte, codeExpires time.Time, e *gardien.Event) error
	// GrantOfCode returns the grant of a live code (its CodeHash set);
	// used is true when the code was used already. gardien.ErrNotFound
	// for an unknown or expired code, or one of a revoked grant.
	GrantOfCode(ctx context.Context, codeHash []byte, now time.Time) (g *gardien.Grant, used bool, err error)
	// AddGrantTokens saves refresh tokens of a live grant and keeps the
	// grant until they (and an access token ending at accessEnd) expire;
	// gardien.ErrNotFound when it is revoked or gone. With codeHash, the
	// code is used in the same statement, once: gardien.ErrUsed when it was
	// used already (two exchanges at once).
	AddGrantTokens(ctx context.Context, grantID string, tokens []gardien.GrantToken, codeHash []byte, accessEnd, now time.Time) error
	// UseRefreshToken marks a refresh token used and returns its grant;
	// used is true when it had been used before. gardien.ErrNotFound for
	// an unknown or expired one, or one of a revoked grant.
	UseRefreshToken(ctx context.Context, hash []byte, now time.Time) (g *gardien.Grant, used bool, err error)
	// TokenGrant returns the live grant of a live refresh token.
	TokenGrant(ctx context.Context, hash []byte, kind string, now time.Time) (*gardien.Grant, error)
	// RevokeGrants revokes the live grants f selects (their tokens go),
	// records e (nil: none), and returns them.
	RevokeGrants(ctx context.Context, f GrantFilter, now time.Time, e *gardien.Event) ([]gardien.Grant, error)
	// SigningKeys returns the keys not expired, the newest first.
	SigningKeys(ctx context.Context, now time.Time) ([]gardien.SigningKey, error)
	// AddSigningKeys saves keys; when retire is not zero, the keys signing
	// until then are retired and expire at expire. Records e (nil: none).
	AddSigningKeys(ctx context.Context, keys []gardien.SigningKey, retire, expire time.Time, e *gardien.Event) error
	// QueueBackchannelLogouts queues a back-channel logout for the apps of
	// up to limit grants that ended and were not told, and marks them told;
	// it returns how many grants it marked.
	QueueBackchannelLogouts(ctx context.Context, now, expires time.Time, limit int) (int, error)
	// UserSignIns lists the apps a person has live grants of.
	UserSignIns(ctx context.Context, userID int64, now time.Time) ([]gardien.SignIn, error)
}

// GrantFilter selects grants: each field set narrows.
type GrantFilter struct {
	ID        string
	UserID    int64
	SessionID int64
	AppID     int64
	OrgID     int64
}

// Lifetimes of what the provider gives.
const (
	// SignInTime is how long a person has to log in for an app.
	SignInTime = 30 * time.Minute
	// CodeLifetime: an authorization code is exchanged at once (RFC 6749
	// §4.1.2: at most 10 minutes).
	CodeLifetime = time.Minute
	// AccessTokenLifetime bounds an access token; a refresh gets another.
	AccessTokenLifetime = 15 * time.Minute
	// IDTokenLifetime bounds an ID token, and so how long a retired key
	// stays published.
	IDTokenLifetime = time.Hour
	// RefreshTokenLifetime: an unused refresh token lapses; each use gives
	// a new one.
	RefreshTokenLifetime = 30 * 24 * time.Hour
)

// The acr values Gardien says, and apps may ask for.
const (
	ACRPassword = "pwd" // a password alone
	ACRMFA      = "mfa" // a password and a second factor
	ACRSSO      = "sso" // the organization's identity provider
)

var (
	errGrantUnknown        = gardien.Errorf(gardien.CodeInvalidToken, "err.app_sign_in_unknown")
	errAppNotMember        = gardien.Errorf(gardien.CodeForbidden, "err.app_not_member")
	errAppRole             = gardien.Errorf(gardien.CodeForbidden, "err.app_role")
	errAppSSORequired      = gardien.Errorf(gardien.CodeSSORequired, "err.app_sso_required")
	errAppPKCE             = gardien.Errorf(gardien.CodeValidationFailed, "err.app_pkce")
	errAppStartedElsewhere = gardien.Errorf(gardien.CodeForbidden, "err.app_started_elsewhere")
	errCodeInvalid         = gardien.Errorf(gardien.CodeInvalidToken, "err.token_invalid")
	errCodeReused          = gardien.Errorf(gardien.CodeInvalidToken, "err.app_code_reused")
	errRefreshReused       = gardien.Errorf(gardien.CodeInvalidToken, "err.app_refresh_reused")
	errAppAccountClosed    = gardien.Errorf(gardien.CodeForbidden, "err.account_disabled")
)

// Subject is what apps know a person by: their id, stable and never
// reused, never their email (which changes).
func Subject(userID int64) string { return strconv.FormatInt(userID, 10) }

// SessionSID names a Gardien session to apps (the sid of ID tokens and
// logout tokens): opaque, and the same each time.
func SessionSID(sessionID int64) string {
	h := sha256.Sum256([]byte("gardien sid " + strconv.FormatInt(sessionID, 10)))
	return base64.RawURLEncoding.EncodeToString(h[:16])
}

// QueueAppLogouts queues a back-channel logout for each app whose sign-in
// ended since the last call (its session ended however it did, or it was
// revoked): the deliveries' workers call it before each look for work.
func (s *Service) QueueAppLogouts(ctx context.Context) error {
	now := s.Now()
	for {
		n, err := s.Store.QueueBackchannelLogouts(ctx, now, now.Add(BackchannelTries), 100)
		if err != nil {
			return fmt.Errorf("auth: queue app logouts: %w", err)
		}
		if n < 100 {
			return nil
		}
	}
}

// endAppSignIns revokes the grants f selects and queues their apps'
// back-channel logouts now.
func (s *Service) endAppSignIns(ctx context.Context, f GrantFilter) error {
	if _, err := s.Store.RevokeGrants(ctx, f, s.Now(), nil); err != nil {
		return fmt.Errorf("auth: end app sign-ins: %w", err)
	}
	return s.QueueAppLogouts(ctx)
}

// BackchannelTries is how long Gardien keeps trying to tell an app.
const BackchannelTries = 24 * time.Hour

// SubjectID reads a Subject back; 0 if it is not one.
func SubjectID(sub string) int64 {
	id, err := strconv.ParseInt(sub, 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

func newGrantID() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// validGrantID says whether s could be a grant's id (newGrantID's shape).
func validGrantID(s string) bool {
	return len(s) == 32 && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	})
}

// StartAppSignIn records an app's checked request while the person logs
// in; every app must send a PKCE S256 challenge (OAuth 2.1).
func (s *Service) StartAppSignIn(ctx context.Context, a *gardien.App, req gardien.AppRequest) (*gardien.Grant, error) {
	g, err := s.NewAppSignIn(a, req)
	if err != nil {
		return nil, err
	}
	if err := s.Store.CreateGrant(ctx, g); err != nil {
		return nil, fmt.Errorf("auth: start app sign-in: %w", err)
	}
	return g, nil
}

// NewAppSignIn is StartAppSignIn's grant, not yet stored (SignInAtOnce
// stores it).
func (s *Service) NewAppSignIn(a *gardien.App, req gardien.AppRequest) (*gardien.Grant, error) {
	if req.CodeChallenge == "" || req.CodeChallengeMethod != "S256" {
		return nil, errAppPKCE
	}
	now := s.Now().UTC()
	return &gardien.Grant{ID: newGrantID(), AppID: a.ID, ClientID: a.ClientID, Request: req, CreatedAt: now, ExpiresAt: now.Add(SignInTime)}, nil
}

// AppSignIn returns a sign-in under way (or done) by its id, and its app.
func (s *Service) AppSignIn(ctx context.Context, id string) (*gardien.Grant, *gardien.App, error) {
	if !validGrantID(id) {
		return nil, nil, errGrantUnknown
	}
	g, err := s.Store.Grant(ctx, id)
	if errors.Is(err, gardien.ErrNotFound) || err == nil && (g.Revoked || !s.Now().Before(g.ExpiresAt)) {
		return nil, nil, errGrantUnknown
	}
	if err != nil {
		return nil, nil, fmt.Errorf("auth: app sign-in: %w", err)
	}
	a, err := s.Store.App(ctx, g.AppID)
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, nil, errGrantUnknown
	}
	if err != nil {
		return nil, nil, fmt.Errorf("auth: app sign-in: %w", err)
	}
	return g, a, nil
}

// AppNext is what a person needs before an app gets its code.
type AppNext int

const (
	// AppNextApp: nothing; the grant is done and the code may go.
	AppNextApp AppNext = iota
	// AppNextLogin: a login (none yet, or one fresher than the app takes).
	AppNextLogin
	// AppNextSecondFactor: the code page (the session was moved back to
	// the second step: Token is its new cookie).
	AppNextSecondFactor
	// AppNextSetup: set 2FA up first (Token, when set, is the session's
	// new cookie).
	AppNextSetup
	// AppNextRefuse: the app is told the person must interact (prompt=none).
	AppNextRefuse
)

// AppStep is the decision on a sign-in to an app.
type AppStep struct {
	// Role is the person's in the app's organization (once known).
	Role    gardien.Role
	Next    AppNext
	Grant   *gardien.Grant
	App     *gardien.App
	Token   string
	Refusal string // for AppNextRefuse: the OpenID error (login_required …)
}

// ContinueAppSignIn decides whether the person of sess (nil: nobody
// logged in) may sign in to the app of a grant now, and what they need
// first: the one decision for every app. The organization's rules hold
// first — membership, role, SSO, its 2FA requirement — then the app's:
// its need of 2FA, the acr it asks for, a fresh login. Allowed, the grant
// is done (bound to the session) and audited. A refusal is a domain error
// that says why, never a code for the app.
//
// startedHere says the browser started this sign-in (the provider marks
// the browsers it sends here): a link to another browser's sign-in, opened
// here, is refused before anything happens (a code for a stranger's
// request, a session moved back to the code page).
func (s *Service) ContinueAppSignIn(ctx context.Context, sess *gardien.Session, u *gardien.User, grantID string, startedHere bool, c gardien.Client) (*AppStep, error) {
	if !startedHere {
		return nil, errAppStartedElsewhere
	}
	return s.continueAppSignIn(ctx, sess, u, grantID, c, true)
}

// SignInAtOnce is ContinueAppSignIn for a sign-in the provider has just
// received (g, made by NewAppSignIn and not yet stored) from a browser
// with a full session. When nothing more is needed, the grant is stored
// done, with its code, in one transaction, and done is true. Otherwise the
// grant is stored pending and nothing else changes (no session moved
// back, no refusal audited): the person goes through ContinueAppSignIn's
// page, which does all that. It spares the common sign-in two round trips
// and two writes.
func (s *Service) SignInAtOnce(ctx context.Context, sess *gardien.Session, u *gardien.User, g *gardien.Grant, a *gardien.App, code string, c gardien.Client) (done bool, err error) {
	step, derr := s.decide(ctx, sess, u, g, a, c, false)
	if derr != nil || step.Next != AppNextApp {
		if err := s.Store.CreateGrant(ctx, g); err != nil {
			return false, fmt.Errorf("auth: start app sign-in: %w", err)
		}
		return false, nil
	}
	e := s.orgEvent(gardien.EventAppSignedIn, a.OrgID, u.ID, u.ID, c, gardien.EventData{"app": a.Name})
	if err := s.Store.CreateDoneGrant(ctx, g, hashToken(code), s.Now().Add(CodeLifetime), e); err != nil {
		return false, fmt.Errorf("auth: app sign-in: %w", err)
	}
	return true, nil
}

func (s *Service) continueAppSignIn(ctx context.Context, sess *gardien.Session, u *gardien.User, grantID string, c gardien.Client, act bool) (*AppStep, error) {
	g, a, err := s.AppSignIn(ctx, grantID)
	if err != nil {
		return nil, err
	}
	if g.Done() {
		if sess != nil && g.SessionID == sess.ID {
			return &AppStep{Grant: g, App: a}, nil
		}
		return nil, errGrantUnknown
	}
	step, err := s.decide(ctx, sess, u, g, a, c, act)
	if err != nil || step.Next != AppNextApp {
		return step, err
	}
	e := s.orgEvent(gardien.EventAppSignedIn, a.OrgID, u.ID, u.ID, c, gardien.EventData{"app": a.Name})
	if err := s.Store.CompleteGrant(ctx, g, e); err != nil {
		if errors.Is(err, gardien.ErrNotFound) {
			return nil, errGrantUnknown
		}
		return nil, fmt.Errorf("auth: complete app sign-in: %w", err)
	}
	return step, nil
}

// decide is the decision of ContinueAppSignIn on a grant not done; when
// the person may sign in, g is filled (who, when, how) and the step is
// AppNextApp. act lets it move the session back a step and audit refusals.
func (s *Service) decide(ctx context.Context, sess *gardien.Session, u *gardien.User, g *gardien.Grant, a *gardien.App, c gardien.Client, act bool) (*AppStep, error) {
	return s.decideKnowing(ctx, sess, u, g, a, nil, c, act)
}

// known is what a caller read already with the app: the person's
// membership of its organization (nil: not a member), and whether it
// requires SSO.
type known struct {
	m           *gardien.Membership
	ssoRequired bool
}

// decideKnowing is decide with the membership read already (k non-nil).
func (s *Service) decideKnowing(ctx context.Context, sess *gardien.Session, u *gardien.User, g *gardien.Grant, a *gardien.App, k *known, c gardien.Client, act bool) (*AppStep, error) {
	var err error
	step := &AppStep{Grant: g, App: a}
	interact := func(next AppNext, refusal string) (*AppStep, error) {
		if slices.Contains(g.Request.Prompt, "none") {
			step.Next, step.Refusal = AppNextRefuse, refusal
			return step, nil
		}
		step.Next = next
		return step, nil
	}
	if sess == nil || u == nil {
		return interact(AppNextLogin, "login_required")
	}
	switch sess.Level {
	case gardien.LevelFull:
	case gardien.LevelSecondFactor:
		return interact(AppNextSecondFactor, "interaction_required")
	case gardien.LevelSetup:
		return interact(AppNextSetup, "interaction_required")
	default:
		return interact(AppNextLogin, "login_required")
	}
	var m *gardien.Membership
	if k != nil {
		m = k.m
	} else if m, err = s.Store.Membership(ctx, a.OrgID, u.ID); err != nil && !errors.Is(err, gardien.ErrNotFound) {
		return nil, fmt.Errorf("auth: app sign-in: %w", err)
	}
	if m == nil {
		return nil, s.refuseApp(ctx, u, a, "not_member", errAppNotMember, c, act)
	}
	if !a.Audience.Admits(m.Role) {
		return nil, s.refuseApp(ctx, u, a, "role", errAppRole, c, act)
	}
	step.Role = m.Role
	viaSSO := sess.SSOContext != ""
	if !viaSSO {
		var required bool
		if k != nil {
			required = k.ssoRequired
		} else if required, err = s.Store.SSORequired(ctx, a.OrgID); err != nil {
			return nil, fmt.Errorf("auth: app sign-in: %w", err)
		}
		if required {
			return nil, s.refuseApp(ctx, u, a, "sso_required", errAppSSORequired, c, act)
		}
	}
	now := s.Now()
	// prompt=login wants a login during this sign-in, max_age one at most
	// that old (op makes prompt=login a max_age of 0): a login during the
	// sign-in satisfies both, however long the person took over it.
	loggedInSince := !sess.CreatedAt.Before(g.CreatedAt.Truncate(time.Second))
	fresh := loggedInSince || g.Request.MaxAge == nil && !slices.Contains(g.Request.Prompt, "login") ||
		g.Request.MaxAge != nil && now.Sub(sess.CreatedAt) <= time.Duration(*g.Request.MaxAge)*time.Second
	if !fresh {
		return interact(AppNextLogin, "login_required")
	}
	orgRequires := m.RequireTwoFactor && (m.TwoFactorDeadline.IsZero() || !now.Before(m.TwoFactorDeadline))
	needMFA := a.RequireTwoFactor || orgRequires || slices.Contains(g.Request.ACRValues, ACRMFA)
	if needMFA && !viaSSO && !u.SSO && (!u.TwoFactorEnabled || !sess.MFA) {
		// The session goes back to the step it lacks (set-up, or the code
		// page), where the login's own rules and limits apply; with
		// prompt=none it is left as it is, and the app told.
		next, level := AppNextSecondFactor, gardien.LevelSecondFactor
		if !u.TwoFactorEnabled {
			next, level = AppNextSetup, gardien.LevelSetup
		}
		if slices.Contains(g.Request.Prompt, "none") || !act {
			return interact(next, "interaction_required")
		}
		if step.Token, err = s.Rotate(ctx, sess, level); err != nil {
			return nil, err
		}
		step.Next = next
		return step, nil
	}
	g.UserID, g.SessionID, g.AuthTime = u.ID, sess.ID, sess.CreatedAt
	g.AMR, g.ACR = sessionAMR(sess)
	step.Next = AppNextApp
	return step, nil
}

// sessionAMR says how a session's person proved who they are (RFC 8176
// values): Gardien's password, and its second factor when passed; for a
// login through an identity provider, "sso" and what the provider said,
// marked "idp:" (Gardien did not check it).
func sessionAMR(sess *gardien.Session) ([]string, string) {
	if sess.SSOContext != "" {
		amr := []string{"sso"}
		for _, f := range strings.Fields(sess.SSOContext) {
			if v, ok := strings.CutPrefix(f, "amr="); ok {
				for _, m := range strings.Split(v, ",") {
					if m != "" {
						amr = append(amr, "idp:"+m)
					}
				}
			}
		}
		return amr, ACRSSO
	}
	if sess.AMR != "" {
		amr := strings.Fields(sess.AMR)
		if slices.Contains(amr, "mfa") {
			return amr, ACRMFA
		}
		return amr, ACRPassword
	}
	if sess.MFA { // a session from before AMR was kept
		return []string{"pwd", "otp", "mfa"}, ACRMFA
	}
	return []string{"pwd"}, ACRPassword
}

// refuseApp audits a refused sign-in (when audit is set) and returns err.
func (s *Service) refuseApp(ctx context.Context, u *gardien.User, a *gardien.App, reason string, err error, c gardien.Client, audit bool) error {
	if !audit {
		return err
	}
	e := s.orgEvent(gardien.EventAppRefusal, a.OrgID, u.ID, u.ID, c, gardien.EventData{"app": a.Name, "reason": "app_" + reason})
	if aerr := s.Store.AddEvent(ctx, e); aerr != nil {
		return fmt.Errorf("auth: app refusal: %w", aerr)
	}
	return err
}

// SetAppCode gives a done grant its authorization code (kept hashed).
func (s *Service) SetAppCode(ctx context.Context, grantID, code string) error {
	if err := s.Store.SetGrantCode(ctx, grantID, hashToken(code), s.Now().Add(CodeLifetime)); err != nil {
		return fmt.Errorf("auth: set app code: %w", err)
	}
	return nil
}

// RedeemAppCode returns the grant of an authorization code; the code is
// used when its tokens are given (IssueAppTokens), once. A code used again
// revokes every token its grant gave (RFC 6749 §4.1.2), and is audited.
func (s *Service) RedeemAppCode(ctx context.Context, code string) (*gardien.Grant, error) {
	now := s.Now()
	g, used, err := s.Store.GrantOfCode(ctx, hashToken(code), now)
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, errCodeInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("auth: redeem app code: %w", err)
	}
	if used {
		return nil, s.revokeReused(ctx, g, "code", errCodeReused)
	}
	return g, nil
}

func (s *Service) revokeReused(ctx context.Context, g *gardien.Grant, what string, err error) error {
	e := s.newEvent(gardien.EventAppTokenReuse, g.UserID, 0, gardien.Client{}, gardien.EventData{"reason": "app_" + what + "_reused"})
	if a, aerr := s.Store.App(ctx, g.AppID); aerr == nil {
		e.OrgID, e.Data["app"] = a.OrgID, a.Name
	}
	if _, rerr := s.Store.RevokeGrants(ctx, GrantFilter{ID: g.ID}, s.Now(), e); rerr != nil {
		return fmt.Errorf("auth: revoke reused grant: %w", rerr)
	}
	s.Log.WarnContext(ctx, "app token reused: grant revoked", "user_id", g.UserID, "what", what)
	return err
}

// IssueAppTokens gives a grant an access token (its id returned, to be
// sealed into the bearer token) and, when refresh is set, a refresh token.
// For a grant brought by a code (RedeemAppCode), the code is used in the
// same transaction: of two exchanges at once, one gets tokens, and the
// other's reuse ends the grant.
//
// An access token is not stored: its id names its grant and its end, and
// op seals it (AES-GCM, a key of the secret key's) into the bearer token,
// so nobody makes one; it holds while its grant does (AppTokenGrant).
func (s *Service) IssueAppTokens(ctx context.Context, g *gardien.Grant, refresh bool) (accessID, refreshToken string, expires time.Time, err error) {
	now := s.Now().UTC()
	expires = now.Add(AccessTokenLifetime)
	accessID = accessTokenID(g.ID, expires)
	var tokens []gardien.GrantToken
	if refresh {
		var h []byte
		refreshToken, h = newToken()
		tokens = append(tokens, gardien.GrantToken{Hash: h, Kind: "refresh", CreatedAt: now, ExpiresAt: now.Add(RefreshTokenLifetime)})
	}
	err = s.Store.AddGrantTokens(ctx, g.ID, tokens, g.CodeHash, expires, now)
	if errors.Is(err, gardien.ErrUsed) {
		return "", "", time.Time{}, s.revokeReused(ctx, g, "code", errCodeReused)
	}
	if errors.Is(err, gardien.ErrNotFound) {
		return "", "", time.Time{}, errCodeInvalid
	}
	if err != nil {
		return "", "", time.Time{}, fmt.Errorf("auth: issue app tokens: %w", err)
	}
	return accessID, refreshToken, expires, nil
}

// RefreshAppGrant uses a refresh token, once: a token used again ends its
// whole grant (a stolen token and its owner cannot both go on), audited.
// The person must still be let in: an account closed, or no longer of the
// app's organization or audience, ends the grant.
func (s *Service) RefreshAppGrant(ctx context.Context, token string) (*gardien.Grant, error) {
	now := s.Now()
	g, used, err := s.Store.UseRefreshToken(ctx, hashToken(token), now)
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, errCodeInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("auth: refresh: %w", err)
	}
	if used {
		return nil, s.revokeReused(ctx, g, "refresh", errRefreshReused)
	}
	if err := s.stillAdmitted(ctx, g); err != nil {
		if _, rerr := s.Store.RevokeGrants(ctx, GrantFilter{ID: g.ID}, now, nil); rerr != nil {
			return nil, fmt.Errorf("auth: refresh: %w", rerr)
		}
		return nil, err
	}
	return g, nil
}

// stillAdmitted says whether a grant's person may still use its app.
func (s *Service) stillAdmitted(ctx context.Context, g *gardien.Grant) error {
	u, err := s.Store.UserByID(ctx, g.UserID)
	if errors.Is(err, gardien.ErrNotFound) || err == nil && u.Disabled {
		return errAppAccountClosed
	}
	if err != nil {
		return fmt.Errorf("auth: person of grant: %w", err)
	}
	a, err := s.Store.App(ctx, g.AppID)
	if errors.Is(err, gardien.ErrNotFound) {
		return errGrantUnknown
	}
	if err != nil {
		return fmt.Errorf("auth: app of grant: %w", err)
	}
	m, err := s.Store.Membership(ctx, a.OrgID, u.ID)
	if errors.Is(err, gardien.ErrNotFound) {
		return errAppNotMember
	}
	if err != nil {
		return fmt.Errorf("auth: membership: %w", err)
	}
	if !a.Audience.Admits(m.Role) {
		return errAppRole
	}
	return nil
}

// AppTokenGrant returns the live grant of a live token ("access" by its
// id, "refresh" by the token); errCodeInvalid otherwise.
func (s *Service) AppTokenGrant(ctx context.Context, token, kind string) (*gardien.Grant, error) {
	if kind == "access" {
		return s.accessGrant(ctx, token)
	}
	g, err := s.Store.TokenGrant(ctx, hashToken(token), kind, s.Now())
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, errCodeInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("auth: token grant: %w", err)
	}
	return g, nil
}

// accessTokenID names an access token: its grant, its end, and random bits
// (two tokens of a grant in one second differ).
func accessTokenID(grantID string, expires time.Time) string {
	b := make([]byte, 9)
	rand.Read(b)
	return grantID + "." + strconv.FormatInt(expires.Unix(), 10) + "." + base64.RawURLEncoding.EncodeToString(b)
}

// accessGrant returns the live grant of an access token's id (unsealed by
// op: nobody but Gardien makes one) before its end.
func (s *Service) accessGrant(ctx context.Context, id string) (*gardien.Grant, error) {
	grantID, rest, _ := strings.Cut(id, ".")
	end, _, _ := strings.Cut(rest, ".")
	exp, err := strconv.ParseInt(end, 10, 64)
	if err != nil || !validGrantID(grantID) || !s.Now().Before(time.Unix(exp, 0)) {
		return nil, errCodeInvalid
	}
	g, err := s.Store.Grant(ctx, grantID)
	if errors.Is(err, gardien.ErrNotFound) || err == nil && (g.Revoked || !g.Done()) {
		return nil, errCodeInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("auth: access token grant: %w", err)
	}
	return g, nil
}

// RevokeAppToken ends, at an app's request (RFC 7009), the grant of one
// of its tokens (access or refresh): the whole sign-in, since a token
// leaked means its siblings may be too. Another app's token, or an
// unknown one, is left alone, silently (RFC 7009 §2.2).
func (s *Service) RevokeAppToken(ctx context.Context, clientID, token, kind string) error {
	g, err := s.AppTokenGrant(ctx, token, kind)
	if err != nil || g.ClientID != clientID {
		return nil //nolint:nilerr // RFC 7009 §2.2: unknown tokens are not an error
	}
	if _, err := s.Store.RevokeGrants(ctx, GrantFilter{ID: g.ID}, s.Now(), nil); err != nil {
		return fmt.Errorf("auth: revoke app token: %w", err)
	}
	return nil
}

// AppClaims is what an app is told of a person (ID token, userinfo,
// introspection).
type AppClaims struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	OrgID         int64
	OrgRole       gardien.Role
}

// Claims returns what app a is told of a person now.
func (s *Service) Claims(ctx context.Context, userID int64, a *gardien.App) (*AppClaims, error) {
	u, err := s.Store.UserByID(ctx, userID)
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, errAppAccountClosed
	}
	if err != nil {
		return nil, fmt.Errorf("auth: claims: %w", err)
	}
	c := &AppClaims{Subject: Subject(u.ID), Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name, OrgID: a.OrgID}
	m, err := s.Store.Membership(ctx, a.OrgID, u.ID)
	if err == nil {
		c.OrgRole = m.Role
	} else if !errors.Is(err, gardien.ErrNotFound) {
		return nil, fmt.Errorf("auth: claims: %w", err)
	}
	return c, nil
}

// SigningKey is a usable signing key.
type SigningKey struct {
	ID      string
	Alg     string
	Private crypto.Signer
	Retired bool
}

// keyContext binds a sealed key to its id.
func keyContext(id string) []byte { return []byte("oidc-key:" + id) }

// SigningKeys returns the provider's keys not expired, unsealed, the
// newest first; when none signs for an algorithm, one is made.
func (s *Service) SigningKeys(ctx context.Context) ([]SigningKey, error) {
	stored, err := s.Store.SigningKeys(ctx, s.Now())
	if err != nil {
		return nil, fmt.Errorf("auth: signing keys: %w", err)
	}
	var missing []string
	for _, alg := range []string{gardien.AlgRS256, gardien.AlgES256} {
		if !slices.ContainsFunc(stored, func(k gardien.SigningKey) bool { return k.Alg == alg && k.RetiredAt.IsZero() }) {
			missing = append(missing, alg)
		}
	}
	if len(missing) > 0 {
		keys, err := s.newSigningKeys(missing)
		if err != nil {
			return nil, err
		}
		if err := s.Store.AddSigningKeys(ctx, keys, time.Time{}, time.Time{}, nil); err != nil {
			return nil, fmt.Errorf("auth: add signing keys: %w", err)
		}
		stored = append(keys, stored...)
	}
	out := make([]SigningKey, 0, len(stored))
	for _, k := range stored {
		der, err := s.Box.Open(k.Sealed, keyContext(k.ID))
		if err != nil {
			return nil, fmt.Errorf("auth: unseal signing key %s: %w", k.ID, err)
		}
		priv, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("auth: signing key %s: %w", k.ID, err)
		}
		signer, ok := priv.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("auth: signing key %s is a %T", k.ID, priv)
		}
		out = append(out, SigningKey{ID: k.ID, Alg: k.Alg, Private: signer, Retired: !k.RetiredAt.IsZero()})
	}
	return out, nil
}

func (s *Service) newSigningKeys(algs []string) ([]gardien.SigningKey, error) {
	now := s.Now().UTC().Truncate(time.Second)
	var out []gardien.SigningKey
	for _, alg := range algs {
		var priv any
		var err error
		switch alg {
		case gardien.AlgRS256:
			priv, err = rsa.GenerateKey(rand.Reader, 2048)
		case gardien.AlgES256:
			priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		default:
			return nil, fmt.Errorf("auth: no key for %s", alg)
		}
		if err != nil {
			return nil, fmt.Errorf("auth: new %s key: %w", alg, err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return nil, fmt.Errorf("auth: new %s key: %w", alg, err)
		}
		id := newGrantID()[:16]
		sealed, err := s.Box.Seal(der, keyContext(id))
		if err != nil {
			return nil, fmt.Errorf("auth: seal key: %w", err)
		}
		out = append(out, gardien.SigningKey{ID: id, Alg: alg, Sealed: sealed, CreatedAt: now})
	}
	return out, nil
}

// RotateSigningKeys adds a new key for each algorithm and retires the
// ones signing now: they stay published until the longest token they
// signed (an ID token) has expired, so that apps still check it.
func (s *Service) RotateSigningKeys(ctx context.Context, operator string) ([]string, error) {
	keys, err := s.newSigningKeys([]string{gardien.AlgRS256, gardien.AlgES256})
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	e := s.newEvent(gardien.EventSigningKeyRotated, 0, 0, gardien.Client{}, gardien.EventData{"operator": operator})
	if err := s.Store.AddSigningKeys(ctx, keys, now, now.Add(IDTokenLifetime+5*time.Minute), e); err != nil {
		return nil, fmt.Errorf("auth: rotate signing keys: %w", err)
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.Alg + " " + k.ID
	}
	return ids, nil
}

// SignIns lists the apps a person is signed in to.
func (s *Service) SignIns(ctx context.Context, userID int64) ([]gardien.SignIn, error) {
	out, err := s.Store.UserSignIns(ctx, userID, s.Now())
	if err != nil {
		return nil, fmt.Errorf("auth: sign-ins: %w", err)
	}
	return out, nil
}

// SignOutOfApp ends a person's grants of one app (its refresh tokens stop
// working), and audits it.
func (s *Service) SignOutOfApp(ctx context.Context, u *gardien.User, appID int64, c gardien.Client) error {
	a, err := s.Store.App(ctx, appID)
	if errors.Is(err, gardien.ErrNotFound) {
		return errAppNotFound
	}
	if err != nil {
		return fmt.Errorf("auth: sign out of app: %w", err)
	}
	e := s.orgEvent(gardien.EventAppSignedOut, a.OrgID, u.ID, u.ID, c, gardien.EventData{"app": a.Name})
	revoked, err := s.Store.RevokeGrants(ctx, GrantFilter{UserID: u.ID, AppID: appID}, s.Now(), e)
	if err != nil {
		return fmt.Errorf("auth: sign out of app: %w", err)
	}
	if len(revoked) == 0 {
		return errAppNotFound
	}
	return nil
}
