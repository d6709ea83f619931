package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gardien/gardien"
)

// API tokens let a program call the API as the person who made them,
// within their scopes. A token never changes a second factor, a password,
// SSO or tokens: no route of those takes one (the transport asks Scoped).

// The scopes a token may carry.
const (
	ScopeProfileRead   = "profile:read"   // GET /me
	ScopeMembersRead   = "members:read"   // an organization's members and invitations
	ScopeMembersWrite  = "members:write"  // invite, revoke, change roles, remove, sign out members
	ScopeAuditRead     = "audit:read"     // an organization's audit log
	ScopeSecurityRead  = "security:read"  // an organization's requirement and counts
	ScopeSecurityWrite = "security:write" // require 2FA of the members, or not
)

// Scopes are every scope, in the order pages list them.
var Scopes = []string{ScopeProfileRead, ScopeMembersRead, ScopeMembersWrite, ScopeAuditRead, ScopeSecurityRead, ScopeSecurityWrite}

// TokenStore keeps people's API tokens.
type TokenStore interface {
	AddToken(ctx context.Context, t *gardien.APIToken, hash []byte, e *gardien.Event) error
	Tokens(ctx context.Context, userID int64) ([]gardien.APIToken, error)
	// DeleteToken revokes one of a person's tokens; gardien.ErrNotFound
	// when they have none such.
	DeleteToken(ctx context.Context, userID, id int64, e *gardien.Event) error
	// TokenByHash returns a token with its person; gardien.ErrNotFound
	// when none has that hash.
	TokenByHash(ctx context.Context, hash []byte) (*gardien.APIToken, *gardien.User, error)
	TouchToken(ctx context.Context, id int64, at time.Time) error
}

const (
	tokenPrefix = "gdn_"
	// MaxTokens a person may hold at once.
	MaxTokens = 50
	// MaxTokenLifetime bounds an expiry: a token is for a program's
	// year, then made again.
	MaxTokenLifetime = 366 * 24 * time.Hour
)

var (
	errTokenUnknown = gardien.Errorf(gardien.CodeUnauthorized, "err.token_unknown")
	errTokenExpired = gardien.Errorf(gardien.CodeUnauthorized, "err.token_expired")
	errTokenMissing = gardien.Errorf(gardien.CodeNotFound, "err.token_not_found")
	errTooManyToken = gardien.Errorf(gardien.CodeConflict, "err.token_too_many")
	// ErrTokenNotAllowed: a call no token may make (a second factor, a
	// password, SSO, tokens, sessions …).
	ErrTokenNotAllowed = gardien.Errorf(gardien.CodeForbidden, "err.token_not_allowed")
	// ErrTokenScope: the token lacks the scope the call needs.
	ErrTokenScope = gardien.Errorf(gardien.CodeForbidden, "err.token_scope")
)

// NewToken is a token just made: its value, shown once.
type NewToken struct {
	Token string
	*gardien.APIToken
}

// CreateToken makes an API token for u (a full session, never a token):
// a name, at least one known scope, an expiry within MaxTokenLifetime
// (zero: none); audited.
func (s *Service) CreateToken(ctx context.Context, u *gardien.User, rawName string, scopes []string, expires time.Time, c gardien.Client) (*NewToken, error) {
	name, err := cleanLabel(rawName, "name", "err.token_name")
	if err != nil {
		return nil, err
	}
	var clean []string
	for _, sc := range scopes {
		if !slices.Contains(Scopes, sc) {
			return nil, gardien.Invalid("scopes", "err.token_scopes")
		}
		if !slices.Contains(clean, sc) {
			clean = append(clean, sc)
		}
	}
	if len(clean) == 0 {
		return nil, gardien.Invalid("scopes", "err.token_scopes")
	}
	now := s.Now().UTC().Truncate(time.Second)
	if !expires.IsZero() && (!expires.After(now) || expires.After(now.Add(MaxTokenLifetime))) {
		return nil, gardien.Invalid("expires_at", "err.token_expiry")
	}
	have, err := s.Store.Tokens(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("auth: create token: %w", err)
	}
	if len(have) >= MaxTokens {
		return nil, errTooManyToken
	}
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	value := tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	t := &gardien.APIToken{UserID: u.ID, Name: name, Scopes: clean, Prefix: value[:len(tokenPrefix)+6], CreatedAt: now, ExpiresAt: expires}
	e := s.newEvent(gardien.EventTokenCreated, u.ID, u.ID, c, gardien.EventData{"name": name, "text": strings.Join(clean, " ")})
	if err := s.Store.AddToken(ctx, t, hashToken(value), e); err != nil {
		return nil, fmt.Errorf("auth: create token: %w", err)
	}
	return &NewToken{Token: value, APIToken: t}, nil
}

// TokensOf lists u's tokens, the newest first.
func (s *Service) TokensOf(ctx context.Context, u *gardien.User) ([]gardien.APIToken, error) {
	out, err := s.Store.Tokens(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("auth: tokens: %w", err)
	}
	return out, nil
}

// RevokeToken ends one of u's tokens at once; audited.
func (s *Service) RevokeToken(ctx context.Context, u *gardien.User, id int64, c gardien.Client) error {
	err := s.Store.DeleteToken(ctx, u.ID, id, s.newEvent(gardien.EventTokenRevoked, u.ID, u.ID, c, gardien.EventData{"text": strconv.FormatInt(id, 10)}))
	if errors.Is(err, gardien.ErrNotFound) {
		return errTokenMissing
	}
	if err != nil {
		return fmt.Errorf("auth: revoke token: %w", err)
	}
	return nil
}

// tokenTouchEvery: a token's last use is written at most this often.
const tokenTouchEvery = time.Minute

// AuthenticateToken finds the person of a bearer token: refused when
// unknown, expired, or their account is disabled. The session returned
// stands for the token (ID 0, level full): no session row is opened.
func (s *Service) AuthenticateToken(ctx context.Context, value string) (*gardien.Session, *gardien.User, *gardien.APIToken, error) {
	if !strings.HasPrefix(value, tokenPrefix) || len(value) > 100 {
		return nil, nil, nil, errTokenUnknown
	}
	t, u, err := s.Store.TokenByHash(ctx, hashToken(value))
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, nil, nil, errTokenUnknown
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("auth: token: %w", err)
	}
	now := s.Now()
	switch {
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		return nil, nil, nil, errTokenExpired
	case u.Disabled:
		return nil, nil, nil, errAccountDisabled
	}
	if now.Sub(t.LastUsedAt) >= tokenTouchEvery {
		if err := s.Store.TouchToken(ctx, t.ID, now); err != nil {
			s.Log.WarnContext(ctx, "token use not recorded", "token_id", t.ID, "err", err)
		}
	}
	sess := &gardien.Session{UserID: u.ID, Level: gardien.LevelFull, CreatedAt: t.CreatedAt, LastSeenAt: now, ExpiresAt: t.ExpiresAt}
	return sess, u, t, nil
}

// Scoped says whether a token may make a call that needs scope ("": a call
// no token may make).
func Scoped(t *gardien.APIToken, scope string) error {
	switch {
	case scope == "":
		return ErrTokenNotAllowed
	case !slices.Contains(t.Scopes, scope):
		return ErrTokenScope
	}
	return nil
}
