package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gardien/gardien"
)

// AppStore is the storage of organizations' apps and their secrets.
type AppStore interface {
	// CreateApp saves a new app (setting its ID) with its first secret
	// (nil for a public app), and e.
	CreateApp(ctx context.Context, a *gardien.App, secret *gardien.AppSecret, e *gardien.Event) error
	// UpdateApp saves an app's settings, and e.
	UpdateApp(ctx context.Context, a *gardien.App, e *gardien.Event) error
	// DeleteApp deletes an app of an organization, its secrets, sign-ins
	// and tokens, and saves e; gardien.ErrNotFound if it has none such.
	DeleteApp(ctx context.Context, orgID, appID int64, e *gardien.Event) error
	// App returns an app by id; gardien.ErrNotFound if none.
	App(ctx context.Context, appID int64) (*gardien.App, error)
	// AppByHost returns the proxy app of a host; gardien.ErrNotFound if none.
	AppByHost(ctx context.Context, host string) (*gardien.App, error)
	// ProxyAppOf is AppByHost (the app's id, organization, name, type,
	// audience and need of 2FA only) with a person's membership of its
	// organization (nil when none) and whether it requires SSO.
	ProxyAppOf(ctx context.Context, host string, userID int64) (app *gardien.App, m *gardien.Membership, ssoRequired bool, err error)
	// AppByClientID returns an app by its client id; gardien.ErrNotFound if none.
	AppByClientID(ctx context.Context, clientID string) (*gardien.App, error)
	// OrgApps lists an organization's apps by name.
	OrgApps(ctx context.Context, orgID int64) ([]gardien.App, error)
	// RotateAppSecret adds s as the app's current secret; the current one
	// stops working at oldUntil, any older one now.
	RotateAppSecret(ctx context.Context, appID int64, s *gardien.AppSecret, oldUntil time.Time, e *gardien.Event) error
	// AppSecrets returns an app's secrets that still work at now.
	AppSecrets(ctx context.Context, appID int64, now time.Time) ([]gardien.AppSecret, error)
}

// AppInput is an app's settings as its organization's managers set them;
// a nil field is left as it is (on creation: its default).
type AppInput struct {
	Name                   *string
	Type                   *gardien.AppType
	RedirectURIs           *[]string
	PostLogoutRedirectURIs *[]string
	BackchannelLogoutURI   *string
	Audience               *gardien.AppAudience
	RequireTwoFactor       *bool
	SigningAlg             *string
	// Hosts are a proxy app's host names.
	Hosts *[]string
}

// AppView is an app as its managers see it.
type AppView struct {
	gardien.App
	// NeedsTwoFactor: the app's setting or its organization's requirement.
	NeedsTwoFactor bool
	// TwoFactorByOrg: the organization requires 2FA, so the app's setting
	// cannot be turned off.
	TwoFactorByOrg bool
	// Secret is the new secret, shown once (on creation and rotation).
	Secret string
}

// Limits on an app's settings.
const (
	maxAppURIs   = 10
	maxAppURILen = 1000
	// AppSecretGrace is how long a replaced secret keeps working, so that
	// an app's servers can take the new one without a failed sign-in.
	AppSecretGrace = 24 * time.Hour
)

var (
	errAppNotFound       = gardien.Errorf(gardien.CodeNotFound, "err.app_not_found")
	errAppTwoFactorOrg   = gardien.Errorf(gardien.CodeConflict, "err.app_two_factor_by_org")
	errAppPublicNoSecret = gardien.Errorf(gardien.CodeConflict, "err.app_public_no_secret")
	errAppHostTaken      = gardien.Errorf(gardien.CodeConflict, "err.app_host_taken")
)

// NewClientID makes an app's public identifier.
func newClientID() string {
	b := make([]byte, 15)
	rand.Read(b)
	return "app_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// validClientID says whether s could be a client id (newClientID's shape):
// anything else is known to be none without asking the database.
func validClientID(s string) bool {
	rest, ok := strings.CutPrefix(s, "app_")
	return ok && len(rest) == 24 && !strings.ContainsFunc(rest, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '2' && r <= '7') })
}

// newAppSecret makes a secret and the hash that is kept of it: 256 random
// bits, so one SHA-256 is enough (nothing to guess).
func newAppSecret() (string, []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	secret := "gds_" + base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(secret))
	return secret, h[:]
}

// Apps lists an organization's apps, for its owners and admins.
func (s *Service) Apps(ctx context.Context, actor *gardien.User, orgID int64) ([]AppView, error) {
	m, err := s.manager(ctx, orgID, actor.ID)
	if err != nil {
		return nil, err
	}
	apps, err := s.Store.OrgApps(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("auth: apps: %w", err)
	}
	out := make([]AppView, len(apps))
	for i, a := range apps {
		out[i] = appView(&a, &m.Organization)
	}
	return out, nil
}

