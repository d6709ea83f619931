package gardien

import "time"

// AppType says how an app keeps a secret (OAuth 2.0 client types).
type AppType string

const (
	// AppWeb runs on a server and holds a client secret.
	AppWeb AppType = "web"
	// AppSPA runs in a browser: a public client, no secret.
	AppSPA AppType = "spa"
	// AppNative runs on a device (desktop, phone): a public client, no secret.
	AppNative AppType = "native"
	// AppProxy is an app behind a reverse proxy (nginx, Traefik, Caddy)
	// that asks Gardien at each request (forward-auth): its hosts, no
	// OpenID Connect.
	AppProxy AppType = "proxy"
)

// Valid reports whether t is a known type.
func (t AppType) Valid() bool { return t == AppWeb || t == AppSPA || t == AppNative || t == AppProxy }

// Confidential is true for apps that authenticate with a secret.
func (t AppType) Confidential() bool { return t == AppWeb }

// AppAudience says who of an organization may sign in to an app.
type AppAudience string

const (
	AudienceMembers  AppAudience = "members"  // every member
	AudienceManagers AppAudience = "managers" // owners and admins only
)

// Valid reports whether a is a known audience.
func (a AppAudience) Valid() bool { return a == AudienceMembers || a == AudienceManagers }

// Admits says whether a member with role may sign in.
func (a AppAudience) Admits(role Role) bool { return a == AudienceMembers || role.Manages() }

// The algorithms an app's ID tokens may be signed with.
const (
	AlgRS256 = "RS256" // what every OpenID Connect library accepts
	AlgES256 = "ES256" // smaller and cheaper to sign
)

