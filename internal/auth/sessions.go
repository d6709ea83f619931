package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/mail"
	"github.com/gardien/gardien/internal/password"
)

// SessionStore is the storage of sessions, logins and the browsers a
// person signed in from.
type SessionStore interface {
	CreateSession(ctx context.Context, s *gardien.Session, secretHash []byte) error
	SessionByKey(ctx context.Context, key SessionKey) (*gardien.Session, error)
	SessionUser(ctx context.Context, key SessionKey) (*gardien.Session, *gardien.User, error)
	RotateSession(ctx context.Context, id int64, secretHash []byte, level gardien.SessionLevel, expires, at time.Time) error
	TouchSession(ctx context.Context, id int64, at time.Time) error
	// SetSessionAMR says how a session's person proved who they are (RFC
	// 8176 values), and so whether it passed a second factor.
	SetSessionAMR(ctx context.Context, id int64, amr string) error
	DeleteSession(ctx context.Context, id int64) error
	UserSessions(ctx context.Context, userID int64) ([]gardien.Session, error)
	EndUserSession(ctx context.Context, userID, sessionID int64, e *gardien.Event) error
	EndOtherSessions(ctx context.Context, userID, keep int64, e *gardien.Event) (int64, error)
	EndAllSessions(ctx context.Context, userID int64, e *gardien.Event) (int64, error)
	RecordLogin(ctx context.Context, userID int64, at time.Time) error
	SeeBrowser(ctx context.Context, userID int64, hash []byte, at time.Time) (bool, error)
	SignInAlerts(ctx context.Context, userID int64) (bool, error)
	SetSignInAlerts(ctx context.Context, userID int64, on bool) error
}

// Status is what a login needs next: the "status" of the API's answers.
// (A login has steps — the password, then the second factor — and a TOTP
// code has a time step; this is neither: it says where a session stands.)
type Status string

const (
	StatusOK                Status = "ok"
	StatusTwoFactorRequired Status = "two_factor_required"
	StatusSetupRequired     Status = "two_factor_setup_required"
	// StatusSSOLinkRequired: the session may only confirm the pending link
	// of its account to its organization's SSO.
	StatusSSOLinkRequired Status = "sso_link_required"
)

// StatusOf says where a session at this level stands.
func StatusOf(l gardien.SessionLevel) Status {
	switch l {
	case gardien.LevelSecondFactor, gardien.LevelLinkSecondFactor:
		return StatusTwoFactorRequired
	case gardien.LevelSetup:
		return StatusSetupRequired
	case gardien.LevelSSOLink:
		return StatusSSOLinkRequired
	}
	return StatusOK
}

// Login is a session just opened, with its token for the cookie.
type Login struct {
	User    *gardien.User
	Session *gardien.Session
	Token   string
	Status  Status
}

// LogIn checks an email and password and opens a session at the level the
// person has reached. Any session the browser held before (oldToken) ends:
// a new token at every login, so a planted session id is worth nothing.
// Unknown emails cost a hash like known ones, and answer the same; every
// try is counted before its hash (PasswordLimits).
func (s *Service) LogIn(ctx context.Context, rawEmail, pw, oldToken string, c gardien.Client) (*Login, error) {
	return s.LogInToLink(ctx, rawEmail, pw, "", oldToken, c)
}

// LogInToLink is LogIn in a browser that holds a pending link of the
// account to its organization's SSO (linkToken, "" when none): where the
// organization requires SSO, the password (and second factor) open a
// session that may only confirm that link.
func (s *Service) LogInToLink(ctx context.Context, rawEmail, pw, linkToken, oldToken string, c gardien.Client) (*Login, error) {
	l, err := s.logIn(ctx, rawEmail, pw, linkToken, oldToken, c)
	s.Observer.Login(loginOutcome(l, err))
	return l, err
}

