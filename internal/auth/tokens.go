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

// Scopes are every scope, in the order pages list them (a new slice each
// time: nobody changes the one rules read).
func Scopes() []string { return slices.Clone(allScopes) }

var allScopes = []string{ScopeProfileRead, ScopeMembersRead, ScopeMembersWrite, ScopeAuditRead, ScopeSecurityRead, ScopeSecurityWrite}

// TokenStore keeps people's API tokens.
type TokenStore interface {
	AddToken(ctx context.Context, t *gardien.APIToken, hash []byte, e *gardien.Event) error
	// Tokens lists a person's own tokens; OrgTokens an organization's.
	Tokens(ctx context.Context, userID int64) ([]gardien.APIToken, error)
	OrgTokens(ctx context.Context, orgID int64) ([]gardien.APIToken, error)
	// DeleteToken revokes a person's token (orgID 0) or an
	// organization's; gardien.ErrNotFound when there is none such.
	DeleteToken(ctx context.Context, userID, orgID, id int64, e *gardien.Event) error
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
	errTokenOwner   = gardien.Errorf(gardien.CodeUnauthorized, "err.token_owner_gone")
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
	have, err := s.Store.Tokens(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("auth: create token: %w", err)
	}
	return s.makeToken(ctx, u, 0, have, rawName, scopes, expires, c)
}

// OrgScopes are the scopes an organization's token may carry: the
// organization's calls (it has no profile).
func OrgScopes() []string { return slices.Clone(orgTokenScopes) }

var orgTokenScopes = []string{ScopeMembersRead, ScopeMembersWrite, ScopeAuditRead, ScopeSecurityRead, ScopeSecurityWrite}

// CreateOrgToken makes a token of an organization, by one of its owners:
// it acts for that organization only, within its scopes, and stops
// working when its maker no longer owns it; audited in the organization's
// log.
func (s *Service) CreateOrgToken(ctx context.Context, actor *gardien.User, orgID int64, rawName string, scopes []string, expires time.Time, c gardien.Client) (*NewToken, error) {
	if err := s.ownerOf(ctx, orgID, actor.ID); err != nil {
		return nil, err
	}
	for _, sc := range scopes {
		if !slices.Contains(orgTokenScopes, sc) {
			return nil, gardien.Invalid("scopes", "err.token_scopes")
		}
	}
	have, err := s.Store.OrgTokens(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("auth: create token: %w", err)
	}
	return s.makeToken(ctx, actor, orgID, have, rawName, scopes, expires, c)
}

// OrgTokens lists an organization's tokens, for its owners.
func (s *Service) OrgTokens(ctx context.Context, actor *gardien.User, orgID int64) ([]gardien.APIToken, error) {
	if err := s.ownerOf(ctx, orgID, actor.ID); err != nil {
		return nil, err
	}
	out, err := s.Store.OrgTokens(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("auth: organization tokens: %w", err)
	}
	return out, nil
}

// RevokeOrgToken ends one of an organization's tokens at once, by one of
// its owners; audited.
func (s *Service) RevokeOrgToken(ctx context.Context, actor *gardien.User, orgID, id int64, c gardien.Client) error {
	if err := s.ownerOf(ctx, orgID, actor.ID); err != nil {
		return err
	}
	e := s.orgEvent(gardien.EventTokenRevoked, orgID, 0, actor.ID, c, gardien.EventData{"text": strconv.FormatInt(id, 10)})
	err := s.Store.DeleteToken(ctx, actor.ID, orgID, id, e)
	if errors.Is(err, gardien.ErrNotFound) {
		return errTokenMissing
	}
	if err != nil {
		return fmt.Errorf("auth: revoke token: %w", err)
	}
	return nil
}

// ownerOf refuses who does not own the organization (its owners alone
// manage its tokens).
func (s *Service) ownerOf(ctx context.Context, orgID, userID int64) error {
	m, err := s.member(ctx, orgID, userID)
	if err != nil {
		return err
	}
	if m.Role != gardien.RoleOwner {
		return errForbidden
	}
	return nil
}

// makeToken makes a token of u (orgID 0) or of an organization, have being
// the tokens it has already.
func (s *Service) makeToken(ctx context.Context, u *gardien.User, orgID int64, have []gardien.APIToken, rawName string, scopes []string, expires time.Time, c gardien.Client) (*NewToken, error) {
	name, err := cleanLabel(rawName, "name", "err.token_name")
	if err != nil {
		return nil, err
	}
	var clean []string
	for _, sc := range scopes {
		if !slices.Contains(allScopes, sc) {
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
	if len(have) >= MaxTokens {
		return nil, errTooManyToken
	}
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	value := tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	t := &gardien.APIToken{UserID: u.ID, OrgID: orgID, Name: name, Scopes: clean, Prefix: value[:len(tokenPrefix)+6], CreatedAt: now, ExpiresAt: expires}
	data := gardien.EventData{"name": name, "text": strings.Join(clean, " ")}
	e := s.newEvent(gardien.EventTokenCreated, u.ID, u.ID, c, data)
	if orgID != 0 {
		e = s.orgEvent(gardien.EventTokenCreated, orgID, 0, u.ID, c, data)
	}
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
	err := s.Store.DeleteToken(ctx, u.ID, 0, id, s.newEvent(gardien.EventTokenRevoked, u.ID, u.ID, c, gardien.EventData{"text": strconv.FormatInt(id, 10)}))
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
// unknown, expired, their account is disabled, or an organization's rule
// holds them (its 2FA requirement's set-up, SSO required). The session returned
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
	// The organizations' rules hold first, as at a login: a person an
	// organization's requirement holds at the set-up, or whose
	// organization requires SSO, gets nothing through a token either.
	if need, err := s.needsSetup(ctx, u); err != nil {
		return nil, nil, nil, err
	} else if need {
		return nil, nil, nil, errSetupRequired
	}
	if !u.SSO { // an SSO person's way in is their provider: it is the rule
		if required, err := s.ssoRequiredOf(ctx, u); err != nil {
			return nil, nil, nil, err
		} else if required {
			return nil, nil, nil, errSSORequired
		}
	}
	if t.OrgID != 0 {
		// An organization's token holds while its maker owns it.
		if err := s.ownerOf(ctx, t.OrgID, u.ID); err != nil {
			if _, domain := gardien.AsError(err); domain {
				return nil, nil, nil, errTokenOwner
			}
			return nil, nil, nil, err
		}
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
// no token may make) about organization orgID (0: none named): an
// organization's token only about its own.
func Scoped(t *gardien.APIToken, scope string, orgID int64) error {
	switch {
	case scope == "" || t.OrgID != 0 && t.OrgID != orgID:
		return ErrTokenNotAllowed
	case !slices.Contains(t.Scopes, scope):
		return ErrTokenScope
	}
	return nil
}
