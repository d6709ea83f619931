package auth

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/idna"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/sso"
)

// SSOStore is the storage of organizations' identity providers, their
// domains, logins under way, answers, and accounts linked to them.
type SSOStore interface {
	SSOConnection(ctx context.Context, orgID int64) (*gardien.SSOConnection, error)
	// SSORequired says whether an organization's people must log in
	// through its identity provider (a connection on, that requires it).
	SSORequired(ctx context.Context, orgID int64) (bool, error)
	SaveSSOConnection(ctx context.Context, c *gardien.SSOConnection, e *gardien.Event) error
	DeleteSSOConnection(ctx context.Context, orgID int64, e *gardien.Event) error
	VerifySSODomain(ctx context.Context, orgID int64, domain string, at time.Time, e *gardien.Event) error
	SSOForDomain(ctx context.Context, domain string) (*gardien.SSOConnection, error)
	CreateSSOLogin(ctx context.Context, l *gardien.SSOLogin, stateHash []byte) error
	ConsumeSSOLogin(ctx context.Context, stateHash []byte, now time.Time) (*gardien.SSOLogin, error)
	CreateSSOAnswer(ctx context.Context, tokenHash []byte, a *gardien.SSOAnswer) error
	ConsumeSSOAnswer(ctx context.Context, tokenHash []byte, now time.Time) (*gardien.SSOAnswer, error)
	UseSAMLAssertion(ctx context.Context, orgID int64, assertionID string, expires time.Time) error
	CreateSSOUser(ctx context.Context, u *gardien.User, emailKey string, orgID int64, role gardien.Role, e *gardien.Event) error
	JoinThroughSSO(ctx context.Context, orgID, userID int64, role gardien.Role, at time.Time, e *gardien.Event) error
	CreateSSOLink(ctx context.Context, tokenHash []byte, userID, orgID int64, ssoContext string, expires time.Time) error
	SSOLinkOf(ctx context.Context, tokenHash []byte, userID int64, now time.Time) (int64, error)
	LinkToSSO(ctx context.Context, tokenHash []byte, userID, keepSession int64, role gardien.Role, now time.Time, e *gardien.Event) (int64, error)
}

// SSOProtocols is what auth needs of identity providers and DNS
// (internal/sso implements it).
type SSOProtocols interface {
	// HasTXT says whether domain holds the TXT record want; the error says
	// what DNS answered otherwise.
	HasTXT(ctx context.Context, domain, want string) error
	// CheckIssuer discovers an OpenID Provider at issuer.
	CheckIssuer(ctx context.Context, issuer string) error
	// AuthURL is where to send a person to log in at the provider.
	AuthURL(ctx context.Context, c sso.OIDCClient, state, nonce, verifier, loginHint string) (string, error)
	// Exchange turns the provider's code into the identity it vouches for.
	Exchange(ctx context.Context, c sso.OIDCClient, code, verifier, nonce string) (*sso.Identity, error)
	// IDPMetadata fetches (or takes) a SAML identity provider's metadata
	// and checks it.
	IDPMetadata(ctx context.Context, metadataURL, xml string) (string, error)
	// SPMetadata is Gardien's metadata as a service provider.
	SPMetadata(c sso.SAMLClient) ([]byte, error)
	// SAMLAuthURL is where to send a person, and the request's ID.
	SAMLAuthURL(c sso.SAMLClient, relayState string) (string, string, error)
	// SAMLIdentity checks a SAMLResponse to a request.
	SAMLIdentity(c sso.SAMLClient, samlResponse, requestID string) (*sso.Identity, error)
}

// SSOInput is an organization's single sign-on as its owner sets it.
type SSOInput struct {
	Protocol   string
	Enabled    bool
	RequireSSO bool
	Domains    []string
	Issuer     string
	ClientID   string
	// ClientSecret is the new secret; nil keeps the one set.
	ClientSecret *string
	// SAML: the identity provider's metadata, by URL or pasted.
	IDPMetadataURL, IDPMetadataXML string
	// IdPInitiated accepts SAML logins the identity provider starts.
	IdPInitiated bool
}

// maxSSODomains bounds the domains one organization claims.
const maxSSODomains = 20

func (s *Service) ssoSealContext(orgID int64) []byte {
	return []byte("sso:" + strconv.FormatInt(orgID, 10))
}

// owner returns actor's membership if they own the organization: SSO
// decides how everyone of it logs in, so only owners change it.
func (s *Service) owner(ctx context.Context, orgID, actorID int64) (*gardien.Membership, error) {
	m, err := s.member(ctx, orgID, actorID)
	if err != nil {
		return nil, err
	}
	if m.Role != gardien.RoleOwner {
		return nil, errForbidden
	}
	return m, nil
}