func appView(a *gardien.App, o *gardien.Organization) AppView {
	return AppView{App: *a, NeedsTwoFactor: a.RequireTwoFactor || o.RequireTwoFactor, TwoFactorByOrg: o.RequireTwoFactor}
}

// orgApp returns an app of an organization, for its managers; another
// organization's app is not found.
func (s *Service) orgApp(ctx context.Context, actor *gardien.User, orgID, appID int64) (*gardien.App, *gardien.Membership, error) {
	m, err := s.manager(ctx, orgID, actor.ID)
	if err != nil {
		return nil, nil, err
	}
	a, err := s.Store.App(ctx, appID)
	if errors.Is(err, gardien.ErrNotFound) || err == nil && a.OrgID != orgID {
		return nil, nil, errAppNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("auth: app: %w", err)
	}
	return a, m, nil
}

// App returns one of an organization's apps, for its owners and admins.
func (s *Service) App(ctx context.Context, actor *gardien.User, orgID, appID int64) (*AppView, error) {
	a, m, err := s.orgApp(ctx, actor, orgID, appID)
	if err != nil {
		return nil, err
	}
	v := appView(a, &m.Organization)
	return &v, nil
}

// CreateApp registers an app of an organization: owners and admins. A
// web app gets a secret, returned once in the view and kept hashed.
func (s *Service) CreateApp(ctx context.Context, actor *gardien.User, orgID int64, in AppInput, c gardien.Client) (*AppView, error) {
	m, err := s.manager(ctx, orgID, actor.ID)
	if err != nil {
		return nil, err
	}
	// Which hosts of the organization's domains Gardien guards is the
	// owners' to say, as the domains are.
	if in.Type != nil && *in.Type == gardien.AppProxy && m.Role != gardien.RoleOwner {
		return nil, errForbidden
	}
	now := s.Now().UTC().Truncate(time.Second)
	a := &gardien.App{OrgID: orgID, ClientID: newClientID(), Audience: gardien.AudienceMembers, SigningAlg: gardien.AlgRS256,
		CreatedAt: now, UpdatedAt: now}
	if in.Name == nil {
		in.Name = new(string)
	}
	if in.Type == nil {
		in.Type = new(gardien.AppType)
	}
	if in.RedirectURIs == nil && (in.Type == nil || *in.Type != gardien.AppProxy) {
		in.RedirectURIs = &[]string{}
	}
	if in.Hosts == nil && in.Type != nil && *in.Type == gardien.AppProxy {
		in.Hosts = &[]string{}
	}
	if err := applyAppInput(a, in, &m.Organization, true); err != nil {
		return nil, err
	}
	if err := s.checkHosts(ctx, orgID, a.Hosts); err != nil {
		return nil, err
	}
	var secret *gardien.AppSecret
	v := appView(a, &m.Organization)
	if a.Type.Confidential() {
		var hash []byte
		v.Secret, hash = newAppSecret()
		secret = &gardien.AppSecret{Hash: hash, CreatedAt: now}
	}
	e := s.orgEvent(gardien.EventAppCreated, orgID, 0, actor.ID, c, gardien.EventData{"app": a.Name})
	if err := s.Store.CreateApp(ctx, a, secret, e); err != nil {
		if errors.Is(err, gardien.ErrDuplicate) {
			return nil, errAppHostTaken
		}
		return nil, fmt.Errorf("auth: create app: %w", err)
	}
	v.App = *a
	return &v, nil
}

// UpdateApp changes an app's settings: owners and admins. Its type does
// not change (a public app has no secret to start from).
func (s *Service) UpdateApp(ctx context.Context, actor *gardien.User, orgID, appID int64, in AppInput, c gardien.Client) (*AppView, error) {
	a, m, err := s.orgApp(ctx, actor, orgID, appID)
	if err != nil {
		return nil, err
	}
	if in.Type != nil && *in.Type != a.Type {
		return nil, gardien.Invalid("type", "err.app_type_fixed")
	}
	if a.Type == gardien.AppProxy && m.Role != gardien.RoleOwner {
		return nil, errForbidden
	}
	if in.RequireTwoFactor != nil && !*in.RequireTwoFactor && m.RequireTwoFactor {
		return nil, errAppTwoFactorOrg
	}
	if err := applyAppInput(a, in, &m.Organization, false); err != nil {
		return nil, err
	}
	if in.Hosts != nil {
		if err := s.checkHosts(ctx, orgID, a.Hosts); err != nil {
			return nil, err
		}
	}
	a.UpdatedAt = s.Now().UTC().Truncate(time.Second)
	e := s.orgEvent(gardien.EventAppUpdated, orgID, 0, actor.ID, c, gardien.EventData{"app": a.Name})
	if err := s.Store.UpdateApp(ctx, a, e); err != nil {
		if errors.Is(err, gardien.ErrDuplicate) {
			return nil, errAppHostTaken
		}
		return nil, fmt.Errorf("auth: update app: %w", err)
	}
	v := appView(a, &m.Organization)
	return &v, nil
}