func (s *Service) logIn(ctx context.Context, rawEmail, pw, linkToken, oldToken string, c gardien.Client) (*Login, error) {
	s.endToken(ctx, oldToken)
	_, key, ok := NormalizeEmail(rawEmail)
	var u *gardien.User
	var hash string
	if ok {
		var err error
		u, hash, err = s.Store.UserByEmail(ctx, key)
		if err != nil && !errors.Is(err, gardien.ErrNotFound) {
			return nil, fmt.Errorf("auth: login: %w", err)
		}
	}
	sso, hasSSO, err := s.domainSSO(ctx, key)
	if err != nil {
		return nil, err
	}
	linkOnly := false
	if hasSSO && sso.RequireSSO {
		// The organization requires SSO for its domain: no password is
		// checked (no oracle for it), whoever the address is — owners
		// aside, who keep their password and second factor as the way back
		// in when the provider is down, and the owner of a password account
		// the provider just vouched for in this browser, who proves it is
		// theirs to link it.
		owner := false
		if u != nil {
			m, err := s.Store.Membership(ctx, sso.OrgID, u.ID)
			if err != nil && !errors.Is(err, gardien.ErrNotFound) {
				return nil, fmt.Errorf("auth: login: %w", err)
			}
			owner = err == nil && m.Role == gardien.RoleOwner
		}
		if !owner {
			if linkOnly, err = s.pendingLink(ctx, u, linkToken, sso.OrgID); err != nil {
				return nil, err
			}
			if !linkOnly {
				return nil, errSSORequired
			}
		}
	}
	if err := s.verifyPassword(ctx, key, hash, pw, c); err != nil {
		if !errors.Is(err, password.ErrMismatch) {
			return nil, err
		}
		if u != nil {
			if err := s.event(ctx, gardien.EventLoginFailed, u.ID, 0, c, gardien.EventData{"reason": "wrong_password"}); err != nil {
				return nil, err
			}
		}
		if hasSSO {
			// People of this domain may log in with SSO: say so (a fact
			// about the domain, which /sso/start tells anyone, not about
			// the account).
			return nil, errInvalidCredentialsSSO
		}
		return nil, errInvalidCredentials
	}
	if u.Disabled {
		return nil, errAccountDisabled
	}
	level, err := s.levelAfterPassword(ctx, u)
	if err != nil {
		return nil, err
	}
	if linkOnly {
		level = gardien.LevelSSOLink
		if u.TwoFactorEnabled {
			level = gardien.LevelLinkSecondFactor
		}
	}
	sess, tok, err := s.openSession(ctx, u.ID, level, c, "", "")
	if err != nil {
		return nil, err
	}
	if err := s.event(ctx, gardien.EventLogin, u.ID, u.ID, c, gardien.EventData{"level": string(level)}); err != nil {
		return nil, err
	}
	if level == gardien.LevelFull {
		s.recordLogin(ctx, u.ID)
	}
	if level == gardien.LevelFull || level == gardien.LevelSetup {
		// In, or setting up a second factor the organization requires:
		// either way the account is open in this browser.
		s.noticeBrowser(ctx, u, c)
	}
	return &Login{User: u, Session: sess, Token: tok, Status: StatusOf(level)}, nil
}

// pendingLink says whether linkToken is a live link of u's account to
// organization orgID's SSO.
func (s *Service) pendingLink(ctx context.Context, u *gardien.User, linkToken string, orgID int64) (bool, error) {
	if u == nil || linkToken == "" || len(linkToken) > 100 {
		return false, nil
	}
	linkOrg, err := s.Store.SSOLinkOf(ctx, hashToken(linkToken), u.ID, s.Now())
	if errors.Is(err, gardien.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("auth: login: %w", err)
	}
	return linkOrg == orgID, nil
}

// levelAfterPassword is the one place that decides what a person must do
// after a right password: their second factor when they have one; setting
// one up when an organization of theirs requires it (SSO people aside:
// their provider owns that); else nothing.
func (s *Service) levelAfterPassword(ctx context.Context, u *gardien.User) (gardien.SessionLevel, error) {
	if u.TwoFactorEnabled {
		return gardien.LevelSecondFactor, nil
	}
	need, err := s.needsSetup(ctx, u)
	if err != nil {
		return "", err
	}
	if need {
		return gardien.LevelSetup, nil
	}
	return gardien.LevelFull, nil
}

