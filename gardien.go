// Package gardien holds the domain of Gardien, the account-security service:
// the types every other package speaks in, free of HTTP and SQL.
package gardien

import (
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// User is a person with an account.
type User struct {
	ID            int64
	Email         string // as typed, trimmed, with a lower-cased domain
	Name          string
	EmailVerified bool
	Locale        string // the person's saved language ("" = follow the browser)
	CreatedAt     time.Time
	// SSO is true for people who log in through their organization's identity
	// provider; Gardien's own second factor does not apply to them.
	SSO bool
	// TwoFactorEnabled is true while a second factor is on: an
	// authenticator app (AppEnabled) or a passkey or security key
	// (HasKeys), either alone.
	TwoFactorEnabled bool
	// AppEnabled: an authenticator app's secret is activated (TOTP).
	AppEnabled bool
	// HasKeys: at least one passkey or security key is registered.
	HasKeys bool
	// Disabled accounts cannot log in (an operator's decision).
	Disabled bool
}

// Initials are what the profile picture shows: the first letters of the first
// two words of the name, or the first letter of the email when there is no name.
func (u *User) Initials() string {
	words := strings.FieldsFunc(u.Name, func(r rune) bool {
		return unicode.IsSpace(r) || r == '-' || r == '.' || r == '_'
	})
	if len(words) == 0 {
		words = []string{u.Email}
	}
	var b strings.Builder
	for _, w := range words[:min(2, len(words))] {
		r, _ := utf8.DecodeRuneInString(w)
		if r != utf8.RuneError {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	if b.Len() == 0 {
		return "?"
	}
	return b.String()
}

// SessionLevel says how far a session has come through login.
type SessionLevel string

const (
	// LevelFull is a session that passed every step it needed.
	LevelFull SessionLevel = "full"
	// LevelSecondFactor is a session after a right password whose second
	// factor is due. (Stored as "password", the step it has passed.)
	LevelSecondFactor SessionLevel = "password"
	// LevelSetup is a session that must set 2FA up before anything else.
	LevelSetup SessionLevel = "setup"
	// LevelLinkSecondFactor is LevelSecondFactor for a login that, its
	// second factor passed, may only confirm a pending link of the account
	// to its organization's SSO (LevelSSOLink): the organization requires
	// SSO, and the browser came back from its provider.
	LevelLinkSecondFactor SessionLevel = "link_password"
	// LevelSSOLink is a session that may only confirm the link of its
	// account to its organization's SSO.
	LevelSSOLink SessionLevel = "sso_link"
)

// Session is a server-side login. Its cookie names it by ID and carries a
// secret, of which only the hash is stored (SessionKey).
type Session struct {
	ID         int64
	UserID     int64
	Level      SessionLevel
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute expiry
	IP         string
	UserAgent  string
	// SSOContext is, for a session opened through an identity provider,
	// what it says it checked (e.g. "oidc amr=pwd,otp acr=…"); "" otherwise.
	SSOContext string
	// MFA is true once the session passed a second factor (a code at
	// login, or the set-up's first code).
	MFA bool
	// AMR says how the person proved who they are: RFC 8176 values, space
	// separated ("pwd otp mfa", "hwk user mfa" …); "" for a session older
	// than it (MFA says then).
	AMR string
}

// EventData is what an audit event records beyond its type: values, not
// sentences ("role": "admin", "reminded": "8"), so that each reader's page
// writes them in its own language (i18n.Catalog.EventDetail). Keys are
// listed in i18n's detailKeys.
type EventData map[string]string

// Event is one line of the audit trail.
type Event struct {
	ID        int64
	Time      time.Time
	Type      string // e.g. "user.signup", "two_factor.enabled"
	UserID    int64  // the person concerned, 0 if none
	ActorID   int64  // who did it, 0 for the system or an operator
	OrgID     int64
	IP        string
	UserAgent string
	Data      EventData
	// UserEmail and ActorEmail name the people, where a listing joins them.
	UserEmail, ActorEmail string
}

// Client describes where a request comes from, for the audit trail and sessions.
type Client struct {
	IP        string
	UserAgent string
	// Browser is the random value a browser's cookie keeps across sessions,
	// so that a login from one not seen before can be told ("" for none).
	Browser string
}

// The types of audit events. Pages name each one from the catalog key
// "event." + type, so a new type needs a line in every catalog.
const (
	EventSignup                   = "user.signup"
	EventEmailVerified            = "user.email_verified"
	EventLogin                    = "user.login"
	EventLoginFailed              = "user.login_failed"
	EventLogout                   = "user.logout"
	EventPasswordChanged          = "user.password_changed"
	EventPasswordResetRequested   = "user.password_reset_requested"
	EventPasswordReset            = "user.password_reset"
	EventTwoFactorEnabled         = "two_factor.enabled"
	EventTwoFactorDisabled        = "two_factor.disabled"
	EventTwoFactorPassed          = "two_factor.passed"
	EventTwoFactorCodeFailed      = "two_factor.code_failed"
	EventTwoFactorLocked          = "two_factor.locked"
	EventRecoveryCodeUsed         = "two_factor.recovery_code_used"
	EventRecoveryCodesRegenerated = "two_factor.recovery_codes_regenerated"
	EventTwoFactorReset           = "two_factor.reset"
	EventOrgCreated               = "org.created"
	EventOrgInvitationSent        = "org.invitation_sent"
	EventOrgInvitationRevoked     = "org.invitation_revoked"
	EventOrgMemberJoined          = "org.member_joined"
	EventOrgRoleChanged           = "org.role_changed"
	EventOrgMemberRemoved         = "org.member_removed"
	EventOrgRequireTwoFactorOn    = "org.two_factor_required"
	EventOrgRequireTwoFactorOff   = "org.two_factor_optional"
	EventOrgMemberTwoFactorReset  = "org.member_two_factor_reset"
	EventOrgMemberSignedOut       = "org.member_signed_out"
	EventOrgReminderSent          = "org.reminder_sent"
	EventSSOChanged               = "sso.changed"
	EventSSODeleted               = "sso.deleted"
	EventSSODomainVerified        = "sso.domain_verified"
	EventSSOLoginFailed           = "sso.login_failed"
	EventSSOUserCreated           = "sso.user_created"
	EventSSOLinked                = "sso.linked"
	EventSessionEnded             = "user.session_ended"
	EventTwoFactorNewApp          = "two_factor.new_app"
	EventEmailChanged             = "user.email_changed"
	EventAccountDeleted           = "user.deleted"
	EventOrgRenamed               = "org.renamed"
	EventOrgDeleted               = "org.deleted"
	EventTwoFactorCheckup         = "two_factor.checkup"
	EventTwoFactorCheckupLater    = "two_factor.checkup_postponed"
	EventAccountDisabled          = "user.disabled"
	EventAccountEnabled           = "user.enabled"
	EventThrottleCleared          = "user.throttle_cleared"
	EventSignInAlertsOn           = "user.sign_in_alerts_on"
	EventSignInAlertsOff          = "user.sign_in_alerts_off"
)

// CheckupAfter is when, after 2FA is turned on, a login asks for the
// check-up: long enough for the phone and the recovery codes to be
// forgotten, soon enough to find a broken set-up before it locks anyone
// out (GitHub asks after 28 days too).
const CheckupAfter = 28 * 24 * time.Hour

// Checkup is where a person's 2FA check-up stands.
type Checkup struct {
	Due       time.Time // zero: none to do
	Postponed int       // times "remind me later" was chosen
	LastStep  int64     // the time step of the last code the app gave that was accepted
	CodesLeft int       // recovery codes not used
}

// EventTypes lists every event type.
var EventTypes = []string{
	EventSignup, EventEmailVerified, EventLogin, EventLoginFailed, EventLogout, EventPasswordChanged,
	EventPasswordResetRequested, EventPasswordReset, EventTwoFactorEnabled, EventTwoFactorDisabled,
	EventTwoFactorPassed, EventTwoFactorCodeFailed, EventTwoFactorLocked, EventRecoveryCodeUsed,
	EventRecoveryCodesRegenerated, EventTwoFactorReset, EventOrgCreated, EventOrgInvitationSent,
	EventOrgInvitationRevoked, EventOrgMemberJoined, EventOrgRoleChanged, EventOrgMemberRemoved,
	EventOrgRequireTwoFactorOn, EventOrgRequireTwoFactorOff, EventOrgMemberTwoFactorReset, EventOrgReminderSent,
	EventSSOChanged, EventSSODeleted, EventSSODomainVerified, EventSSOLoginFailed, EventSSOUserCreated, EventSSOLinked, EventSessionEnded, EventTwoFactorNewApp, EventEmailChanged, EventAccountDeleted, EventOrgRenamed, EventOrgDeleted,
	EventTwoFactorCheckup, EventTwoFactorCheckupLater, EventAccountDisabled, EventAccountEnabled, EventThrottleCleared,
	EventOrgMemberSignedOut, EventSignInAlertsOn, EventSignInAlertsOff,
	EventAppCreated, EventAppUpdated, EventAppDeleted, EventAppSecretRotated, EventAppSignedIn, EventAppSignedOut,
	EventAppRefusal, EventAppTokenReuse, EventSigningKeyRotated,
	EventPasskeyAdded, EventPasskeyRenamed, EventPasskeyRemoved, EventPasskeyCloned,
	EventTokenCreated, EventTokenRevoked,
	EventWebhookCreated, EventWebhookUpdated, EventWebhookDeleted, EventWebhookDisabled, EventWebhookTested, EventWebhookSecretRotated,
	EventSCIMEnabled, EventSCIMDisabled, EventSCIMTokenRotated, EventSCIMUserCreated, EventSCIMUserUpdated,
	EventSCIMUserDeprovisioned, EventSCIMUserReactivated, EventSCIMUserDeleted,
}

// AMRHasMFA says whether an AMR (space-separated values) counts a second
// factor.
func AMRHasMFA(amr string) bool { return slices.Contains(strings.Fields(amr), "mfa") }
