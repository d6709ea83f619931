package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/mail"
	"github.com/gardien/gardien/internal/sso"
)

// WebhookStore keeps organizations' webhooks and their deliveries.
type WebhookStore interface {
	Webhooks(ctx context.Context, orgID int64) ([]gardien.Webhook, error)
	// Webhook is one endpoint of an organization; gardien.ErrNotFound
	// when it has none such.
	Webhook(ctx context.Context, orgID, id int64) (*gardien.Webhook, error)
	// AddWebhook refuses with gardien.ErrTooMany past max endpoints.
	AddWebhook(ctx context.Context, w *gardien.Webhook, max int, e *gardien.Event) error
	UpdateWebhook(ctx context.Context, w *gardien.Webhook, enable bool, e *gardien.Event) error
	DeleteWebhook(ctx context.Context, orgID, id int64, e *gardien.Event) error
	RotateWebhookSecret(ctx context.Context, orgID, id int64, sealed []byte, oldUntil time.Time, e *gardien.Event) error
	// DisableWebhook turns off an endpoint failing since before
	// failingBefore; false when it was not.
	DisableWebhook(ctx context.Context, id int64, failingBefore, now time.Time, e *gardien.Event) (bool, error)
	WebhookDeliveries(ctx context.Context, webhookID int64, limit int) ([]gardien.WebhookDelivery, error)
	ResendWebhookDelivery(ctx context.Context, webhookID, deliveryID int64, now time.Time) (int64, error)
	// QueueWebhookTest refuses with gardien.ErrNotFound an endpoint that
	// is not the organization's, or is off.
	QueueWebhookTest(ctx context.Context, orgID, webhookID int64, e *gardien.Event) (int64, error)
	DeleteOldWebhookDeliveries(ctx context.Context, before time.Time) (int64, error)
}

const (
	// MaxWebhooks bounds an organization's endpoints.
	MaxWebhooks = 10
	// WebhookFailingFor is how long an endpoint may fail before it is
	// turned off (its deliveries are tried as long).
	WebhookFailingFor = 24 * time.Hour
	// webhookLogKept is how long the delivery log keeps a line.
	webhookLogKept = 30 * 24 * time.Hour
	// webhookLogShown bounds the lines of a delivery log shown.
	webhookLogShown     = 100
	maxWebhookURL       = 2000
	webhookSecretPrefix = "whsec_"
	// webhookOldSecretFor is how long a replaced secret still signs.
	webhookOldSecretFor = 24 * time.Hour
)

var (
	errWebhookMissing  = gardien.Errorf(gardien.CodeNotFound, "err.webhook_not_found")
	errDeliveryMissing = gardien.Errorf(gardien.CodeNotFound, "err.webhook_delivery_not_found")
	errTooManyWebhooks = gardien.Errorf(gardien.CodeConflict, "err.webhook_too_many")
	errWebhookOff      = gardien.Errorf(gardien.CodeConflict, "err.webhook_disabled")
)

// WebhookInput is an endpoint as an owner sets it.
type WebhookInput struct {
	URL    string
	Events []string
}

// NewWebhook is an endpoint just added, with its signing secret (shown
// this once).
type NewWebhook struct {
	*gardien.Webhook
	Secret string
}

// WebhookEventTypes lists the events an endpoint may ask for.
func WebhookEventTypes() []string { return slices.Clone(gardien.WebhookEventTypes) }

