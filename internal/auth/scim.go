package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gardien/gardien"
)

// SCIMStore keeps organizations' SCIM tokens and what their identity
// providers provisioned.
type SCIMStore interface {
	SCIMToken(ctx context.Context, orgID int64) (*gardien.SCIMToken, error)
	SetSCIMToken(ctx context.Context, t *gardien.SCIMToken, hash []byte, e *gardien.Event) error
	DeleteSCIMToken(ctx context.Context, orgID int64, e *gardien.Event) error
	SCIMTokenByHash(ctx context.Context, hash []byte) (*gardien.SCIMToken, error)
	TouchSCIMToken(ctx context.Context, orgID int64, at time.Time) error
	SCIMUsers(ctx context.Context, orgID int64, f gardien.SCIMFilter, offset, limit int) ([]gardien.SCIMUser, int, error)
	SCIMUser(ctx context.Context, orgID, userID int64) (*gardien.SCIMUser, error)
	CreateSCIMUser(ctx context.Context, su *gardien.SCIMUser, emailKey string, e *gardien.Event) error
	SaveSCIMUser(ctx context.Context, su *gardien.SCIMUser, emailKey string, e *gardien.Event) error
}

const (
	scimTokenPrefix = "scim_"
	// maxExternalID bounds an identity provider's id for a person.
	maxExternalID = 200
)

var (
	errSCIMNeedsSSO      = gardien.Errorf(gardien.CodeConflict, "err.scim_needs_sso")
	errSCIMSSOOff        = gardien.Errorf(gardien.CodeForbidden, "err.scim_needs_sso")
	errSCIMOff           = gardien.Errorf(gardien.CodeNotFound, "err.scim_off")
	errSCIMUserMissing   = gardien.Errorf(gardien.CodeNotFound, "err.scim_user_not_found")
	errSCIMUserExists    = gardien.Errorf(gardien.CodeConflict, "err.scim_user_exists")
	errSCIMPasswordOwner = gardien.Errorf(gardien.CodeConflict, "err.scim_password_account")
	errSCIMOperator      = gardien.Errorf(gardien.CodeConflict, "err.scim_operator_disabled")
)

// NewSCIMToken is an organization's SCIM token just made, with its value
// (shown this once).
type NewSCIMToken struct {
	*gardien.SCIMToken
	Token string
}

// SCIMStatus is an organization's SCIM token (on false while SCIM is
// off), for its owners.
func (s *Service) SCIMStatus(ctx context.Context, actor *gardien.User, orgID int64) (t *gardien.SCIMToken, on bool, err error) {
	if err := s.ownerOf(ctx, orgID, actor.ID); err != nil {
		return nil, false, err
	}
	t, err = s.Store.SCIMToken(ctx, orgID)
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("auth: scim: %w", err)
	}
	return t, true, nil
}

// TurnOnSCIM gives an organization's identity provider a new SCIM token:
// SCIM on, or its token replaced (the old one stops at once). Owners only,
// with SSO on for a verified domain (SCIM provisions SSO people). Audited.
func (s *Service) TurnOnSCIM(ctx context.Context, actor *gardien.User, orgID int64, c gardien.Client) (*NewSCIMToken, error) {
	if err := s.ownerOf(ctx, orgID, actor.ID); err != nil {
		return nil, err
	}
	if ok, err := s.ssoProvisionable(ctx, orgID); err != nil {
		return nil, err
	} else if !ok {
		return nil, errSCIMNeedsSSO
	}
	typ := gardien.EventSCIMEnabled
	if _, err := s.Store.SCIMToken(ctx, orgID); err == nil {
		typ = gardien.EventSCIMTokenRotated
	} else if !errors.Is(err, gardien.ErrNotFound) {
		return nil, fmt.Errorf("auth: scim: %w", err)
	}
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	value := scimTokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	t := &gardien.SCIMToken{OrgID: orgID, Prefix: value[:len(scimTokenPrefix)+6], CreatedAt: s.Now().UTC().Truncate(time.Second)}
	if err := s.Store.SetSCIMToken(ctx, t, hashToken(value), s.orgEvent(typ, orgID, 0, actor.ID, c, nil)); err != nil {
		return nil, fmt.Errorf("auth: scim token: %w", err)
	}
	return &NewSCIMToken{SCIMToken: t, Token: value}, nil
}

// TurnOffSCIM ends an organization's SCIM: its token stops; the people it
// provisioned stay as they are. Owners only; audited.
func (s *Service) TurnOffSCIM(ctx context.Context, actor *gardien.User, orgID int64, c gardien.Client) error {
	if err := s.ownerOf(ctx, orgID, actor.ID); err != nil {
		return err
	}
	err := s.Store.DeleteSCIMToken(ctx, orgID, s.orgEvent(gardien.EventSCIMDisabled, orgID, 0, actor.ID, c, nil))
	if errors.Is(err, gardien.ErrNotFound) {
		return errSCIMOff
	}
	if err != nil {
		return fmt.Errorf("auth: scim off: %w", err)
	}
	return nil
}

