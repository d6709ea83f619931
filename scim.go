package gardien

import "time"

// SCIMToken is an organization's SCIM bearer token (its hash is kept, not
// its value): while it exists, the organization's identity provider
// provisions its SSO people.
type SCIMToken struct {
	OrgID      int64
	Prefix     string // the token's first characters
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never
}

// SCIMUser is a person as an organization's identity provider provisions
// them (SCIM 2.0 User): an SSO account of one of the organization's
// verified domains, and a member of it.
type SCIMUser struct {
	UserID     int64
	OrgID      int64
	Email      string // userName
	Name       string // displayName
	GivenName  string
	FamilyName string
	ExternalID string // the identity provider's id for them
	// Active is false while the account is deprovisioned (disabled):
	// its sessions ended, no login, its membership kept for when it is
	// active again.
	Active bool
	// DisabledBy says who disabled an inactive account: DisabledBySCIM, or
	// "" for Gardien's operator (whom the identity provider cannot undo).
	DisabledBy string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Deleted    bool // deleted by the identity provider: no longer listed
}

// DisabledBySCIM marks an account an identity provider deprovisioned.
const DisabledBySCIM = "scim"

// SCIMFilter narrows a list of SCIM users to one email (userName) or one
// external id; empty: all.
type SCIMFilter struct {
	EmailKey   string
	ExternalID string
}

// Audit event types of SCIM provisioning.
const (
	EventSCIMEnabled           = "scim.enabled"
	EventSCIMDisabled          = "scim.disabled"
	EventSCIMTokenRotated      = "scim.token_rotated"
	EventSCIMUserCreated       = "scim.user_created"
	EventSCIMUserUpdated       = "scim.user_updated"
	EventSCIMUserDeprovisioned = "scim.user_deprovisioned"
	EventSCIMUserReactivated   = "scim.user_reactivated"
	EventSCIMUserDeleted       = "scim.user_deleted"
)