// needsSetup is the one rule for "must set 2FA up before anything else":
// an organization of theirs requires it, they have none — or only an app,
// where it asks for a phishing-resistant method (a key) — and they are not
// an SSO user (their provider owns that).
func (s *Service) needsSetup(ctx context.Context, u *gardien.User) (bool, error) {
	if u.HasKeys || u.SSO {
		return false, nil
	}
	need, err := s.Store.NeedsTwoFactorSetup(ctx, u.ID, s.Now())
	if err != nil {
		return false, fmt.Errorf("auth: needs 2fa setup: %w", err)
	}
	return need, nil
}

// RequiringOrganization names an organization of the person that requires
// 2FA ("" when none does): the set-up page and a refused disable say which.
func (s *Service) RequiringOrganization(ctx context.Context, userID int64) (string, error) {
	name, _, err := s.requirementOf(ctx, userID)
	return name, err
}

// requirementOf names an organization of the person that requires 2FA
// ("" when none does), and says whether one asks for a key.
func (s *Service) requirementOf(ctx context.Context, userID int64) (string, bool, error) {
	name, keys, err := s.Store.RequiringOrganization(ctx, userID)
	if errors.Is(err, gardien.ErrNotFound) {
		return "", false, nil
	}
	return name, keys, err
}

// secondStepTTL bounds how long a session may wait at its second step.
const secondStepTTL = 10 * time.Minute

// lifetime is how long a session at level lives from now.
func (s *Service) lifetime(level gardien.SessionLevel) time.Duration {
	switch level {
	case gardien.LevelSecondFactor, gardien.LevelLinkSecondFactor, gardien.LevelSSOLink:
		return secondStepTTL
	}
	return s.SessionMax
}

// afterSecondStep is the level a session reaches by its second step.
func afterSecondStep(from gardien.SessionLevel) gardien.SessionLevel {
	if from == gardien.LevelLinkSecondFactor {
		return gardien.LevelSSOLink
	}
	return gardien.LevelFull
}

// openSession opens a session at level; ssoContext is, for a login through
// an identity provider, what it checked ("" otherwise); amr how the person
// proved who they are, when Gardien knows it at once ("" otherwise).
func (s *Service) openSession(ctx context.Context, userID int64, level gardien.SessionLevel, c gardien.Client, ssoContext, amr string) (*gardien.Session, string, error) {
	now := s.Now().UTC()
	secret, hash := newToken()
	sess := &gardien.Session{UserID: userID, Level: level, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(s.lifetime(level)), IP: c.IP, UserAgent: gardien.Clip(c.UserAgent, maxUserAgent),
		SSOContext: gardien.Clip(ssoContext, 200), AMR: amr, MFA: gardien.AMRHasMFA(amr)}
	if err := s.Store.CreateSession(ctx, sess, hash); err != nil {
		return nil, "", fmt.Errorf("auth: open session: %w", err)
	}
	return sess, sessionToken(sess.ID, secret), nil
}

// Rotate gives a session a new token at a new level (after each step of a
// login, and at any change of privilege) and returns the token.
func (s *Service) Rotate(ctx context.Context, sess *gardien.Session, level gardien.SessionLevel) (string, error) {
	secret, hash := newToken()
	now := s.Now().UTC()
	expires := s.expiryAfter(sess, level, now)
	if err := s.Store.RotateSession(ctx, sess.ID, hash, level, expires, now); err != nil {
		return "", fmt.Errorf("auth: rotate session: %w", err)
	}
	sess.Level, sess.ExpiresAt = level, expires
	return sessionToken(sess.ID, secret), nil
}