// check cleans an owner's input: an https URL (http to this machine, and
// private addresses, only where the operator allows them: no SSRF through
// an owner's settings) and known event types, at least one.
func (in *WebhookInput) check(allowPrivate bool) (*gardien.Webhook, error) {
	raw := strings.TrimSpace(in.URL)
	u, err := url.Parse(raw)
	switch {
	case raw == "" || len(raw) > maxWebhookURL || strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return nil, gardien.Invalid("url", "err.webhook_url")
	case err != nil || u.Host == "" || u.User != nil || u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, gardien.Invalid("url", "err.webhook_url")
	case u.Scheme == "http" && allowPrivate && loopbackHost(u.Hostname()):
	case u.Scheme != "https":
		return nil, gardien.Invalid("url", "err.webhook_url_https")
	}
	if !allowPrivate {
		// Names are checked again at each connection, after DNS; these
		// say so at once.
		host := strings.Trim(u.Hostname(), "[]")
		if a, err := netip.ParseAddr(host); err == nil && !sso.PublicAddress(a) || loopbackHost(host) || strings.HasSuffix(strings.ToLower(host), ".localhost") {
			return nil, gardien.Invalid("url", "err.webhook_url_private")
		}
	}
	var events []string
	for _, t := range in.Events {
		if !slices.Contains(gardien.WebhookEventTypes, t) {
			return nil, gardien.Invalid("events", "err.webhook_events")
		}
		if !slices.Contains(events, t) {
			events = append(events, t)
		}
	}
	if len(events) == 0 {
		return nil, gardien.Invalid("events", "err.webhook_events")
	}
	return &gardien.Webhook{URL: u.String(), Events: events}, nil
}

// Webhooks lists an organization's endpoints, for its owners.
func (s *Service) Webhooks(ctx context.Context, actor *gardien.User, orgID int64) ([]gardien.Webhook, error) {
	if err := s.ownerOf(ctx, orgID, actor.ID); err != nil {
		return nil, err
	}
	out, err := s.Store.Webhooks(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("auth: webhooks: %w", err)
	}
	return out, nil
}

// Webhook is one endpoint of an organization, for its owners.
func (s *Service) Webhook(ctx context.Context, actor *gardien.User, orgID, id int64) (*gardien.Webhook, error) {
	if err := s.ownerOf(ctx, orgID, actor.ID); err != nil {
		return nil, err
	}
	return s.webhook(ctx, orgID, id)
}

func (s *Service) webhook(ctx context.Context, orgID, id int64) (*gardien.Webhook, error) {
	w, err := s.Store.Webhook(ctx, orgID, id)
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, errWebhookMissing
	}
	if err != nil {
		return nil, fmt.Errorf("auth: webhook: %w", err)
	}
	return w, nil
}

// CreateWebhook adds an endpoint to an organization (its owners only) with
// a new signing secret; audited.
func (s *Service) CreateWebhook(ctx context.Context, actor *gardien.User, orgID int64, in WebhookInput, c gardien.Client) (*NewWebhook, error) {
	if err := s.ownerOf(ctx, orgID, actor.ID); err != nil {
		return nil, err
	}
	w, err := in.check(s.WebhooksAllowPrivate)
	if err != nil {
		return nil, err
	}
	secret, sealed, err := s.newWebhookSecret(orgID)
	if err != nil {
		return nil, fmt.Errorf("auth: create webhook: %w", err)
	}
	w.Sealed = sealed
	w.OrgID, w.CreatedAt = orgID, s.Now().UTC().Truncate(time.Second)
	e := s.orgEvent(gardien.EventWebhookCreated, orgID, 0, actor.ID, c, gardien.EventData{"name": w.URL})
	err = s.Store.AddWebhook(ctx, w, MaxWebhooks, e)
	if errors.Is(err, gardien.ErrTooMany) {
		return nil, errTooManyWebhooks
	}
	if err != nil {
		return nil, fmt.Errorf("auth: create webhook: %w", err)
	}
	return &NewWebhook{Webhook: w, Secret: secret}, nil
}

// newWebhookSecret makes a signing secret: its value (whsec_ and base64,
// shown once) and its sealed bytes.
func (s *Service) newWebhookSecret(orgID int64) (string, []byte, error) {
	key := make([]byte, 32)
	rand.Read(key) // never fails (crypto/rand since Go 1.24)
	sealed, err := s.Box.Seal(key, webhookSealContext(orgID))
	if err != nil {
		return "", nil, err
	}
	return webhookSecretPrefix + base64.StdEncoding.EncodeToString(key), sealed, nil
}

