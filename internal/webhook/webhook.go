// Package webhook posts events to organizations' endpoints, signed the
// Standard Webhooks way (webhook-id, webhook-timestamp, webhook-signature:
// HMAC-SHA256 of id.timestamp.body); internal/deliver sends them from the
// database, one at a time per endpoint.
package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/gardien/gardien"
)

// Sender posts webhook deliveries.
type Sender struct {
	// Client reaches endpoints (sso.NewCheckedClient: every connection's
	// address checked, answers cut).
	Client *http.Client
	// Keys unseals a delivery's signing secrets: the endpoint's, and the
	// one it replaced while that still signs.
	Keys func(d *gardien.Delivery) ([][]byte, error)
	Now  func() time.Time
	// UserAgent names Gardien to endpoints.
	UserAgent string
}

// Message is what an endpoint receives: an event, as the organization's
// audit log gives it to programs.
type Message struct {
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	Data      Event  `json:"data"`
}

// Event is a message's data.
type Event struct {
	ID             int64             `json:"id"`
	OrganizationID int64             `json:"organization_id"`
	Time           string            `json:"time"`
	Type           string            `json:"type"`
	UserID         int64             `json:"user_id,omitempty"`
	UserEmail      string            `json:"user_email,omitempty"`
	ActorID        int64             `json:"actor_id,omitempty"`
	ActorEmail     string            `json:"actor_email,omitempty"`
	IP             string            `json:"ip,omitempty"`
	UserAgent      string            `json:"user_agent,omitempty"`
	Details        gardien.EventData `json:"details,omitempty"`
}

// MessageID is the webhook-id of an event's message: the same at every
// try and when sent again, for endpoints to tell repeats.
func MessageID(eventID int64) string { return "msg_" + strconv.FormatInt(eventID, 10) }

// Body is the JSON body of a delivery.
func Body(d *gardien.WebhookDelivery) ([]byte, error) {
	e := d.Event
	at := e.Time.UTC().Format(time.RFC3339)
	return json.Marshal(Message{Type: e.Type, Timestamp: at, Data: Event{ID: e.ID, OrganizationID: d.OrgID, Time: at, Type: e.Type,
		UserID: e.UserID, UserEmail: e.UserEmail, ActorID: e.ActorID, ActorEmail: e.ActorEmail, IP: e.IP, UserAgent: e.UserAgent, Details: e.Data}})
}

// Send posts one delivery, signed; an error means try again later. Any
// 2xx answer is a delivery (a redirect is not followed as one).
func (s *Sender) Send(ctx context.Context, d *gardien.Delivery) error {
	if d.Webhook == nil {
		return fmt.Errorf("webhook: delivery %d has no event", d.ID)
	}
	keys, err := s.Keys(d)
	if err != nil {
		return err
	}
	body, err := Body(d.Webhook)
	if err != nil {
		return fmt.Errorf("webhook: body: %w", err)
	}
	id, now := MessageID(d.Webhook.Event.ID), s.Now()
	// One signature a secret, space-separated: a receiver holding either
	// secret checks the message.
	sigs := make([]string, 0, len(keys))
	for _, key := range keys {
		signer, err := standardwebhooks.NewWebhookRaw(key)
		if err != nil {
			return fmt.Errorf("webhook: %w", err)
		}
		sig, err := signer.Sign(id, now, body)
		if err != nil {
			return fmt.Errorf("webhook: sign: %w", err)
		}
		sigs = append(sigs, sig)
	}
	sig := strings.Join(sigs, " ")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Target, strings.NewReader(string(body)))
	if err != nil {
		return fmt.Errorf("webhook: request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.UserAgent)
	req.Header.Set(standardwebhooks.HeaderWebhookID, id)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	resp, err := s.Client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10)) // a connection to reuse
	d.Response = "HTTP " + strconv.Itoa(resp.StatusCode)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the endpoint answered HTTP %d", resp.StatusCode)
	}
	return nil
}