// DeleteApp deletes an app: owners and admins. Its sign-ins and tokens
// end with it.
func (s *Service) DeleteApp(ctx context.Context, actor *gardien.User, orgID, appID int64, c gardien.Client) error {
	a, _, err := s.orgApp(ctx, actor, orgID, appID)
	if err != nil {
		return err
	}
	e := s.orgEvent(gardien.EventAppDeleted, orgID, 0, actor.ID, c, gardien.EventData{"app": a.Name})
	err = s.Store.DeleteApp(ctx, orgID, appID, e)
	if errors.Is(err, gardien.ErrNotFound) {
		return errAppNotFound
	}
	if err != nil {
		return fmt.Errorf("auth: delete app: %w", err)
	}
	return nil
}

// RotateAppSecret gives a web app a new secret, returned once; the one it
// replaces keeps working for AppSecretGrace.
func (s *Service) RotateAppSecret(ctx context.Context, actor *gardien.User, orgID, appID int64, c gardien.Client) (*AppView, error) {
	a, m, err := s.orgApp(ctx, actor, orgID, appID)
	if err != nil {
		return nil, err
	}
	if !a.Type.Confidential() {
		return nil, errAppPublicNoSecret
	}
	now := s.Now().UTC().Truncate(time.Second)
	v := appView(a, &m.Organization)
	var hash []byte
	v.Secret, hash = newAppSecret()
	e := s.orgEvent(gardien.EventAppSecretRotated, orgID, 0, actor.ID, c, gardien.EventData{"app": a.Name})
	if err := s.Store.RotateAppSecret(ctx, a.ID, &gardien.AppSecret{Hash: hash, CreatedAt: now}, now.Add(AppSecretGrace), e); err != nil {
		return nil, fmt.Errorf("auth: rotate app secret: %w", err)
	}
	return &v, nil
}

// AppOfClient returns the app of a client id; errAppNotFound if none.
func (s *Service) AppOfClient(ctx context.Context, clientID string) (*gardien.App, error) {
	if !validClientID(clientID) {
		return nil, errAppNotFound
	}
	a, err := s.Store.AppByClientID(ctx, clientID)
	if errors.Is(err, gardien.ErrNotFound) || err == nil && a.Type == gardien.AppProxy {
		return nil, errAppNotFound // a proxy app is no OpenID Connect client
	}
	if err != nil {
		return nil, fmt.Errorf("auth: app of client: %w", err)
	}
	return a, nil
}

// CheckAppSecret says whether secret is one of a web app's working
// secrets; every one is compared, in constant time.
func (s *Service) CheckAppSecret(ctx context.Context, a *gardien.App, secret string) error {
	if !a.Type.Confidential() {
		return errInvalidCredentials
	}
	secrets, err := s.Store.AppSecrets(ctx, a.ID, s.Now())
	if err != nil {
		return fmt.Errorf("auth: app secrets: %w", err)
	}
	h := sha256.Sum256([]byte(secret))
	ok := 0
	for _, sec := range secrets {
		ok |= subtle.ConstantTimeCompare(h[:], sec.Hash)
	}
	if ok != 1 {
		return errInvalidCredentials
	}
	return nil
}