// RotateWebhookSecret gives an endpoint a new secret (shown this once);
// the old one signs beside it for a day (Standard Webhooks' several
// signatures), for the receiver to move without missing a message.
// Audited.
func (s *Service) RotateWebhookSecret(ctx context.Context, actor *gardien.User, orgID, id int64, c gardien.Client) (*NewWebhook, error) {
	w, err := s.Webhook(ctx, actor, orgID, id)
	if err != nil {
		return nil, err
	}
	secret, sealed, err := s.newWebhookSecret(orgID)
	if err != nil {
		return nil, fmt.Errorf("auth: rotate webhook secret: %w", err)
	}
	until := s.Now().UTC().Truncate(time.Second).Add(webhookOldSecretFor)
	e := s.orgEvent(gardien.EventWebhookSecretRotated, orgID, 0, actor.ID, c, gardien.EventData{"name": w.URL, "text": strconv.FormatInt(id, 10)})
	err = s.Store.RotateWebhookSecret(ctx, orgID, id, sealed, until, e)
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, errWebhookMissing
	}
	if err != nil {
		return nil, fmt.Errorf("auth: rotate webhook secret: %w", err)
	}
	w.Sealed, w.OldSecretUntil = sealed, until
	return &NewWebhook{Webhook: w, Secret: secret}, nil
}

// UpdateWebhook changes an endpoint's URL and events; enable turns an
// endpoint that was turned off on again. Audited.
func (s *Service) UpdateWebhook(ctx context.Context, actor *gardien.User, orgID, id int64, in WebhookInput, enable bool, c gardien.Client) (*gardien.Webhook, error) {
	if err := s.ownerOf(ctx, orgID, actor.ID); err != nil {
		return nil, err
	}
	w, err := in.check(s.WebhooksAllowPrivate)
	if err != nil {
		return nil, err
	}
	w.ID, w.OrgID = id, orgID
	data := gardien.EventData{"name": w.URL, "text": strconv.FormatInt(id, 10)}
	if enable {
		data["state"] = "enabled"
	}
	err = s.Store.UpdateWebhook(ctx, w, enable, s.orgEvent(gardien.EventWebhookUpdated, orgID, 0, actor.ID, c, data))
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, errWebhookMissing
	}
	if err != nil {
		return nil, fmt.Errorf("auth: update webhook: %w", err)
	}
	return s.webhook(ctx, orgID, id)
}

// DeleteWebhook deletes an endpoint and its log; audited.
func (s *Service) DeleteWebhook(ctx context.Context, actor *gardien.User, orgID, id int64, c gardien.Client) error {
	if err := s.ownerOf(ctx, orgID, actor.ID); err != nil {
		return err
	}
	w, err := s.webhook(ctx, orgID, id)
	if err != nil {
		return err
	}
	e := s.orgEvent(gardien.EventWebhookDeleted, orgID, 0, actor.ID, c, gardien.EventData{"name": w.URL, "text": strconv.FormatInt(id, 10)})
	err = s.Store.DeleteWebhook(ctx, orgID, id, e)
	if errors.Is(err, gardien.ErrNotFound) {
		return errWebhookMissing
	}
	if err != nil {
		return fmt.Errorf("auth: delete webhook: %w", err)
	}
	return nil
}

// WebhookDeliveries is an endpoint's delivery log, the newest first.
func (s *Service) WebhookDeliveries(ctx context.Context, actor *gardien.User, orgID, id int64) ([]gardien.WebhookDelivery, error) {
	if _, err := s.Webhook(ctx, actor, orgID, id); err != nil {
		return nil, err
	}
	out, err := s.Store.WebhookDeliveries(ctx, id, webhookLogShown)
	if err != nil {
		return nil, fmt.Errorf("auth: webhook deliveries: %w", err)
	}
	return out, nil
}

// ResendWebhookDelivery sends an event of an endpoint's log again (once
// its delivery is done, sent or given up); the new delivery's ID.
func (s *Service) ResendWebhookDelivery(ctx context.Context, actor *gardien.User, orgID, id, deliveryID int64) (int64, error) {
	w, err := s.Webhook(ctx, actor, orgID, id)
	if err != nil {
		return 0, err
	}
	if !w.DisabledAt.IsZero() {
		return 0, errWebhookOff
	}
	n, err := s.Store.ResendWebhookDelivery(ctx, id, deliveryID, s.Now())
	if errors.Is(err, gardien.ErrNotFound) {
		return 0, errDeliveryMissing
	}
	if err != nil {
		return 0, fmt.Errorf("auth: send webhook delivery again: %w", err)
	}
	return n, nil
}