// ssoProvisionable says whether an organization's SSO is on for a domain
// it verified: who SCIM provisions logs in there.
func (s *Service) ssoProvisionable(ctx context.Context, orgID int64) (bool, error) {
	conn, err := s.Store.SSOConnection(ctx, orgID)
	if errors.Is(err, gardien.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("auth: scim: %w", err)
	}
	if !conn.Enabled {
		return false, nil
	}
	for _, d := range conn.Domains {
		if !d.VerifiedAt.IsZero() {
			return true, nil
		}
	}
	return false, nil
}

// AuthenticateSCIM checks an identity provider's bearer token for an
// organization's SCIM calls: 401 for any token that is not this
// organization's, 403 once its SSO is off.
func (s *Service) AuthenticateSCIM(ctx context.Context, orgID int64, value string) error {
	if !strings.HasPrefix(value, scimTokenPrefix) || len(value) > 100 {
		return errUnauthorized
	}
	t, err := s.Store.SCIMTokenByHash(ctx, hashToken(value))
	if errors.Is(err, gardien.ErrNotFound) || err == nil && t.OrgID != orgID {
		return errUnauthorized
	}
	if err != nil {
		return fmt.Errorf("auth: scim token: %w", err)
	}
	if ok, err := s.ssoProvisionable(ctx, orgID); err != nil {
		return err
	} else if !ok {
		return errSCIMSSOOff
	}
	if now := s.Now(); now.Sub(t.LastUsedAt) >= tokenTouchEvery {
		if err := s.Store.TouchSCIMToken(ctx, orgID, now); err != nil {
			s.Log.WarnContext(ctx, "scim token's last use not noted", "org", orgID, "err", err)
		}
	}
	return nil
}

// SCIMInput is a person as an identity provider describes them.
type SCIMInput struct {
	Email                              string // userName
	DisplayName, GivenName, FamilyName string
	ExternalID                         string
	Active                             bool
}

// clean checks an identity provider's person: an email in one of the
// organization's verified domains (the same rule as an SSO login).
func (s *Service) cleanSCIM(ctx context.Context, orgID int64, in SCIMInput) (*gardien.SCIMUser, string, error) {
	email, key, ok := NormalizeEmail(in.Email)
	if !ok {
		return nil, "", gardien.Invalid("userName", "err.scim_email")
	}
	owner, err := s.Store.SSOForDomain(ctx, emailDomain(email))
	if errors.Is(err, gardien.ErrNotFound) || err == nil && owner.OrgID != orgID {
		return nil, "", gardien.Invalid("userName", "err.scim_domain")
	}
	if err != nil {
		return nil, "", fmt.Errorf("auth: scim: %w", err)
	}
	given, _ := cleanName(in.GivenName)
	family, _ := cleanName(in.FamilyName)
	name, _ := cleanName(in.DisplayName)
	if name == "" {
		name, _ = cleanName(given + " " + family)
	}
	if len(in.ExternalID) > maxExternalID || strings.ContainsFunc(in.ExternalID, func(r rune) bool { return r < ' ' }) {
		return nil, "", gardien.Invalid("externalId", "err.scim_external_id")
	}
	now := s.Now().UTC().Truncate(time.Second)
	return &gardien.SCIMUser{OrgID: orgID, Email: email, Name: name, GivenName: given, FamilyName: family,
		ExternalID: in.ExternalID, Active: in.Active, CreatedAt: now, UpdatedAt: now}, key, nil
}

// SCIMUsers lists an organization's provisioned people, from offset.
func (s *Service) SCIMUsers(ctx context.Context, orgID int64, f gardien.SCIMFilter, offset, limit int) ([]gardien.SCIMUser, int, error) {
	if f.EmailKey != "" {
		_, key, ok := NormalizeEmail(f.EmailKey)
		if !ok {
			return nil, 0, nil // no such person
		}
		f.EmailKey = key
	}
	out, total, err := s.Store.SCIMUsers(ctx, orgID, f, offset, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("auth: scim users: %w", err)
	}
	return out, total, nil
}

// SCIMUser is one of an organization's provisioned people.
func (s *Service) SCIMUser(ctx context.Context, orgID, userID int64) (*gardien.SCIMUser, error) {
	su, err := s.Store.SCIMUser(ctx, orgID, userID)
	if errors.Is(err, gardien.ErrNotFound) || err == nil && su.Deleted {
		return nil, errSCIMUserMissing
	}
	if err != nil {
		return nil, fmt.Errorf("auth: scim user: %w", err)
	}
	return su, nil
}

