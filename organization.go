package gardien

import "time"

// Role is what a member may do in an organization.
type Role string

const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleOwner || r == RoleAdmin || r == RoleMember }

// Manages is true for owners and admins.
func (r Role) Manages() bool { return r == RoleOwner || r == RoleAdmin }

// Organization is a team.
type Organization struct {
	ID               int64
	Name             string
	RequireTwoFactor bool
	// TwoFactorDeadline is when the requirement starts to hold members
	// back (set-up at login, nothing else reachable); zero: at their next
	// login. Until then, members without 2FA see a banner and get
	// reminders.
	TwoFactorDeadline time.Time
	// RequirePhishingResistant: with the requirement, only a passkey or a
	// security key meets it (an app's codes can be phished).
	RequirePhishingResistant bool
	CreatedAt                time.Time
}

// Deadline is the date from which an organization's requirement holds a
// person back, while they still have time.
type Deadline struct {
	OrgID   int64
	OrgName string
	At      time.Time
}

// Membership is a person's place in an organization.
type Membership struct {
	Organization
	Role Role
}

// Member is a person as an organization's admins see them.
type Member struct {
	UserID           int64
	Email            string
	Name             string
	Role             Role
	TwoFactorEnabled bool // an app or a key, as User's
	AppEnabled       bool
	HasKeys          bool
	SSO              bool
	Locale           string    // the member's saved language ("" = none)
	LastLoginAt      time.Time // zero: never
	LastRemindedAt   time.Time // the last mail asking them to set 2FA up; zero: none
	JoinedAt         time.Time
	// Disabled: the account cannot log in — deprovisioned by the
	// organization's identity provider (DisabledBy DisabledBySCIM; the
	// membership waits for it to come back), or disabled by the operator.
	Disabled   bool
	DisabledBy string
}

// Protected is true when the member's second factor is taken care of:
// Gardien's 2FA, or their identity provider's.
func (m *Member) Protected() bool { return m.TwoFactorEnabled || m.SSO }

// Meets says whether the member meets their organization's requirement:
// protected, and with a key where it asks for a phishing-resistant method.
func (m *Member) Meets(phishingResistant bool) bool {
	return m.SSO || m.HasKeys || m.TwoFactorEnabled && !phishingResistant
}

// MemberFilter narrows a members list.
type MemberFilter struct {
	WithoutTwoFactor bool  // only members neither protected by 2FA nor by SSO
	Role             Role  // only members with this role ("" for any)
	After            int64 // only members whose user id is greater (a walk through them all)
	Offset, Limit    int
}

// MemberCounts sums up an organization's protection.
type MemberCounts struct {
	Total, Protected int
	// Keyed members have a passkey or security key (or SSO): they meet a
	// requirement of a phishing-resistant method.
	Keyed int
}

// Invitation asks someone by mail to join an organization.
type Invitation struct {
	ID        int64
	OrgID     int64
	OrgName   string
	Email     string
	Role      Role
	InvitedBy int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// EventFilter narrows an organization's audit log.
type EventFilter struct {
	Type   string // "" for all
	UserID int64  // 0 for all: the person concerned or the one who acted
	// Person is an email: the events of the person with that address,
	// concerned or acting ("" for all). Matched only among the events the
	// organization's log holds, so it tells nothing of other accounts.
	Person string
	Before int64 // event id to page from (0: the newest)
	Limit  int
}
