package web_test

import (
	"encoding/base64"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gardien/gardien/internal/apptest"
)

// The secret is base64 (+ and / among its letters): escaped in the page.
var webhookSecret = regexp.MustCompile(`<code class="secret">(whsec_[^<]+)</code>`)

// TestWebhooksPages: Organization settings → Webhooks, for its owners
// only: an endpoint is added (its secret on the answer, once), its page
// shows its delivery log, its settings change, it is turned on again after
// it was turned off, and deleted after a confirmation.
func TestWebhooksPages(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	var hits atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(receiver.Close)
	owner := verifiedClient(t, env, "owner@example.com")
	withTwoFactor(t, owner, clock)
	org := strings.TrimSuffix(owner.Form("/organizations", map[string]string{"name": "Acme"}).Header.Get("Location"), "/members")
	has(t, owner.Get(org+"/webhooks"), "Webhooks", "No endpoint yet.", `value="user.login_failed"`, "Wrong password at login")

	r := owner.Form(org+"/webhooks", map[string]string{"url": receiver.URL + "/hook"})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `id="f-events-error"`) {
		t.Fatalf("no event: %d", r.StatusCode)
	}
	r = owner.Form(org+"/webhooks", map[string]string{"url": "ftp://example.com/x", "events": "user.login_failed"})
	has(t, r, "must start with https://")
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("an ftp URL: %d", r.StatusCode)
	}
	r = owner.Do("POST", org+"/webhooks", "application/x-www-form-urlencoded",
		strings.NewReader("url="+receiver.URL+"/hook&events=webhook.created&events=org.renamed"))
	m := webhookSecret.FindStringSubmatch(string(r.Body))
	if r.StatusCode != http.StatusCreated || m == nil {
		t.Fatalf("add: %d", r.StatusCode)
	}
	secret := html.UnescapeString(m[1])
	if _, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_")); err != nil {
		t.Fatalf("the secret shown %q: %v", secret, err)
	}
	list := owner.Get(org + "/webhooks")
	has(t, list, receiver.URL+"/hook", "2 events", "Active")
	if strings.Contains(string(list.Body), m[1]) {
		t.Fatal("the secret shown again")
	}
	link := regexp.MustCompile(`href="(` + org + `/webhooks/\d+)"`).FindStringSubmatch(string(list.Body))
	if link == nil {
		t.Fatal("no link to the endpoint")
	}
	page := link[1]
	// Its own creation was sent to it: the log says so.
	var body string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if body = string(owner.Get(page).Body); strings.Contains(body, "Delivered") {
			break
		}
	}
	if !strings.Contains(body, "Webhook endpoint added") || !strings.Contains(body, "Delivered") || !strings.Contains(body, "HTTP 200") || hits.Load() != 1 {
		t.Fatalf("the endpoint's log (%d requests):\n%s", hits.Load(), body)
	}
	resend := regexp.MustCompile(`action="(` + page + `/deliveries/\d+/resend)"`).FindStringSubmatch(body)
	if resend == nil {
		t.Fatal("no Send again")
	}
	wantRedirect(t, owner.Form(resend[1], nil), page)

	wantRedirect(t, owner.Form(page+"/test", nil), page)
	has(t, owner.Get(page), "A test event is on its way", "Test event sent to a webhook endpoint")

	// A new secret, shown once on the endpoint's page; the old one signs a day more.
	r = owner.Form(page+"/secret", nil)
	if m2 := webhookSecret.FindStringSubmatch(string(r.Body)); r.StatusCode != 200 || m2 == nil || m2[1] == m[1] {
		t.Fatalf("a new secret: %d", r.StatusCode)
	}
	has(t, r, "the old one signs beside it until")
	has(t, owner.Get(page), "The secret replaced still signs beside the new one until")

	// Settings: a refusal is shown on the page; a change is saved.
	r = owner.Form(page, map[string]string{"url": "https://", "events": "org.renamed"})
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a bad URL: %d", r.StatusCode)
	}
	wantRedirect(t, owner.Form(page, map[string]string{"url": receiver.URL + "/other", "events": "org.member_joined"}), page)
	has(t, owner.Get(page), receiver.URL+"/other", `value="org.member_joined" checked`, "The endpoint is saved.")

	// Turned off (as after a day of failures), then on again.
	if _, err := env.DB.Exec(env.Q(`UPDATE webhooks SET disabled_at = 1`)); err != nil {
		t.Fatal(err)
	}
	off := owner.Get(page)
	has(t, off, "Turned off", "Turn on again")
	if strings.Contains(string(off.Body), "/resend") || strings.Contains(string(off.Body), "/test") {
		t.Fatal("Send again or a test offered while the endpoint is off")
	}
	wantRedirect(t, owner.Form(page+"/test", nil), page)
	has(t, owner.Get(page), "The endpoint is turned off: turn it on again first.")
	wantRedirect(t, owner.Form(page+"/enable", nil), page)
	has(t, owner.Get(page), "Active", "The endpoint is on again.")

	// Only owners.
	member := invited(t, env, owner, org, "grace@example.com", "Grace Hopper")
	wantRedirect(t, member.Get(org+"/webhooks"), org+"/overview")
	wantRedirect(t, member.Get(page), org+"/overview")

	has(t, owner.Get(page+"/delete"), "its delivery log is deleted with it")
	wantRedirect(t, owner.Form(page+"/delete", nil), org+"/webhooks")
	has(t, owner.Get(org+"/webhooks"), "The endpoint is deleted.", "No endpoint yet.")
}
