package web_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/gardien/gardien/internal/apptest"
)

var secretOnPage = regexp.MustCompile(`<code class="secret">(gds_[A-Za-z0-9_-]+)</code>`)

func TestAnOrganizationsAppsPages(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	owner := verifiedClient(t, env, "owner@example.com")
	loc := owner.Form("/organizations", map[string]string{"name": "Acme"}).Header.Get("Location")
	org := strings.TrimSuffix(loc, "/members")
	member := invited(t, env, owner, org, "member@example.com", "Grace Hopper")

	has(t, owner.Get(org+"/apps"), "No app yet.", `aria-current="page">Apps</a>`, "Register an app")
	// A mistake is shown next to its field, with what was typed kept.
	r := owner.Form(org+"/apps", map[string]string{"name": "Wiki", "type": "web", "redirect_uris": "http://wiki.example.com/cb",
		"audience": "members", "signing_alg": "RS256"})
	has(t, r, `id="f-redirect_uris-error"`, "http:// is only for this machine", "http://wiki.example.com/cb")
	// Registered: the secret is shown once, on this page only.
	r = owner.Form(org+"/apps", map[string]string{"name": "Wiki", "type": "web", "redirect_uris": "https://wiki.example.com/cb\r\nhttps://wiki.example.com/cb2",
		"audience": "managers", "signing_alg": "ES256", "require_two_factor": "on"})
	m := secretOnPage.FindStringSubmatch(string(r.Body))
	if r.StatusCode != 201 || m == nil {
		t.Fatalf("after registering: %d %.500s", r.StatusCode, r.Body)
	}
	appLink := regexp.MustCompile(`href="(/organizations/\d+/apps/\d+)"`).FindStringSubmatch(string(r.Body))[1]
	page := owner.Get(appLink)
	has(t, page, "https://wiki.example.com/cb\nhttps://wiki.example.com/cb2", `value="managers" checked`, `value="ES256" selected`, "Replace the secret")
	if strings.Contains(string(page.Body), m[1]) {
		t.Fatal("the secret is shown again")
	}
	has(t, owner.Get(org+"/apps"), "Wiki", "Owners and admins only", "Required")
	// Saved, then replaced (asked first), then deleted (asked first).
	wantRedirect(t, owner.Form(appLink, map[string]string{"name": "Team wiki", "redirect_uris": "https://wiki.example.com/cb",
		"audience": "members", "signing_alg": "RS256"}), appLink)
	has(t, owner.Get(appLink), "App Team wiki saved.", `value="members" checked`)
	has(t, owner.Get(appLink+"/secret"), "The current one keeps working for 24 hours", `action="`+appLink+`/secret"`)
	r = owner.Form(appLink+"/secret", nil)
	if n := secretOnPage.FindStringSubmatch(string(r.Body)); n == nil || n[1] == m[1] {
		t.Fatalf("replacing the secret: %d %.300s", r.StatusCode, r.Body)
	}
	has(t, owner.Get(appLink+"/delete"), "Delete Team wiki?")
	wantRedirect(t, owner.Form(appLink+"/delete", nil), org+"/apps")
	has(t, owner.Get(org+"/apps"), "App Team wiki deleted.", "No app yet.")
	if r := owner.Get(appLink); r.StatusCode != 404 {
		t.Fatalf("a deleted app's page: %d", r.StatusCode)
	}
	events := string(owner.Get(org + "/audit").Body)
	for _, e := range []string{"App registered", "App changed", "App secret replaced", "App deleted"} {
		if !strings.Contains(events, e) {
			t.Fatalf("the audit log does not say %q", e)
		}
	}
	// A member reaches none of it.
	wantRedirect(t, member.Get(org+"/apps"), org+"/overview")
	if strings.Contains(string(member.Get(org+"/overview").Body), "/apps\"") {
		t.Fatal("a member's menu offers Apps")
	}
	has(t, member.Get("/settings/apps"), "You have not signed in to any app through Gardien.")
}
