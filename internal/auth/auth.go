// Package auth holds Gardien's rules, and is the only place they live:
// sign-up, email validation, the steps of a login, sessions, passwords, and
// the audit events they leave. Transports (web pages, JSON API) parse input,
// call a Service method and render what it returns.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/mail"
	"github.com/gardien/gardien/internal/password"
	"github.com/gardien/gardien/internal/secretbox"
	"github.com/gardien/gardien/internal/webauthn"
)

// Store is what auth needs from storage, one interface per area (each
// beside the code that uses it); internal/sqlstore implements it.
type Store interface {
	AccountStore
	SessionStore
	ThrottleStore
	TwoFactorStore
	SecondFactorStore
	OrgStore
	DeadlineStore
	SSOStore
	CleanupStore
	AuditStore
	AppStore
	GrantStore
	ForwardStore
	PasskeyStore
	TokenStore
	WebhookStore
	SCIMStore
}

// AuditStore is the audit trail.
type AuditStore interface {
	AddEvent(ctx context.Context, e *gardien.Event) error
	UserEvents(ctx context.Context, userID int64, limit int) ([]gardien.Event, error)
	OrgEvents(ctx context.Context, orgID int64, f gardien.EventFilter) ([]gardien.Event, error)
}

// Mailer sends a message (mail.Outbox in production).
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
}

// Config are the Service's dependencies and settings.
type Config struct {
	Store    Store
	Hasher   *password.Hasher
	Mailer   Mailer
	Composer *mail.Composer
	// Box seals TOTP secrets at rest.
	Box *secretbox.Box
	// RecoveryKey keys the HMAC under which recovery codes are stored.
	RecoveryKey []byte
	// Issuer names Gardien in authenticator apps.
	Issuer string
	Log    *slog.Logger
	// Links makes the links mails carry: auth says which page, the pages
	// know where it is (web.Links).
	Links Links
	Now   func() time.Time // nil = time.Now
	// SessionMax is a session's absolute lifetime, SessionIdle how long it
	// may go unused.
	SessionMax, SessionIdle time.Duration
	// DefaultLang is the language of mails to people with no saved choice.
	DefaultLang string
	// PasswordLimits bound password guessing (zero: DefaultPasswordLimits).
	PasswordLimits PasswordLimits
	// Providers reaches identity providers and DNS (internal/sso).
	Providers SSOProtocols
	// Observer counts outcomes for metrics (nil: nothing is counted).
	Observer Observer
	// Passkeys runs the WebAuthn ceremonies (internal/webauthn).
	Passkeys *webauthn.Ceremonies
	// WebhooksAllowPrivate lets webhooks post to this machine or a private
	// network (plain http to loopback too).
	WebhooksAllowPrivate bool
}

// Observer counts what the rules decide, for metrics (internal/metrics):
// the outcome of each password step and code check, and each lockout.
type Observer interface {
	Login(outcome string)
	SecondStep(outcome string)
	Lockout()
}

type noObserver struct{}

func (noObserver) Login(string)      {}
func (noObserver) SecondStep(string) {}
func (noObserver) Lockout()          {}

// loginOutcome names a password step's outcome for metrics.
func loginOutcome(l *Login, err error) string {
	if err == nil {
		switch l.Status {
		case StatusTwoFactorRequired:
			return "second_step"
		case StatusSetupRequired:
			return "setup"
		}
		return "ok"
	}
	switch gardien.ErrorCode(err) {
	case gardien.CodeRateLimited:
		return "throttled"
	case gardien.CodeInvalidCredentials:
		return "wrong_password"
	case gardien.CodeInternal, gardien.CodeUnavailable:
		return "error"
	}
	return "refused"
}

// codeOutcome names a code check's outcome for metrics.
func codeOutcome(err error) string {
	if err == nil {
		return "ok"
	}
	e, ok := gardien.AsError(err)
	switch {
	case !ok:
		return "error"
	case e.Code == gardien.CodeRateLimited:
		return "throttled"
	case e.Message == "err.code_used":
		return "used"
	case e.Code == gardien.CodeInvalidCode:
		return "wrong"
	}
	return "refused"
}

// Service applies the rules.
type Service struct {
	Config
	bg background
}

// New returns a Service.
func New(c Config) *Service {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.DefaultLang == "" {
		c.DefaultLang = "en"
	}
	if c.Observer == nil {
		c.Observer = noObserver{}
	}
	if c.PasswordLimits == (PasswordLimits{}) {
		c.PasswordLimits = DefaultPasswordLimits
	}
	if c.Issuer == "" {
		c.Issuer = "Gardien"
	}
	return &Service{Config: c}
}