// applyAppInput checks in and sets it on a; creating, every required
// setting must be there.
func applyAppInput(a *gardien.App, in AppInput, o *gardien.Organization, creating bool) error {
	var fields []gardien.FieldError
	invalid := func(field, msg string) { fields = append(fields, gardien.FieldError{Field: field, Message: msg}) }
	if in.Name != nil {
		name, err := cleanOrgName(*in.Name)
		if err != nil {
			var e *gardien.Error
			errors.As(err, &e)
			msg := e.Fields[0].Message
			if msg == "err.org_name_required" {
				msg = "err.app_name_required"
			}
			invalid("name", msg)
		}
		a.Name = name
	}
	if creating {
		if !in.Type.Valid() {
			invalid("type", "err.app_type")
		}
		a.Type = *in.Type
	}
	if in.Hosts != nil && a.Type == gardien.AppProxy {
		hosts, msg := cleanHosts(*in.Hosts)
		if msg != "" {
			invalid("hosts", msg)
		}
		a.Hosts = hosts
	}
	if in.RedirectURIs != nil && a.Type != gardien.AppProxy {
		uris, msg := cleanAppURIs(*in.RedirectURIs, a.Type, true)
		if msg != "" {
			invalid("redirect_uris", msg)
		}
		a.RedirectURIs = uris
	}
	if in.PostLogoutRedirectURIs != nil {
		uris, msg := cleanAppURIs(*in.PostLogoutRedirectURIs, a.Type, false)
		if msg != "" {
			invalid("post_logout_redirect_uris", msg)
		}
		a.PostLogoutRedirectURIs = uris
	}
	if in.BackchannelLogoutURI != nil {
		a.BackchannelLogoutURI = strings.TrimSpace(*in.BackchannelLogoutURI)
		if a.BackchannelLogoutURI != "" {
			if msg := checkAppURI(a.BackchannelLogoutURI, gardien.AppWeb); msg != "" {
				invalid("backchannel_logout_uri", msg)
			}
		}
	}
	if in.Audience != nil {
		if !in.Audience.Valid() {
			invalid("audience", "err.app_audience")
		}
		a.Audience = *in.Audience
	}
	if in.RequireTwoFactor != nil {
		a.RequireTwoFactor = *in.RequireTwoFactor
	}
	if o.RequireTwoFactor {
		a.RequireTwoFactor = true
	}
	if in.SigningAlg != nil {
		if *in.SigningAlg != gardien.AlgRS256 && *in.SigningAlg != gardien.AlgES256 {
			invalid("signing_alg", "err.app_signing_alg")
		}
		a.SigningAlg = *in.SigningAlg
	}
	if len(fields) > 0 {
		return &gardien.Error{Code: gardien.CodeValidationFailed, Message: "err.validation_failed", Fields: fields}
	}
	return nil
}

// cleanHosts checks a proxy app's host names: at least one, at most
// maxAppURIs, each a host name (normalized as SSO domains are), once.
func cleanHosts(raw []string) ([]string, string) {
	var out []string
	for _, r := range raw {
		if strings.TrimSpace(r) == "" {
			continue
		}
		h, ok := NormalizeDomain(r)
		if !ok {
			return nil, "err.app_host"
		}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	switch {
	case len(out) == 0:
		return nil, "err.app_host_required"
	case len(out) > maxAppURIs:
		return nil, "err.app_too_many_uris"
	}
	return out, ""
}

// checkHosts says whether each host is a domain the organization verified
// or under one (the SSO domain check: nobody protects a host they do not
// hold).
func (s *Service) checkHosts(ctx context.Context, orgID int64, hosts []string) error {
	if len(hosts) == 0 {
		return nil
	}
	conn, err := s.Store.SSOConnection(ctx, orgID)
	if err != nil && !errors.Is(err, gardien.ErrNotFound) {
		return fmt.Errorf("auth: app hosts: %w", err)
	}
	for _, h := range hosts {
		held := false
		if conn != nil {
			for _, d := range conn.Domains {
				if d.Verified() && (h == d.Domain || strings.HasSuffix(h, "."+d.Domain)) {
					held = true
				}
			}
		}
		if !held {
			return gardien.Invalid("hosts", "err.app_host_unverified")
		}
	}
	return nil
}

// cleanAppURIs checks a list of an app's URIs: at least one where
// required, at most maxAppURIs, each once.
func cleanAppURIs(raw []string, t gardien.AppType, required bool) ([]string, string) {
	var out []string
	for _, r := range raw {
		r = strings.TrimSpace(r)
		if r == "" || slices.Contains(out, r) {
			continue
		}
		if msg := checkAppURI(r, t); msg != "" {
			return nil, msg
		}
		out = append(out, r)
	}
	switch {
	case required && len(out) == 0:
		return nil, "err.app_redirect_required"
	case len(out) > maxAppURIs:
		return nil, "err.app_too_many_uris"
	}
	return out, ""
}

// checkAppURI says what is wrong with one of an app's URIs ("" nothing):
// an absolute URL without fragment, credentials or wildcard; https, or
// http to this machine only (a developer's app); a native app may also
// use a private-use scheme named after a domain (RFC 8252 §7.1).
func checkAppURI(raw string, t gardien.AppType) string {
	if len(raw) > maxAppURILen || strings.Contains(raw, "*") || strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "err.app_uri"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Fragment != "" || strings.Contains(raw, "#") || u.User != nil {
		return "err.app_uri"
	}
	switch {
	case u.Scheme == "https" && u.Host != "":
		return ""
	case u.Scheme == "http" && u.Host != "":
		if loopbackHost(u.Hostname()) {
			return ""
		}
		return "err.app_uri_http"
	case t == gardien.AppNative && strings.Contains(u.Scheme, ".") && u.Opaque == "":
		return ""
	}
	return "err.app_uri"
}

func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}
