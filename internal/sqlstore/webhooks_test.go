package sqlstore_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/sqlstore"
)

func addWebhook(t *testing.T, s *sqlstore.Store, orgID int64, events ...string) *gardien.Webhook {
	t.Helper()
	w := &gardien.Webhook{OrgID: orgID, URL: "https://hooks.example.com/" + events[0], Events: events, Sealed: []byte("sealed"), CreatedAt: t0}
	if err := s.AddWebhook(context.Background(), w, 10, &gardien.Event{Time: t0, Type: gardien.EventWebhookCreated, OrgID: orgID}); err != nil {
		t.Fatal(err)
	}
	return w
}

// sent lists the event types waiting for or sent to an endpoint, oldest
// first.
func sent(t *testing.T, s *sqlstore.Store, w *gardien.Webhook) []string {
	t.Helper()
	list, err := s.WebhookDeliveries(context.Background(), w.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range slices.Backward(list) {
		out = append(out, d.Event.Type)
	}
	return out
}

// TestEventsReachTheWebhooksThatAskedForThem: an organization's events go
// to its endpoints that asked for their type; a member's own events (a
// failed login) to the endpoints of each organization they belong to, and
// no other's; an endpoint turned off gets nothing.
func TestEventsReachTheWebhooksThatAskedForThem(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		owner, bob, carol := newUser(t, s, "owner@example.com"), newUser(t, s, "bob@example.com"), newUser(t, s, "carol@example.com")
		acme := newOrg(t, s, owner)
		other := &gardien.Organization{Name: "Other", CreatedAt: t0}
		if err := s.CreateOrganization(ctx, other, carol.ID, &gardien.Event{Time: t0, Type: gardien.EventOrgCreated}); err != nil {
			t.Fatal(err)
		}
		joinOrg(t, s, bob, acme)
		wide := addWebhook(t, s, acme.ID, gardien.EventLoginFailed, gardien.EventOrgMemberJoined, gardien.EventWebhookCreated)
		narrow := addWebhook(t, s, acme.ID, gardien.EventTwoFactorEnabled)
		theirs := addWebhook(t, s, other.ID, gardien.EventLoginFailed)
		for _, e := range []*gardien.Event{
			{Type: gardien.EventLoginFailed, UserID: bob.ID},
			{Type: gardien.EventLoginFailed, UserID: carol.ID},
			{Type: gardien.EventOrgMemberJoined, OrgID: acme.ID, UserID: bob.ID},
			{Type: gardien.EventOrgMemberJoined, OrgID: other.ID, UserID: carol.ID},
			{Type: gardien.EventLogout, UserID: bob.ID},
			{Type: gardien.EventTwoFactorPassed, UserID: bob.ID},
			{Type: gardien.EventLoginFailed}, // an unknown email: nobody's
		} {
			e.Time = t0
			if err := s.AddEvent(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		// wide heard of its own creation, and of narrow's.
		if got := sent(t, s, wide); !slices.Equal(got, []string{gardien.EventWebhookCreated, gardien.EventWebhookCreated, gardien.EventLoginFailed, gardien.EventOrgMemberJoined}) {
			t.Errorf("acme's wide endpoint got %v", got)
		}
		if got := sent(t, s, narrow); len(got) != 0 {
			t.Errorf("acme's 2FA endpoint got %v", got)
		}
		if got := sent(t, s, theirs); !slices.Equal(got, []string{gardien.EventLoginFailed}) {
			t.Errorf("the other organization's endpoint got %v", got)
		}
		// Bob's failed login went to Acme's with his email; Carol's to hers.
		list, _ := s.WebhookDeliveries(ctx, theirs.ID, 10)
		if list[0].Event.UserEmail != "carol@example.com" {
			t.Errorf("the other organization heard of %q", list[0].Event.UserEmail)
		}

		// Turned off after failing: its waiting deliveries are given up,
		// and the next events skip it.
		q := s.WebhookQueue()
		d, err := q.ClaimDelivery(ctx, t0, t0.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if err := q.DeliveryFailed(ctx, d, t0.Add(time.Minute), "HTTP 500"); err != nil {
			t.Fatal(err)
		}
		w, _ := s.Webhook(ctx, d.Webhook.OrgID, d.Webhook.WebhookID)
		if !w.FailingSince.Equal(t0) {
			t.Fatalf("failing since %v, want %v", w.FailingSince, t0)
		}
		if off, err := s.DisableWebhook(ctx, w.ID, t0.Add(-time.Hour), t0, &gardien.Event{Time: t0, Type: gardien.EventWebhookDisabled, OrgID: w.OrgID}); err != nil || off {
			t.Fatalf("turned off after failing less long: %v %v", off, err)
		}
		if off, err := s.DisableWebhook(ctx, w.ID, t0, t0, &gardien.Event{Time: t0, Type: gardien.EventWebhookDisabled, OrgID: w.OrgID}); err != nil || !off {
			t.Fatalf("not turned off: %v %v", off, err)
		}
		if off, _ := s.DisableWebhook(ctx, w.ID, t0, t0, &gardien.Event{Time: t0, Type: gardien.EventWebhookDisabled, OrgID: w.OrgID}); off {
			t.Fatal("turned off twice")
		}
		list, _ = s.WebhookDeliveries(ctx, w.ID, 10)
		for _, d := range list {
			if d.State != gardien.WebhookFailed {
				t.Errorf("a delivery of the endpoint turned off is %s", d.State)
			}
		}
		n := len(list)
		s.AddEvent(ctx, &gardien.Event{Time: t0, Type: gardien.EventLoginFailed, UserID: bob.ID})
		s.AddEvent(ctx, &gardien.Event{Time: t0, Type: gardien.EventLoginFailed, UserID: carol.ID})
		if list, _ = s.WebhookDeliveries(ctx, w.ID, 10); len(list) != n {
			t.Errorf("an endpoint turned off got %d more", len(list)-n)
		}
	})
}

// TestAnEndpointGetsOneDeliveryAtATimeInOrder: workers on several nodes
// claiming at once take each endpoint's first waiting delivery only; the
// next is its turn once the first is done.
func TestAnEndpointGetsOneDeliveryAtATimeInOrder(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		owner := newUser(t, s, "owner@example.com")
		acme := newOrg(t, s, owner)
		hooks := []*gardien.Webhook{addWebhook(t, s, acme.ID, gardien.EventOrgRenamed), addWebhook(t, s, acme.ID, gardien.EventOrgRenamed, gardien.EventOrgRoleChanged)}
		for i := range 5 {
			s.AddEvent(ctx, &gardien.Event{Time: t0.Add(time.Duration(i) * time.Second), Type: gardien.EventOrgRenamed, OrgID: acme.ID})
		}
		q := s.WebhookQueue()
		now := t0.Add(time.Minute)
		var mu sync.Mutex
		var wg sync.WaitGroup
		claimed := map[int64][]*gardien.Delivery{}
		for range 8 {
			wg.Go(func() {
				d, err := q.ClaimDelivery(ctx, now, now.Add(time.Minute))
				if errors.Is(err, gardien.ErrNotFound) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				claimed[d.Webhook.WebhookID] = append(claimed[d.Webhook.WebhookID], d)
				mu.Unlock()
			})
		}
		wg.Wait()
		if len(claimed) != 2 || len(claimed[hooks[0].ID]) != 1 || len(claimed[hooks[1].ID]) != 1 {
			t.Fatalf("claimed at once: %v (one per endpoint wanted)", claimed)
		}
		d0, d1 := claimed[hooks[0].ID][0], claimed[hooks[1].ID][0]
		if _, err := q.ClaimDelivery(ctx, now, now.Add(time.Minute)); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("a claim while each endpoint has one out: %v", err)
		}
		// The first endpoint's went through: its next event is its turn.
		// The second's failed: the ones behind it wait for it.
		if err := q.DeliveryDone(ctx, d0, ""); err != nil {
			t.Fatal(err)
		}
		if err := q.DeliveryFailed(ctx, d1, now.Add(10*time.Minute), "HTTP 500"); err != nil {
			t.Fatal(err)
		}
		next, err := q.ClaimDelivery(ctx, now, now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if next.Webhook.WebhookID != hooks[0].ID || next.Webhook.Event.ID <= d0.Webhook.Event.ID {
			t.Fatalf("next: endpoint %d event %d, after event %d of endpoint %d", next.Webhook.WebhookID, next.Webhook.Event.ID, d0.Webhook.Event.ID, hooks[0].ID)
		}
		if d, err := q.ClaimDelivery(ctx, now, now.Add(time.Minute)); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("the failed endpoint's next event went before its first: %+v %v", d, err)
		}
		if err := q.DeliveryDone(ctx, next, ""); err != nil {
			t.Fatal(err)
		}
		for range 3 { // the first endpoint's others
			d, err := q.ClaimDelivery(ctx, now, now.Add(time.Minute))
			if err != nil || d.Webhook.WebhookID != hooks[0].ID {
				t.Fatalf("the first endpoint's next: %+v %v", d, err)
			}
			q.DeliveryDone(ctx, d, "")
		}
		again, err := q.ClaimDelivery(ctx, now.Add(11*time.Minute), now.Add(12*time.Minute))
		if err != nil || again.ID != d1.ID || again.Attempts != 2 {
			t.Fatalf("the failed delivery's next try: %+v %v", again, err)
		}
		if err := q.DeliveryDone(ctx, again, "given up"); err != nil {
			t.Fatal(err)
		}
		log, _ := s.WebhookDeliveries(ctx, hooks[1].ID, 10)
		last := log[len(log)-1]
		if last.State != gardien.WebhookFailed || last.Response != "given up" || last.Attempts != 2 {
			t.Fatalf("the log's line of a delivery given up: %+v", last)
		}
		// Sent again: a new delivery of the same event; a waiting one is
		// not sent twice.
		id, err := s.ResendWebhookDelivery(ctx, hooks[1].ID, last.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ResendWebhookDelivery(ctx, hooks[1].ID, id, now); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("a waiting delivery sent again: %v", err)
		}
		if _, err := s.ResendWebhookDelivery(ctx, hooks[0].ID, last.ID, now); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("another endpoint's delivery sent again: %v", err)
		}
	})
}
