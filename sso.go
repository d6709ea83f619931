package gardien

import "time"

// SSO protocols an organization's identity provider may speak.
const (
	ProtocolOIDC = "oidc"
	ProtocolSAML = "saml"
)

// SSOConnection is how an organization's people log in through its
// identity provider. Secrets stay sealed: ClientSecret is never shown again.
type SSOConnection struct {
	OrgID    int64
	Protocol string // ProtocolOIDC or ProtocolSAML
	Enabled  bool
	// RequireSSO makes SSO the only way in for people of a verified domain
	// (owners keep their password and second factor as the way back in).
	RequireSSO bool
	// OpenID Connect.
	Issuer             string
	ClientID           string
	ClientSecretSealed []byte
	// SAML 2.0: the identity provider's metadata, by URL or pasted.
	IDPMetadataURL string
	IDPMetadataXML string
	// IdPInitiated accepts SAML logins the identity provider starts (a
	// dashboard tile), which no browser of Gardien's started: off by
	// default, as they are open to login CSRF.
	IdPInitiated bool
	// Gardien as the organization's SAML service provider: its key, sealed,
	// and certificate.
	SPKeySealed []byte
	SPCertPEM   string
	Domains     []SSODomain
	UpdatedAt   time.Time
}

// SSODomain is an email domain an organization claims for SSO. It counts
// only once verified (a DNS TXT record, or an operator's word), and a
// verified domain belongs to one organization.
type SSODomain struct {
	Domain     string
	Token      string    // the TXT record's value: gardien-verification=Token
	VerifiedAt time.Time // zero: not verified
}

// Verified is true once the organization proved the domain is theirs.
func (d SSODomain) Verified() bool { return !d.VerifiedAt.IsZero() }

// TXTRecord is the record the domain's DNS must hold to verify it.
func (d SSODomain) TXTRecord() string { return "gardien-verification=" + d.Token }

// SSOLogin is a login sent to an organization's identity provider,
// awaiting its answer (found by the hash of the state it carries).
type SSOLogin struct {
	OrgID          int64
	Nonce          string
	VerifierSealed []byte // the PKCE verifier, sealed
	ReturnTo       string // the page the person wanted
	// BrowserHash is the hash of the value the starting browser keeps in
	// a cookie: the answer counts only in that browser.
	BrowserHash []byte
	ExpiresAt   time.Time
}

// SSOAnswer is an identity provider's answer, checked, waiting for the
// browser that started its login to come back for it (a SAML answer
// arrives by a cross-site POST, which carries no SameSite=Lax cookie).
type SSOAnswer struct {
	OrgID int64
	// BrowserHash is the starting browser's (empty: a login the identity
	// provider started, bound to no browser).
	BrowserHash []byte
	Identity    SSOIdentity
	ReturnTo    string
	ExpiresAt   time.Time
}

// SSOIdentity is what an identity provider vouched for.
type SSOIdentity struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	// Context is what the provider says it checked (OIDC amr and acr,
	// SAML's authentication context).
	Context string
}
