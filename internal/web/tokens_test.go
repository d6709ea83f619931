package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gardien/gardien/internal/apptest"
)

var tokenValue = regexp.MustCompile(`<code class="secret">(gdn_[A-Za-z0-9_-]+)</code>`)

// TestTokensPage: Personal settings → API tokens makes a token (its value
// on the answer, once), lists it, and revokes it after a confirmation; a
// form without a scope is refused next to the scopes.
func TestTokensPage(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := verifiedClient(t, env, "ada@example.com")
	c.Form("/login", map[string]string{"email": "ada@example.com", "password": pw})
	has(t, c.Get("/settings/tokens"), "API tokens", `name="scopes" value="members:read"`)

	r := c.Form("/settings/tokens", map[string]string{"name": "CI", "expires": "90"})
	if r.StatusCode != 422 || !strings.Contains(string(r.Body), `id="f-scopes-error"`) {
		t.Fatalf("no scope: %d", r.StatusCode)
	}
	r = c.Do("POST", "/settings/tokens", "application/x-www-form-urlencoded",
		strings.NewReader("name=CI&scopes=profile%3Aread&scopes=audit%3Aread&expires=never"))
	m := tokenValue.FindStringSubmatch(string(r.Body))
	if r.StatusCode != http.StatusCreated || m == nil {
		t.Fatalf("make a token: %d", r.StatusCode)
	}
	prog := env.Client(t)
	prog.Header.Set("Authorization", "Bearer "+m[1])
	if r := prog.API("GET", "/me", nil); r.StatusCode != 200 {
		t.Fatalf("the token made on the page: %d %s", r.StatusCode, r.Body)
	}
	list := c.Get("/settings/tokens")
	has(t, list, "CI", "<code>profile:read</code>", "<code>audit:read</code>", m[1][:10]+"…")
	if strings.Contains(string(list.Body), m[1]) {
		t.Fatal("the token's value shown again")
	}
	link := regexp.MustCompile(`href="(/settings/tokens/\d+/revoke)"`).FindStringSubmatch(string(list.Body))
	if link == nil {
		t.Fatal("no Revoke link")
	}
	has(t, c.Get(link[1]), "The token stops working at once")
	wantRedirect(t, c.Form(link[1], nil), "/settings/tokens")
	if r := prog.API("GET", "/me", nil); r.StatusCode != 401 {
		t.Fatalf("a revoked token: %d", r.StatusCode)
	}
}

// TestOrganizationTokensPage: Organization settings → API tokens, for its
// owners only, makes a token that acts on that organization.
func TestOrganizationTokensPage(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	owner := verifiedClient(t, env, "owner@example.com")
	withTwoFactor(t, owner, clock)
	org := strings.TrimSuffix(owner.Form("/organizations", map[string]string{"name": "Acme"}).Header.Get("Location"), "/members")
	has(t, owner.Get(org+"/tokens"), "API tokens", `value="audit:read"`)
	if strings.Contains(string(owner.Get(org+"/tokens").Body), `value="profile:read"`) {
		t.Fatal("an organization's token offered a person's scope")
	}
	r := owner.Do("POST", org+"/tokens", "application/x-www-form-urlencoded", strings.NewReader("name=SIEM&scopes=audit%3Aread&expires=30"))
	m := tokenValue.FindStringSubmatch(string(r.Body))
	if r.StatusCode != http.StatusCreated || m == nil {
		t.Fatalf("make: %d", r.StatusCode)
	}
	prog := env.Client(t)
	prog.Header.Set("Authorization", "Bearer "+m[1])
	if r := prog.API("GET", org+"/events", nil); r.StatusCode != 200 {
		t.Fatalf("the organization's token: %d %s", r.StatusCode, r.Body)
	}
	member := invited(t, env, owner, org, "grace@example.com", "Grace Hopper")
	wantRedirect(t, member.Get(org+"/tokens"), org+"/overview")
}