// expiryAfter is a session's end once it moves to level: a login that just
// completed starts the session's life now; otherwise it keeps its end.
func (s *Service) expiryAfter(sess *gardien.Session, level gardien.SessionLevel, now time.Time) time.Time {
	switch sess.Level {
	case gardien.LevelSecondFactor, gardien.LevelSetup, gardien.LevelLinkSecondFactor, gardien.LevelSSOLink:
		return now.Add(s.lifetime(level))
	}
	return sess.ExpiresAt
}

// touchEvery bounds the writes that keep a session alive: one a minute at most.
const touchEvery = 60

// Authenticate returns the live session of a cookie token and its person.
// An unknown, expired or idle session answers CodeUnauthorized.
func (s *Service) Authenticate(ctx context.Context, token string) (*gardien.Session, *gardien.User, error) {
	key, ok := sessionKey(token)
	if !ok {
		return nil, nil, errUnauthorized
	}
	sess, u, err := s.Store.SessionUser(ctx, key)
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, nil, errUnauthorized
	}
	if err != nil {
		return nil, nil, fmt.Errorf("auth: session: %w", err)
	}
	now := s.Now()
	if !s.live(sess, u, now) {
		s.endDead(ctx, sess)
		return nil, nil, errUnauthorized
	}
	if now.Unix()-sess.LastSeenAt.Unix() >= touchEvery {
		if err := s.Store.TouchSession(ctx, sess.ID, now); err != nil {
			s.Log.ErrorContext(ctx, "session not touched", "err", err)
		}
	}
	return sess, u, nil
}

// live says whether a session found by its cookie still serves: not past
// its end, not idle too long, its person not disabled.
func (s *Service) live(sess *gardien.Session, u *gardien.User, now time.Time) bool {
	return !u.Disabled && now.Before(sess.ExpiresAt) && now.Sub(sess.LastSeenAt) <= s.SessionIdle
}

// endDead deletes a session that no longer serves (live).
func (s *Service) endDead(ctx context.Context, sess *gardien.Session) {
	if err := s.Store.DeleteSession(ctx, sess.ID); err != nil {
		s.Log.ErrorContext(ctx, "expired session not deleted", "err", err)
	}
}

// LogOut ends a session.
func (s *Service) LogOut(ctx context.Context, sess *gardien.Session, c gardien.Client) error {
	if err := s.Store.DeleteSession(ctx, sess.ID); err != nil {
		return fmt.Errorf("auth: logout: %w", err)
	}
	return s.event(ctx, gardien.EventLogout, sess.UserID, sess.UserID, c, nil)
}

// endToken ends the session of a token, if it is one.
func (s *Service) endToken(ctx context.Context, token string) {
	key, ok := sessionKey(token)
	if !ok {
		return
	}
	if sess, err := s.Store.SessionByKey(ctx, key); err == nil {
		s.endDead(ctx, sess)
	}
}

// SweepSessions deletes ended sessions and long-expired mailed links; the
// server calls it now and then.
func (s *Service) SweepSessions(ctx context.Context) (int64, error) {
	now := s.Now()
	n, err := s.Store.DeleteExpiredSessions(ctx, now, now.Add(-s.SessionIdle))
	if err != nil {
		return n, err
	}
	if err := s.Store.DeleteOldTries(ctx, now.Add(-max(s.PasswordLimits.Window, maxTryWindow))); err != nil {
		return n, err
	}
	if err := s.Store.DeleteStaleSSOLogins(ctx, now); err != nil {
		return n, err
	}
	// Lapsed sign-ins to apps are kept a day (a reuse of their tokens
	// still finds them), then go.
	g, err := s.Store.DeleteStaleGrants(ctx, now, now.Add(-24*time.Hour))
	if err != nil {
		return n, err
	}
	n += g
	w, err := s.Store.DeleteOldWebhookDeliveries(ctx, now.Add(-webhookLogKept))
	if err != nil {
		return n, err
	}
	n += w
	// Expired links are kept a week (an invitation's page can still say
	// "expired" rather than "unknown"), then go.
	m, err := s.Store.DeleteStaleTokens(ctx, now.Add(-7*24*time.Hour))
	return n + m, err
}