// TestWebhook sends an endpoint a test message (type webhook.tested), to
// check its URL and its signature's check; the delivery's ID. Audited.
func (s *Service) TestWebhook(ctx context.Context, actor *gardien.User, orgID, id int64, c gardien.Client) (int64, error) {
	w, err := s.Webhook(ctx, actor, orgID, id)
	if err != nil {
		return 0, err
	}
	if !w.DisabledAt.IsZero() {
		return 0, errWebhookOff
	}
	e := s.orgEvent(gardien.EventWebhookTested, orgID, 0, actor.ID, c, gardien.EventData{"name": w.URL, "text": strconv.FormatInt(id, 10)})
	n, err := s.Store.QueueWebhookTest(ctx, orgID, id, e)
	if errors.Is(err, gardien.ErrNotFound) {
		return 0, errWebhookMissing // deleted meanwhile
	}
	if err != nil {
		return 0, fmt.Errorf("auth: test webhook: %w", err)
	}
	return n, nil
}

// WebhookFailed hears of a webhook delivery's failed try: an endpoint
// failing for a day is turned off, and its organization's owners told.
func (s *Service) WebhookFailed(ctx context.Context, d *gardien.Delivery) {
	if d.Webhook == nil {
		return
	}
	now := s.Now()
	wd := d.Webhook
	e := s.orgEvent(gardien.EventWebhookDisabled, wd.OrgID, 0, 0, gardien.Client{}, gardien.EventData{"name": d.Target, "text": strconv.FormatInt(wd.WebhookID, 10)})
	off, err := s.Store.DisableWebhook(ctx, wd.WebhookID, now.Add(-WebhookFailingFor), now, e)
	if err != nil {
		s.Log.ErrorContext(ctx, "webhook failure", "err", err)
		return
	}
	if !off {
		return
	}
	s.Log.WarnContext(ctx, "webhook endpoint turned off after a day of failures", "org", wd.OrgID, "webhook", wd.WebhookID, "url", d.Target)
	owners, err := s.Store.Members(ctx, wd.OrgID, gardien.MemberFilter{Role: gardien.RoleOwner, Limit: maxOwnersShown})
	if err != nil {
		s.Log.ErrorContext(ctx, "webhook failure: owners", "err", err)
		return
	}
	org, err := s.Store.OrganizationByID(ctx, wd.OrgID)
	if err != nil {
		s.Log.ErrorContext(ctx, "webhook failure: organization", "err", err)
		return
	}
	for _, o := range owners {
		s.send(ctx, mail.Letter{Kind: "webhook_disabled", To: o.Email, Name: o.Name, Lang: s.langOf(&gardien.User{Locale: o.Locale}, ""),
			Link: s.Links.Webhook(wd.OrgID, wd.WebhookID), Args: []any{d.Target, org.Name}})
	}
}

// webhookSealContext binds an endpoint's sealed secret to its organization.
func webhookSealContext(orgID int64) []byte {
	return []byte("webhook secret " + strconv.FormatInt(orgID, 10))
}

// WebhookKeys unseals the signing secrets of a webhook delivery's
// endpoint: its secret, and the one it replaced while that still signs.
func (s *Service) WebhookKeys(d *gardien.Delivery) ([][]byte, error) {
	if d.Webhook == nil {
		return nil, errors.New("auth: not a webhook delivery")
	}
	var keys [][]byte
	for _, sealed := range [][]byte{d.Secret, d.OldSecret} {
		if len(sealed) == 0 {
			continue
		}
		key, err := s.Box.Open(sealed, webhookSealContext(d.Webhook.OrgID))
		if err != nil {
			return nil, fmt.Errorf("auth: webhook secret: %w", err)
		}
		keys = append(keys, key)
	}
	return keys, nil
}
