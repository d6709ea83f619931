package gardien

import "time"

// Webhook is an organization's endpoint that Gardien posts events to,
// signed the Standard Webhooks way with a secret of its own.
type Webhook struct {
	ID     int64
	OrgID  int64
	URL    string
	Events []string // the event types it asked for
	// Sealed is its signing secret, sealed with the secret key (HMAC needs
	// the secret itself: it cannot be kept hashed).
	Sealed    []byte
	CreatedAt time.Time
	// DisabledAt is when it was turned off after a day of failures (zero:
	// it receives events).
	DisabledAt time.Time
	// FailingSince is the first failure since its last delivery went
	// through (zero: none).
	FailingSince time.Time
	// OldSecretUntil is when the secret it replaced stops signing beside
	// the new one (zero: none).
	OldSecretUntil time.Time
}

// Delivery states of a webhook's deliveries.
const (
	WebhookPending   = "pending"
	WebhookDelivered = "delivered"
	WebhookFailed    = "failed"
)

// WebhookDelivery is one event on its way to one endpoint, and then the
// line of the endpoint's delivery log.
type WebhookDelivery struct {
	ID            int64
	WebhookID     int64
	OrgID         int64 // the endpoint's organization
	Event         Event // with its person's and actor's emails
	State         string
	Attempts      int
	CreatedAt     time.Time
	LastAttemptAt time.Time // zero: not tried yet
	NextAttemptAt time.Time // pending only
	// Response is the endpoint's last answer ("HTTP 200") or why the last
	// try failed.
	Response string
}

// DeliveryWebhook is the kind of the deliveries of webhooks.
const DeliveryWebhook = "webhook"

// Audit event types of webhooks.
const (
	EventWebhookCreated  = "webhook.created"
	EventWebhookUpdated  = "webhook.updated"
	EventWebhookDeleted  = "webhook.deleted"
	EventWebhookDisabled = "webhook.disabled"
	// EventWebhookTested is a test message an owner sent to one endpoint
	// (to that endpoint only, whatever it asked for).
	EventWebhookTested = "webhook.tested"
	// EventWebhookSecretRotated: a new secret; the old one signs beside it
	// for a day.
	EventWebhookSecretRotated = "webhook.secret_rotated"
)

// MemberEventTypes are a person's own events (no organization of their
// own) that reach the webhooks of every organization they are a member of.
var MemberEventTypes = []string{
	EventLogin, EventLoginFailed, EventTwoFactorEnabled, EventTwoFactorDisabled, EventTwoFactorReset,
	EventTwoFactorLocked, EventAccountDisabled, EventAccountEnabled,
}

// WebhookEventTypes are the events an organization's webhooks may ask for:
// its members' own (MemberEventTypes) and the organization's.
var WebhookEventTypes = append(MemberEventTypes[:len(MemberEventTypes):len(MemberEventTypes)],
	EventOrgMemberJoined, EventOrgRoleChanged, EventOrgMemberRemoved, EventOrgInvitationSent, EventOrgInvitationRevoked,
	EventOrgRequireTwoFactorOn, EventOrgRequireTwoFactorOff, EventOrgMemberTwoFactorReset, EventOrgMemberSignedOut,
	EventOrgRenamed, EventSSOChanged, EventSSODeleted, EventSSODomainVerified, EventSSOUserCreated, EventSSOLinked,
	EventSSOLoginFailed, EventAppCreated, EventAppUpdated, EventAppDeleted, EventAppSecretRotated, EventAppTokenReuse,
	EventTokenCreated, EventTokenRevoked, EventWebhookCreated, EventWebhookUpdated, EventWebhookDeleted, EventWebhookDisabled,
	EventWebhookSecretRotated,
	EventSCIMUserCreated, EventSCIMUserUpdated, EventSCIMUserDeprovisioned, EventSCIMUserReactivated, EventSCIMUserDeleted,
	EventSCIMEnabled, EventSCIMDisabled, EventSCIMTokenRotated,
)