// SSO returns an organization's connection, for its owners and admins.
func (s *Service) SSO(ctx context.Context, actor *gardien.User, orgID int64) (*gardien.SSOConnection, error) {
	if _, err := s.manager(ctx, orgID, actor.ID); err != nil {
		return nil, err
	}
	c, err := s.Store.SSOConnection(ctx, orgID)
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, errSSONotConfigured
	}
	if err != nil {
		return nil, fmt.Errorf("auth: sso: %w", err)
	}
	return c, nil
}

// NormalizeDomain returns an email domain as it is kept: lower case, an
// international name as its IDNA A-label; ok false for anything that is
// not a host name.
func NormalizeDomain(raw string) (string, bool) {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(raw)), ".")
	if plainASCII(d) {
		// Letters, digits, dots and hyphens, no A-label: IDNA would give
		// it back as it is (a proxy's question asks this at each request).
		return d, hostname(d)
	}
	a, err := idna.Lookup.ToASCII(d)
	if err != nil || !hostname(a) {
		return "", false
	}
	return a, true
}

// plainASCII says whether d holds only a-z, 0-9, '.' and '-', and no
// A-label ("xn--"), which IDNA checks.
func plainASCII(d string) bool {
	for i := 0; i < len(d); i++ {
		c := d[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return !strings.Contains(d, "xn--")
}

func newDomainToken() string {
	b := make([]byte, 20)
	rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// SaveSSO sets an organization's single sign-on: owners only. The issuer
// must be discoverable; the client secret is sealed at rest and kept when
// not given again; domains kept keep their verification, new ones wait for
// theirs. Every change is in the audit log.
func (s *Service) SaveSSO(ctx context.Context, actor *gardien.User, orgID int64, in SSOInput, c gardien.Client) (*gardien.SSOConnection, error) {
	if _, err := s.owner(ctx, orgID, actor.ID); err != nil {
		return nil, err
	}
	prev, err := s.Store.SSOConnection(ctx, orgID)
	if err != nil && !errors.Is(err, gardien.ErrNotFound) {
		return nil, fmt.Errorf("auth: sso: %w", err)
	}
	conn := &gardien.SSOConnection{OrgID: orgID, Protocol: in.Protocol, Enabled: in.Enabled, RequireSSO: in.RequireSSO,
		// The issuer exactly as entered: it must equal the provider's own
		// (Auth0's ends with a slash, most others' do not).
		Issuer: strings.TrimSpace(in.Issuer), ClientID: strings.TrimSpace(in.ClientID), UpdatedAt: s.Now().UTC()}
	verr := &gardien.Error{Code: gardien.CodeValidationFailed, Message: "err.validation_failed"}
	invalid := func(field, msg string) {
		verr.Fields = append(verr.Fields, gardien.FieldError{Field: field, Message: msg})
	}
	switch in.Protocol {
	case gardien.ProtocolOIDC, gardien.ProtocolSAML:
	default:
		invalid("protocol", "err.sso_protocol")
	}
	var msg string
	if conn.Domains, msg = s.claimedDomains(in.Domains, prev); msg != "" {
		invalid("domains", msg)
	}
	if in.Protocol == gardien.ProtocolOIDC {
		if conn.ClientID == "" || len(conn.ClientID) > 500 {
			invalid("client_id", "err.sso_client_id")
		}
		switch {
		case in.ClientSecret != nil && strings.TrimSpace(*in.ClientSecret) != "" && len(*in.ClientSecret) <= 1000:
			if conn.ClientSecretSealed, err = s.Box.Seal([]byte(strings.TrimSpace(*in.ClientSecret)), s.ssoSealContext(orgID)); err != nil {
				return nil, fmt.Errorf("auth: sso: %w", err)
			}
		case in.ClientSecret == nil && prev != nil && len(prev.ClientSecretSealed) > 0:
			conn.ClientSecretSealed = prev.ClientSecretSealed
		default:
			invalid("client_secret", "err.sso_client_secret")
		}
		if len(conn.Issuer) > 500 {
			invalid("issuer", "err.sso_issuer")
		} else if len(verr.Fields) == 0 {
			// Discovery costs a round trip: only once the rest is right.
			if err := s.Providers.CheckIssuer(ctx, conn.Issuer); err != nil {
				s.Log.InfoContext(ctx, "sso issuer not discovered", "org_id", orgID, "err", err)
				invalid("issuer", providerProblem(err, "err.sso_issuer"))
			}
		}
	}
	if in.Protocol == gardien.ProtocolSAML {
		if err := s.samlSettings(ctx, conn, in, prev, invalid, len(verr.Fields) == 0); err != nil {
			return nil, err
		}
	}
	if len(verr.Fields) > 0 {
		return nil, verr
	}
	data := gardien.EventData{"protocol": conn.Protocol, "provider": conn.Issuer + conn.IDPMetadataURL}
	if err := s.Store.SaveSSOConnection(ctx, conn, s.orgEvent(gardien.EventSSOChanged, orgID, 0, actor.ID, c, data)); err != nil {
		return nil, fmt.Errorf("auth: sso: %w", err)
	}
	return s.Store.SSOConnection(ctx, orgID)
}

// claimedDomains checks and normalizes the domains asked for, keeping the
// token (and verification) of those already claimed; msg says what is
// wrong with them ("" when nothing).
func (s *Service) claimedDomains(raw []string, prev *gardien.SSOConnection) (_ []gardien.SSODomain, msg string) {
	if len(raw) == 0 || len(raw) > maxSSODomains {
		return nil, "err.sso_domains"
	}
	var out []gardien.SSODomain
	for _, r := range raw {
		d, ok := NormalizeDomain(r)
		if !ok {
			return nil, "err.sso_domain_invalid"
		}
		if slices.ContainsFunc(out, func(x gardien.SSODomain) bool { return x.Domain == d }) {
			continue
		}
		nd := gardien.SSODomain{Domain: d, Token: newDomainToken()}
		if prev != nil {
			if i := slices.IndexFunc(prev.Domains, func(x gardien.SSODomain) bool { return x.Domain == d }); i >= 0 {
				nd = prev.Domains[i]
			}
		}
		out = append(out, nd)
	}
	return out, ""
}

// providerProblem is the words for a provider Gardien could not use: its
// address refused, or otherwise.
func providerProblem(err error, otherwise string) string {
	switch {
	case errors.Is(err, sso.ErrAddressRefused):
		return "err.sso_address"
	case errors.Is(err, sso.ErrWeakKey):
		return "err.sso_weak_key"
	}
	return otherwise
}

// DeleteSSO removes an organization's single sign-on: owners only.
func (s *Service) DeleteSSO(ctx context.Context, actor *gardien.User, orgID int64, c gardien.Client) error {
	if _, err := s.owner(ctx, orgID, actor.ID); err != nil {
		return err
	}
	err := s.Store.DeleteSSOConnection(ctx, orgID, s.orgEvent(gardien.EventSSODeleted, orgID, 0, actor.ID, c, nil))
	if errors.Is(err, gardien.ErrNotFound) {
		return errSSONotConfigured
	}
	return err
}

// VerifySSODomain checks the TXT record of a domain the organization
// claims and, when it is there, marks the domain verified: owners only.
// The error says what DNS answered otherwise.
func (s *Service) VerifySSODomain(ctx context.Context, actor *gardien.User, orgID int64, rawDomain string, c gardien.Client) error {
	if _, err := s.owner(ctx, orgID, actor.ID); err != nil {
		return err
	}
	d, err := s.claimed(ctx, orgID, rawDomain)
	if err != nil {
		return err
	}
	if err := s.Providers.HasTXT(ctx, d.Domain, d.TXTRecord()); err != nil {
		s.Log.InfoContext(ctx, "sso domain not verified", "org_id", orgID, "domain", d.Domain, "err", err)
		return &gardien.Error{Code: gardien.CodeValidationFailed, Message: "err.sso_dns",
			Fields: []gardien.FieldError{{Field: "domain", Message: "err.sso_dns"}}}
	}
	return s.markVerified(ctx, orgID, d.Domain, actor.ID, c, gardien.EventData{"domain": d.Domain, "verified_by": "dns"})
}

// OperatorVerifySSODomain marks a claimed domain verified on an operator's
// word (gardien sso verify-domain), for domains whose DNS cannot be changed.
func (s *Service) OperatorVerifySSODomain(ctx context.Context, orgID int64, rawDomain, operator string) error {
	d, err := s.claimed(ctx, orgID, rawDomain)
	if err != nil {
		return err
	}
	return s.markVerified(ctx, orgID, d.Domain, 0, gardien.Client{IP: "operator"}, gardien.EventData{"domain": d.Domain, "operator": operator})
}

// claimed returns a domain the organization claims and has not verified.
func (s *Service) claimed(ctx context.Context, orgID int64, rawDomain string) (*gardien.SSODomain, error) {
	domain, ok := NormalizeDomain(rawDomain)
	if !ok {
		return nil, gardien.Invalid("domain", "err.sso_domain_invalid")
	}
	conn, err := s.Store.SSOConnection(ctx, orgID)
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, errSSONotConfigured
	}
	if err != nil {
		return nil, fmt.Errorf("auth: sso domain: %w", err)
	}
	i := slices.IndexFunc(conn.Domains, func(d gardien.SSODomain) bool { return d.Domain == domain })
	if i < 0 || conn.Domains[i].Verified() {
		return nil, errDomainUnclaimed
	}
	return &conn.Domains[i], nil
}

func (s *Service) markVerified(ctx context.Context, orgID int64, domain string, actorID int64, c gardien.Client, how gardien.EventData) error {
	err := s.Store.VerifySSODomain(ctx, orgID, domain, s.Now(), s.orgEvent(gardien.EventSSODomainVerified, orgID, 0, actorID, c, how))
	switch {
	case errors.Is(err, gardien.ErrDuplicate):
		return errDomainTaken
	case errors.Is(err, gardien.ErrNotFound):
		return errDomainUnclaimed
	case err != nil:
		return fmt.Errorf("auth: verify sso domain: %w", err)
	}
	return nil
}

// SAMLEntityID and SAMLACS are Gardien's SAML entity ID (also its
// metadata's URL) and assertion consumer service for an organization.
func (s *Service) SAMLEntityID(orgID int64) string { return s.Links.SAMLMetadata(orgID) }
func (s *Service) SAMLACS(orgID int64) string      { return s.Links.SAMLACS(orgID) }

// OIDCRedirectURI is the redirect URI to register at OpenID Providers.
func (s *Service) OIDCRedirectURI() string { return s.Links.OIDCCallback() }

// SSOProblem is something that stands between a connection and its
// people logging in: a catalog key, and for the last refused login, why
// (an sso.Cause… word, said by the key's %s as detail.cause.<Cause>).
type SSOProblem struct {
	Key   string
	Cause string
}

// SSOTest is what the "Test" button finds: Problems with the identity
// provider (none: it answers as it should), and the Steps of the set-up
// still to take (catalog keys) before people log in through it.
type SSOTest struct {
	Problems []SSOProblem
	Steps    []string
}

// TestSSO tests an organization's identity provider — the issuer asked
// again, the metadata checked — and says what is left to set up. It works
// before any domain is verified or SSO is on: it tests the provider.
func (s *Service) TestSSO(ctx context.Context, actor *gardien.User, orgID int64) (*SSOTest, error) {
	conn, err := s.SSO(ctx, actor, orgID)
	if err != nil {
		return nil, err
	}
	out := &SSOTest{}
	if !slices.ContainsFunc(conn.Domains, gardien.SSODomain.Verified) {
		out.Steps = append(out.Steps, "sso.step_verify_domain")
	}
	if !conn.Enabled {
		out.Steps = append(out.Steps, "sso.step_turn_on")
	}
	var problems []SSOProblem
	add := func(key string) { problems = append(problems, SSOProblem{Key: key}) }
	if conn.Protocol == gardien.ProtocolSAML {
		if _, err := s.Providers.IDPMetadata(ctx, "", conn.IDPMetadataXML); errors.Is(err, sso.ErrCertificateExpired) {
			add("sso.problem_certificate")
		} else if errors.Is(err, sso.ErrWeakKey) {
			add("sso.problem_weak_key")
		} else if err != nil {
			s.Log.InfoContext(ctx, "sso test: metadata", "org_id", orgID, "err", err)
			add("sso.problem_metadata")
		}
		if _, err := s.Box.Open(conn.SPKeySealed, s.spKeyContext(orgID)); err != nil {
			add("sso.problem_secret")
		}
	}
	if conn.Protocol == gardien.ProtocolOIDC {
		if err := s.Providers.CheckIssuer(ctx, conn.Issuer); err != nil {
			s.Log.InfoContext(ctx, "sso test: issuer", "org_id", orgID, "err", err)
			add("sso.problem_issuer")
		}
		if _, err := s.Box.Open(conn.ClientSecretSealed, s.ssoSealContext(orgID)); err != nil {
			add("sso.problem_secret")
		}
	}
	cause, err := s.lastRefusal(ctx, conn)
	if err != nil {
		return nil, err
	}
	if cause != "" {
		problems = append(problems, SSOProblem{Key: "sso.problem_last_refusal", Cause: cause})
	}
	out.Problems = problems
	return out, nil
}

// lastRefusal is, when the last login through the connection, since it was
// saved and within a day, was refused for its answer, why ("" otherwise):
// the test cannot log anyone in, but it can say what the last try met.
func (s *Service) lastRefusal(ctx context.Context, conn *gardien.SSOConnection) (string, error) {
	events, err := s.Store.OrgEvents(ctx, conn.OrgID, gardien.EventFilter{Type: gardien.EventSSOLoginFailed, Limit: 1})
	if err != nil {
		return "", fmt.Errorf("auth: sso test: %w", err)
	}
	if len(events) == 0 || events[0].Time.Before(conn.UpdatedAt) || events[0].Time.Before(s.Now().Add(-24*time.Hour)) {
		return "", nil
	}
	return events[0].Data["cause"], nil
}

// samlSettings fills a SAML connection: the identity provider's metadata
// (fetched and checked once the rest is right), and Gardien's key and
// certificate as its service provider (kept, or made at the first save).
func (s *Service) samlSettings(ctx context.Context, conn *gardien.SSOConnection, in SSOInput, prev *gardien.SSOConnection, invalid func(field, msg string), check bool) error {
	conn.Issuer, conn.ClientID, conn.ClientSecretSealed = "", "", nil
	conn.IdPInitiated = in.IdPInitiated
	conn.IDPMetadataURL = strings.TrimSpace(in.IDPMetadataURL)
	xmlText := in.IDPMetadataXML
	switch {
	case conn.IDPMetadataURL == "" && strings.TrimSpace(xmlText) == "" && prev != nil && prev.Protocol == gardien.ProtocolSAML && prev.IDPMetadataXML != "":
		// Saved again without new metadata: the metadata saved stays
		// (checked again all the same: its certificate may have expired).
		xmlText = prev.IDPMetadataXML
	case conn.IDPMetadataURL == "" && strings.TrimSpace(xmlText) == "":
		invalid("idp_metadata_url", "err.sso_metadata")
		return nil
	case len(conn.IDPMetadataURL) > 500:
		invalid("idp_metadata_url", "err.sso_metadata")
		return nil
	}
	if check {
		xml, err := s.Providers.IDPMetadata(ctx, conn.IDPMetadataURL, xmlText)
		if err != nil {
			s.Log.InfoContext(ctx, "sso metadata refused", "org_id", conn.OrgID, "err", err)
			invalid("idp_metadata_url", providerProblem(err, "err.sso_metadata"))
			return nil
		}
		conn.IDPMetadataXML = xml
	}
	if prev != nil && len(prev.SPKeySealed) > 0 {
		conn.SPKeySealed, conn.SPCertPEM = prev.SPKeySealed, prev.SPCertPEM
		return nil
	}
	key, cert, err := sso.NewSAMLKeyPair("Gardien", s.Now())
	if err != nil {
		return fmt.Errorf("auth: saml key: %w", err)
	}
	if conn.SPKeySealed, err = s.Box.Seal(key, s.spKeyContext(conn.OrgID)); err != nil {
		return fmt.Errorf("auth: saml key: %w", err)
	}
	conn.SPCertPEM = cert
	return nil
}

func (s *Service) spKeyContext(orgID int64) []byte {
	return []byte("saml-sp:" + strconv.FormatInt(orgID, 10))
}

// samlClient is Gardien as an organization's service provider.
func (s *Service) samlClient(conn *gardien.SSOConnection) (sso.SAMLClient, error) {
	key, err := s.Box.Open(conn.SPKeySealed, s.spKeyContext(conn.OrgID))
	if err != nil {
		return sso.SAMLClient{}, fmt.Errorf("auth: saml key: %w", err)
	}
	return sso.SAMLClient{EntityID: s.Links.SAMLMetadata(conn.OrgID), AcsURL: s.Links.SAMLACS(conn.OrgID), KeyDER: key,
		CertPEM: conn.SPCertPEM, IDPMetadata: conn.IDPMetadataXML}, nil
}

// SPMetadata is Gardien's SAML metadata for an organization (what its
// identity provider imports); not_found when it has no SAML connection.
func (s *Service) SPMetadata(ctx context.Context, orgID int64) ([]byte, error) {
	conn, err := s.Store.SSOConnection(ctx, orgID)
	if errors.Is(err, gardien.ErrNotFound) || err == nil && (conn.Protocol != gardien.ProtocolSAML || len(conn.SPKeySealed) == 0) {
		return nil, gardien.Errorf(gardien.CodeNotFound, "err.not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("auth: saml metadata: %w", err)
	}
	client, err := s.samlClient(conn)
	if err != nil {
		return nil, err
	}
	return s.Providers.SPMetadata(client)
}