// recordLogin notes a completed login, for the members list.
func (s *Service) recordLogin(ctx context.Context, userID int64) {
	if err := s.Store.RecordLogin(ctx, userID, s.Now()); err != nil {
		s.Log.ErrorContext(ctx, "last login not recorded", "user_id", userID, "err", err)
	}
}

// noticeBrowser records the browser a login completed in and, when it is
// new to an account that has used others, mails the person (GitHub's "new
// sign-in"): the browser, its address, the time, and their sessions. A
// failure is logged, not the login's: the person is in either way.
func (s *Service) noticeBrowser(ctx context.Context, u *gardien.User, c gardien.Client) {
	if c.Browser == "" {
		return
	}
	h := sha256.Sum256([]byte(c.Browser))
	now := s.Now()
	tell, err := s.Store.SeeBrowser(ctx, u.ID, h[:], now)
	if err != nil {
		s.Log.ErrorContext(ctx, "browser of a login not recorded", "user_id", u.ID, "err", err)
		return
	}
	if tell {
		s.send(ctx, mail.Letter{Kind: "new_sign_in", To: u.Email, Name: u.Name, Lang: s.langOf(u, ""), Link: s.Links.Sessions(),
			Args: []any{mail.Browser(c.UserAgent), c.IP, now}})
	}
}

// SignInAlerts says whether a person is mailed when their account signs
// in from a new browser.
func (s *Service) SignInAlerts(ctx context.Context, userID int64) (bool, error) {
	on, err := s.Store.SignInAlerts(ctx, userID)
	if err != nil {
		return false, fmt.Errorf("auth: sign-in alerts: %w", err)
	}
	return on, nil
}

// SetSignInAlerts turns a person's sign-in alerts on or off, in the audit
// trail: turning them off is what someone who took an account would do
// first.
func (s *Service) SetSignInAlerts(ctx context.Context, userID int64, on bool, c gardien.Client) error {
	if err := s.Store.SetSignInAlerts(ctx, userID, on); err != nil {
		return fmt.Errorf("auth: sign-in alerts: %w", err)
	}
	typ := gardien.EventSignInAlertsOff
	if on {
		typ = gardien.EventSignInAlertsOn
	}
	return s.event(ctx, typ, userID, userID, c, nil)
}

// UserEvents returns a person's recent security events.
func (s *Service) UserEvents(ctx context.Context, userID int64, limit int) ([]gardien.Event, error) {
	return s.Store.UserEvents(ctx, userID, limit)
}

// Area is a part of Gardien that a session may or may not reach.
type Area int

const (
	// AreaAny is reachable at every level: who am I, log out.
	AreaAny Area = iota
	// AreaSecondStep is the code page of a login.
	AreaSecondStep
	// AreaSetup is the two-factor set-up.
	AreaSetup
	// AreaFull is everything else.
	AreaFull
	// AreaSSOLink is the confirmation of a pending link to SSO: a full
	// session reaches it, and a session that may do nothing else.
	AreaSSOLink
)

// Allows decides whether a session at level may reach area: a session that
// owes its second step reaches only that step, one that must set 2FA up only
// the set-up, and a full session everything but the second step of a login.
func Allows(level gardien.SessionLevel, area Area) error {
	switch {
	case area == AreaAny:
		return nil
	case (level == gardien.LevelSecondFactor || level == gardien.LevelLinkSecondFactor) && area != AreaSecondStep:
		return errTwoFactorRequired
	case level == gardien.LevelSetup && area != AreaSetup:
		return errSetupRequired
	case level == gardien.LevelSSOLink && area != AreaSSOLink:
		return errSSOLinkOnly
	case level == gardien.LevelFull && area == AreaSecondStep:
		return errNoSecondStep
	case level != gardien.LevelFull && level != gardien.LevelSSOLink && area == AreaSSOLink:
		return errForbidden
	}
	return nil
}