// CreateSCIMUser provisions a person: a new SSO account, member of the
// organization. An SSO account of the organization's domain that its
// identity provider does not list (logged in before SCIM, or deleted by
// it) is taken up again; a password account is never taken over.
func (s *Service) CreateSCIMUser(ctx context.Context, orgID int64, in SCIMInput, c gardien.Client) (*gardien.SCIMUser, error) {
	su, key, err := s.cleanSCIM(ctx, orgID, in)
	if err != nil {
		return nil, err
	}
	e := s.orgEvent(gardien.EventSCIMUserCreated, orgID, 0, 0, c, gardien.EventData{"email": su.Email})
	u, _, err := s.Store.UserByEmail(ctx, key)
	switch {
	case errors.Is(err, gardien.ErrNotFound):
		err = s.Store.CreateSCIMUser(ctx, su, key, e)
		if errors.Is(err, gardien.ErrDuplicate) {
			return nil, errSCIMUserExists
		}
		if err != nil {
			return nil, fmt.Errorf("auth: scim create: %w", err)
		}
		return s.SCIMUser(ctx, orgID, su.UserID)
	case err != nil:
		return nil, fmt.Errorf("auth: scim create: %w", err)
	case !u.SSO:
		return nil, errSCIMPasswordOwner
	}
	if had, err := s.Store.SCIMUser(ctx, orgID, u.ID); err == nil && !had.Deleted {
		return nil, errSCIMUserExists
	} else if err != nil && !errors.Is(err, gardien.ErrNotFound) {
		return nil, fmt.Errorf("auth: scim create: %w", err)
	}
	su.UserID, e.UserID = u.ID, u.ID
	if err := s.saveSCIM(ctx, su, key, e); err != nil {
		return nil, err
	}
	return s.SCIMUser(ctx, orgID, u.ID)
}

// UpdateSCIMUser writes a provisioned person's new state (a replace, or
// a patch applied): their email (in the organization's domains), name,
// external id, and active — false deprovisions them at once (sessions
// end, apps are told, logins refused), true again restores them, unless
// Gardien's operator disabled the account.
func (s *Service) UpdateSCIMUser(ctx context.Context, orgID, userID int64, in SCIMInput, c gardien.Client) (*gardien.SCIMUser, error) {
	had, err := s.SCIMUser(ctx, orgID, userID)
	if err != nil {
		return nil, err
	}
	su, key, err := s.cleanSCIM(ctx, orgID, in)
	if err != nil {
		return nil, err
	}
	if in.Active && !had.Active && had.DisabledBy != gardien.DisabledBySCIM {
		return nil, errSCIMOperator
	}
	su.UserID, su.CreatedAt = userID, had.CreatedAt
	typ := gardien.EventSCIMUserUpdated
	switch {
	case had.Active && !su.Active:
		typ = gardien.EventSCIMUserDeprovisioned
	case !had.Active && su.Active:
		typ = gardien.EventSCIMUserReactivated
	}
	data := gardien.EventData{"email": su.Email}
	if su.Email != had.Email {
		data["old"] = had.Email
	}
	if err := s.saveSCIM(ctx, su, key, s.orgEvent(typ, orgID, userID, 0, c, data)); err != nil {
		return nil, err
	}
	return s.SCIMUser(ctx, orgID, userID)
}

// DeleteSCIMUser is an identity provider's delete: the person is
// deprovisioned (as active false) and no longer listed; their account and
// membership stay, for a later create of the same email to restore.
func (s *Service) DeleteSCIMUser(ctx context.Context, orgID, userID int64, c gardien.Client) error {
	had, err := s.SCIMUser(ctx, orgID, userID)
	if err != nil {
		return err
	}
	_, key, _ := NormalizeEmail(had.Email)
	had.Active, had.Deleted, had.UpdatedAt = false, true, s.Now().UTC().Truncate(time.Second)
	return s.saveSCIM(ctx, had, key, s.orgEvent(gardien.EventSCIMUserDeleted, orgID, userID, 0, c, gardien.EventData{"email": had.Email}))
}

func (s *Service) saveSCIM(ctx context.Context, su *gardien.SCIMUser, key string, e *gardien.Event) error {
	err := s.Store.SaveSCIMUser(ctx, su, key, e)
	if errors.Is(err, gardien.ErrDuplicate) {
		return errSCIMUserExists
	}
	if errors.Is(err, gardien.ErrNotFound) {
		return errSCIMUserMissing
	}
	if err != nil {
		return fmt.Errorf("auth: scim save: %w", err)
	}
	return nil
}