// Lifetimes of mailed links.
const (
	verifyTTL = 24 * time.Hour
	resetTTL  = time.Hour
)

// Token kinds.
const (
	kindVerifyEmail   = "verify_email"
	kindResetPassword = "reset_password"
)

// newToken returns a random URL-safe token and the hash stored for it.
func newToken() (string, []byte) {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	tok := base64.RawURLEncoding.EncodeToString(b)
	return tok, hashToken(tok)
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// sessionToken is a session cookie's value: the session's ID, a dot, and
// its secret (newToken's).
func sessionToken(id int64, secret string) string {
	return strconv.FormatInt(id, 10) + "." + secret
}

// sessionKey reads a session cookie's value; false when it cannot be one.
// A token without a dot was made before cookies named their session: its
// whole hash finds it.
func sessionKey(tok string) (SessionKey, bool) {
	if tok == "" || len(tok) > 100 {
		return SessionKey{}, false
	}
	idPart, secret, split := strings.Cut(tok, ".")
	if !split {
		return SessionKey{Hash: hashToken(tok)}, true
	}
	// Digits only, no sign or leading zero: one spelling for one session.
	if idPart == "" || len(idPart) > 18 || idPart[0] == '0' || secret == "" || strings.Trim(idPart, "0123456789") != "" {
		return SessionKey{}, false
	}
	id, err := strconv.ParseInt(idPart, 10, 64)
	if err != nil {
		return SessionKey{}, false
	}
	return SessionKey{ID: id, Hash: hashToken(secret)}, true
}

// Links are the absolute links of mails, to the pages they lead to; the
// ones with a token carry it as ?token=….
type Links interface {
	VerifyEmail(token string) string
	ResetPassword(token string) string
	AcceptInvitation(token string) string
	ForgotPassword() string
	Login() string
	PasswordSettings() string
	TwoFactorSettings() string
	// Sessions is the page of a person's open sessions.
	Sessions() string
	// ConfirmEmail is the link of a change of email.
	ConfirmEmail(token string) string
	// OIDCCallback is where identity providers send people back.
	OIDCCallback() string
	// SAMLMetadata and SAMLACS are Gardien's entity ID (its metadata's
	// address) and assertion consumer service for an organization.
	SAMLMetadata(orgID int64) string
	SAMLACS(orgID int64) string
	// Issuer is the OpenID Provider's issuer, where apps discover it.
	Issuer() string
	// Webhook is the page of an organization's webhook endpoint.
	Webhook(orgID, id int64) string
	// SCIM is the base URL of an organization's SCIM endpoints, which its
	// identity provider is given.
	SCIM(orgID int64) string
}

func (s *Service) langOf(u *gardien.User, fallback string) string {
	if u.Locale != "" {
		return u.Locale
	}
	if fallback != "" {
		return fallback
	}
	return s.DefaultLang
}

// send composes and queues a letter; a failure is logged, never shown: the
// person can ask again, and the answer must not tell whether a mail left.
func (s *Service) send(ctx context.Context, l mail.Letter) {
	m, err := s.Composer.Compose(l)
	if err == nil {
		err = s.Mailer.Send(ctx, m)
	}
	if err != nil {
		s.Log.ErrorContext(ctx, "mail not queued", "kind", l.Kind, "err", err)
	}
}

// newEvent makes an audit event, to be written with the change it records.
func (s *Service) newEvent(typ string, userID, actorID int64, c gardien.Client, data gardien.EventData) *gardien.Event {
	for k, v := range data {
		data[k] = gardien.Clip(v, 200)
	}
	return &gardien.Event{Time: s.Now().UTC(), Type: typ, UserID: userID, ActorID: actorID, IP: c.IP, UserAgent: gardien.Clip(c.UserAgent, maxUserAgent), Data: data}
}

// maxUserAgent bounds the User-Agent kept with sessions and events.
const maxUserAgent = 512

// event records an audit event of its own. An event that cannot be written
// is an error for the request that caused it: a trail that silently loses
// lines (wrong codes, say) would hide an attacker.
func (s *Service) event(ctx context.Context, typ string, userID, actorID int64, c gardien.Client, data gardien.EventData) error {
	if err := s.Store.AddEvent(ctx, s.newEvent(typ, userID, actorID, c, data)); err != nil {
		return fmt.Errorf("auth: audit event %s: %w", typ, err)
	}
	return nil
}