// App is an application of an organization's that people sign in to
// through Gardien (an OpenID Connect client).
type App struct {
	ID       int64
	OrgID    int64
	ClientID string // public, random
	Name     string
	Type     AppType
	// RedirectURIs are where sign-ins return, compared exactly.
	RedirectURIs []string
	// PostLogoutRedirectURIs are where a logout the app asks for may return.
	PostLogoutRedirectURIs []string
	// BackchannelLogoutURI is told when a person's session ends ("" none).
	BackchannelLogoutURI string
	// Hosts are a proxy app's host names (each in a domain its
	// organization verified), one app each.
	Hosts    []string
	Audience AppAudience
	// RequireTwoFactor is the app's own setting; the organization's
	// requirement adds to it (see NeedsTwoFactor).
	RequireTwoFactor bool
	// SigningAlg signs its ID tokens (AlgRS256 or AlgES256).
	SigningAlg string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// AppSecret is one of a web app's secrets, of which only a hash is kept.
type AppSecret struct {
	Hash      []byte
	CreatedAt time.Time
	// ExpiresAt is when a replaced secret stops working; zero for the
	// current one.
	ExpiresAt time.Time
}

// SignIn is an app a person signed in to, as their settings list it.
type SignIn struct {
	App     App
	OrgName string
	// LastAt is the last time the app got tokens for them.
	LastAt time.Time
}

// Audit event types of apps.
const (
	EventAppCreated        = "app.created"
	EventAppUpdated        = "app.updated"
	EventAppDeleted        = "app.deleted"
	EventAppSecretRotated  = "app.secret_rotated"
	EventAppSignedIn       = "app.signed_in"
	EventAppSignedOut      = "app.signed_out"
	EventAppRefusal        = "app.refused"
	EventAppTokenReuse     = "app.token_reused"
	EventSigningKeyRotated = "oidc.key_rotated"
)

// AppRequest is what an app asked for when it sent a person to sign in
// (an OpenID Connect authentication request, as checked).
type AppRequest struct {
	ResponseType        string   `json:"response_type"`
	ResponseMode        string   `json:"response_mode,omitempty"`
	RedirectURI         string   `json:"redirect_uri"`
	Scopes              []string `json:"scopes"`
	State               string   `json:"state,omitempty"`
	Nonce               string   `json:"nonce,omitempty"`
	CodeChallenge       string   `json:"code_challenge"`
	CodeChallengeMethod string   `json:"code_challenge_method"`
	Prompt              []string `json:"prompt,omitempty"`
	// MaxAge is the longest time since the person's login the app takes,
	// in seconds; nil for any.
	MaxAge    *int64   `json:"max_age,omitempty"`
	LoginHint string   `json:"login_hint,omitempty"`
	ACRValues []string `json:"acr_values,omitempty"`
	UILocales []string `json:"ui_locales,omitempty"`
}

// Grant is one sign-in of a person to an app: the app's request while
// they log in, then what its code and tokens stand on (a refresh token's
// family). Revoking it ends every token it gave.
type Grant struct {
	ID        string
	AppID     int64
	ClientID  string
	Request   AppRequest
	CreatedAt time.Time
	ExpiresAt time.Time
	// Set once the person is signed in:
	UserID    int64
	SessionID int64
	AuthTime  time.Time
	AMR       []string
	ACR       string
	Revoked   bool
	// CodeHash is the code a token request brought (its SHA-256), used
	// in the transaction that gives the tokens.
	CodeHash []byte
}

// Done is true once a person is signed in through the grant.
func (g *Grant) Done() bool { return g.UserID != 0 }

// GrantToken is an access or refresh token a grant gave, by its hash.
type GrantToken struct {
	Hash      []byte
	Kind      string // "access" or "refresh"
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SigningKey is one of the provider's keys: it signs until retired, and is
// published until it expires.
type SigningKey struct {
	ID        string
	Alg       string
	Sealed    []byte // PKCS #8, sealed with the secret key
	CreatedAt time.Time
	RetiredAt time.Time // zero: signing
	ExpiresAt time.Time // zero: published
}

// Delivery kinds: what the deliveries' workers send to apps.
const DeliveryBackchannelLogout = "backchannel_logout"

// BackchannelLogout is a delivery telling an app that a person's session
// ended (OpenID Connect Back-Channel Logout 1.0).
type BackchannelLogout struct {
	ClientID  string `json:"client_id"`
	UserID    int64  `json:"user_id"`
	SessionID int64  `json:"session_id"`
	Alg       string `json:"alg"`
}

// Delivery is a POST to an app waiting to leave, or being sent.
type Delivery struct {
	ID        int64
	Kind      string
	Target    string // the URL
	Payload   []byte // what its kind's sender makes the body from
	Attempts  int    // including the one under way
	ExpiresAt time.Time
	// Webhook is a webhook delivery's endpoint and event (nil for other
	// kinds).
	Webhook *WebhookDelivery
	// Secret is the sealed signing secret of a webhook delivery; OldSecret
	// the one it replaced, while it still signs beside it.
	Secret, OldSecret []byte
	// Response is what the sender heard ("HTTP 200"), for the log.
	Response string
}

// ForwardSession is a browser's pass to the proxy apps of a domain: a
// cookie of its own (never Gardien's session cookie), tied to the Gardien
// session it was made in, and ending with it.
type ForwardSession struct {
	SessionID int64
	UserID    int64
	ExpiresAt time.Time
}

// Passkey is a person's passkey or security key (WebAuthn).
type Passkey struct {
	ID           int64
	UserID       int64
	Name         string
	CredentialID []byte
	Credential   []byte // the key as the WebAuthn library keeps it (JSON)
	CreatedAt    time.Time
	LastUsedAt   time.Time // zero: never
}

// Audit event types of passkeys.
const (
	EventPasskeyAdded   = "two_factor.passkey_added"
	EventPasskeyRenamed = "two_factor.passkey_renamed"
	EventPasskeyRemoved = "two_factor.passkey_removed"
	// EventPasskeyCloned: a key answered with a signature counter that
	// went back (a copy of it at work); refused.
	EventPasskeyCloned = "two_factor.passkey_cloned"
)

// APIToken lets a program call the API as the person who made it, within
// its scopes, until it expires or is revoked. The token itself is shown
// once and kept as its hash.
type APIToken struct {
	ID     int64
	UserID int64 // who made it
	// OrgID is the organization of an organization's token (0: a
	// person's): it acts for that organization only, while its maker owns
	// it.
	OrgID      int64
	Name       string
	Scopes     []string
	Prefix     string // the token's first characters, to tell tokens apart
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: never
	LastUsedAt time.Time // zero: never
}

// Audit event types of API tokens.
const (
	EventTokenCreated = "token.created"
	EventTokenRevoked = "token.revoked"
)
