package auth_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
)

// TestWebhooksAreTheOwnersAndAimOutside: only an organization's owners
// add, see and change its endpoints; an endpoint is an https URL of a
// public address (no SSRF through an owner's settings) with known events;
// its secret is shown once and kept sealed.
func TestWebhooksAreTheOwnersAndAimOutside(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.org(t, "owner@example.com")
	admin := f.signup(t, "admin@example.com", true)
	f.join(t, owner.User, admin, o.ID, gardien.RoleAdmin)
	events := []string{gardien.EventTwoFactorDisabled}
	for _, u := range []string{"", "hooks.example.com/x", "http://hooks.example.com/x", "http://127.0.0.1:9000/x", "https://10.0.0.7/x",
		"https://[::1]/x", "https://169.254.169.254/latest", "https://user:pw@hooks.example.com/x", "ftp://hooks.example.com/x",
		"https://hooks.example.com/x#frag", "https://localhost/x", "https://api.localhost:8443/x", "https://[fe80::1%25eth0]/x", "https://hooks.example.com/" + strings.Repeat("x", 2100), "https://hooks.example.com/a b"} {
		_, err := f.svc.CreateWebhook(ctx, owner.User, o.ID, auth.WebhookInput{URL: u, Events: events}, client)
		wantCode(t, err, gardien.CodeValidationFailed)
	}
	for _, ev := range [][]string{nil, {"user.everything"}, {gardien.EventTwoFactorPassed}} {
		_, err := f.svc.CreateWebhook(ctx, owner.User, o.ID, auth.WebhookInput{URL: "https://hooks.example.com/x", Events: ev}, client)
		wantCode(t, err, gardien.CodeValidationFailed)
	}
	_, err := f.svc.CreateWebhook(ctx, admin, o.ID, auth.WebhookInput{URL: "https://hooks.example.com/x", Events: events}, client)
	wantCode(t, err, gardien.CodeForbidden)

	made, err := f.svc.CreateWebhook(ctx, owner.User, o.ID, auth.WebhookInput{URL: " https://hooks.example.com/gardien ", Events: append(events, events...)}, client)
	if err != nil {
		t.Fatal(err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(made.Secret, "whsec_"))
	if !strings.HasPrefix(made.Secret, "whsec_") || err != nil || len(key) != 32 {
		t.Fatalf("secret %q", made.Secret)
	}
	if made.URL != "https://hooks.example.com/gardien" || len(made.Events) != 1 {
		t.Fatalf("kept %q %v", made.URL, made.Events)
	}
	kept, err := f.store.Webhook(ctx, o.ID, made.ID)
	if err != nil || strings.Contains(string(kept.Sealed), string(key)) {
		t.Fatalf("the secret is kept as is: %v", err)
	}
	got, err := f.svc.WebhookKeys(&gardien.Delivery{Webhook: &gardien.WebhookDelivery{OrgID: o.ID}, Secret: kept.Sealed})
	if err != nil || len(got) != 1 || string(got[0]) != string(key) {
		t.Fatalf("unsealed %x %v", got, err)
	}
	if _, err := f.svc.WebhookKeys(&gardien.Delivery{Webhook: &gardien.WebhookDelivery{OrgID: o.ID + 1}, Secret: kept.Sealed}); err == nil {
		t.Fatal("a secret opened as another organization's")
	}
	_, err = f.svc.Webhooks(ctx, admin, o.ID)
	wantCode(t, err, gardien.CodeForbidden)

	// Another organization's owner reaches none of it, by either id.
	other, o2 := f.org(t, "other@example.com")
	_, err = f.svc.Webhook(ctx, other.User, o.ID, made.ID)
	wantCode(t, err, gardien.CodeNotFound)
	_, err = f.svc.Webhook(ctx, other.User, o2.ID, made.ID)
	wantCode(t, err, gardien.CodeNotFound)
	wantCode(t, f.svc.DeleteWebhook(ctx, other.User, o2.ID, made.ID, client), gardien.CodeNotFound)

	for i := 1; i < auth.MaxWebhooks; i++ {
		if _, err := f.svc.CreateWebhook(ctx, owner.User, o.ID, auth.WebhookInput{URL: "https://hooks.example.com/x", Events: events}, client); err != nil {
			t.Fatal(err)
		}
	}
	_, err = f.svc.CreateWebhook(ctx, owner.User, o.ID, auth.WebhookInput{URL: "https://hooks.example.com/x", Events: events}, client)
	wantCode(t, err, gardien.CodeConflict)

	log, err := f.svc.AuditLog(ctx, owner.User, o.ID, gardien.EventFilter{Type: gardien.EventWebhookCreated, Limit: 50})
	if err != nil || len(log) != auth.MaxWebhooks || log[len(log)-1].ActorID != owner.User.ID {
		t.Fatalf("audit: %d lines, %v", len(log), err)
	}
}

// TestAnEndpointFailingForADayIsTurnedOff: failures are tried again; an
// endpoint that has failed for a day is turned off once, its owners
// mailed, the audit log told; turned on again, it receives events again.
func TestAnEndpointFailingForADayIsTurnedOff(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.org(t, "owner@example.com")
	made, err := f.svc.CreateWebhook(ctx, owner.User, o.ID, auth.WebhookInput{URL: "https://hooks.example.com/x", Events: []string{gardien.EventOrgRenamed}}, client)
	if err != nil {
		t.Fatal(err)
	}
	q := f.store.WebhookQueue()
	rename := func() {
		t.Helper()
		if _, err := f.svc.RenameOrganization(ctx, owner.User, o.ID, "Acme "+f.clock.Now().Format("15:04:05"), client); err != nil {
			t.Fatal(err)
		}
	}
	fail := func() {
		t.Helper()
		now := f.clock.Now()
		d, err := q.ClaimDelivery(ctx, now, now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if err := q.DeliveryFailed(ctx, d, now, "HTTP 503"); err != nil {
			t.Fatal(err)
		}
		f.svc.WebhookFailed(ctx, d)
	}
	rename()
	fail()
	f.clock.Advance(23 * time.Hour)
	fail()
	if w, _ := f.svc.Webhook(ctx, owner.User, o.ID, made.ID); !w.DisabledAt.IsZero() || w.FailingSince.IsZero() {
		t.Fatalf("after 23 hours of failures: %+v", w)
	}
	f.clock.Advance(time.Hour)
	fail()
	w, _ := f.svc.Webhook(ctx, owner.User, o.ID, made.ID)
	if w.DisabledAt.IsZero() {
		t.Fatal("not turned off after a day of failures")
	}
	f.svc.Wait(ctx)
	if m := f.mails.titled("owner@example.com", "A webhook endpoint was turned off"); len(m) != 1 || !strings.Contains(m[0].Text, "https://hooks.example.com/x") ||
		!strings.Contains(m[0].Text, "/organizations/") {
		t.Fatalf("owners' mails: %+v", m)
	}
	if log, _ := f.svc.AuditLog(ctx, owner.User, o.ID, gardien.EventFilter{Type: gardien.EventWebhookDisabled, Limit: 5}); len(log) != 1 {
		t.Fatalf("audit lines of the endpoint turned off: %d", len(log))
	}
	rename()
	if _, err := q.ClaimDelivery(ctx, f.clock.Now(), f.clock.Now().Add(time.Minute)); err == nil {
		t.Fatal("an endpoint turned off was sent an event")
	}
	list, _ := f.svc.WebhookDeliveries(ctx, owner.User, o.ID, made.ID)
	_, err = f.svc.ResendWebhookDelivery(ctx, owner.User, o.ID, made.ID, list[0].ID)
	wantCode(t, err, gardien.CodeConflict)

	if _, err := f.svc.UpdateWebhook(ctx, owner.User, o.ID, made.ID, auth.WebhookInput{URL: w.URL, Events: w.Events}, true, client); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ResendWebhookDelivery(ctx, owner.User, o.ID, made.ID, list[0].ID); err != nil {
		t.Fatal(err)
	}
	rename()
	d, err := q.ClaimDelivery(ctx, f.clock.Now(), f.clock.Now().Add(time.Minute))
	if err != nil || d.Webhook.WebhookID != made.ID {
		t.Fatalf("turned on again, no delivery: %v", err)
	}
}
