package web_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/sso/ssotest"
)

// orgIDOf is the number in an organization's page path.
func orgIDOf(org string) int64 {
	n, _ := strconv.ParseInt(strings.TrimPrefix(org, "/organizations/"), 10, 64)
	return n
}

var scimToken = regexp.MustCompile(`<code class="secret">(scim_[A-Za-z0-9_-]+)</code>`)

// TestSCIMSection: Security & SSO → Provisioning (SCIM), for owners: asks
// for SSO on a verified domain first; turned on, it shows the base URL and
// the token once; a new token (after a confirmation) stops the old one;
// turned off (after a confirmation), the token stops.
func TestSCIMSection(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	owner := verifiedClient(t, env, "owner@example.com")
	withTwoFactor(t, owner, clock)
	org := strings.TrimSuffix(owner.Form("/organizations", map[string]string{"name": "Acme"}).Header.Get("Location"), "/members")
	has(t, owner.Get(org+"/security"), "Provisioning (SCIM)", "Turn single sign-on on for a verified domain first")
	wantRedirect(t, owner.Form(org+"/scim/token", nil), org+"/security#scim")

	if r := owner.API("PUT", org+"/sso", map[string]any{"protocol": "oidc", "enabled": true, "domains": []string{"acme.test"},
		"issuer": ssotest.StartOP(t, nil), "client_id": "gardien", "client_secret": "idp-secret"}); r.StatusCode != 200 {
		t.Fatalf("SSO: %d %s", r.StatusCode, r.Body)
	}
	if err := env.App.Auth.OperatorVerifySSODomain(context.Background(), orgIDOf(org), "acme.test", "root"); err != nil {
		t.Fatal(err)
	}
	has(t, owner.Get(org+"/security"), "Turn on SCIM")
	r := owner.Form(org+"/scim/token", nil)
	m := scimToken.FindStringSubmatch(string(r.Body))
	if r.StatusCode != 201 || m == nil {
		t.Fatalf("turn on: %d", r.StatusCode)
	}
	idp := env.Client(t)
	idp.Header.Set("Authorization", "Bearer "+m[1])
	users := "/scim/v2/" + strconv.FormatInt(orgIDOf(org), 10) + "/Users"
	if r := idp.Get(users); r.StatusCode != 200 {
		t.Fatalf("the token made on the page: %d %s", r.StatusCode, r.Body)
	}
	page := owner.Get(org + "/security")
	has(t, page, "SCIM is on.", env.BaseURL()+users[:len(users)-len("/Users")], m[1][:11]+"…", "Make a new token", "Turn off SCIM")
	if strings.Contains(string(page.Body), m[1]) {
		t.Fatal("the token shown again")
	}
	has(t, owner.Get(org+"/scim/token"), "stops working at once")
	if m2 := scimToken.FindStringSubmatch(string(owner.Form(org+"/scim/token", nil).Body)); m2 == nil || m2[1] == m[1] {
		t.Fatal("no new token")
	}
	if r := idp.Get(users); r.StatusCode != 401 {
		t.Fatalf("the replaced token: %d", r.StatusCode)
	}
	has(t, owner.Get(org+"/scim/off"), "The people it provisioned stay as they are")
	wantRedirect(t, owner.Form(org+"/scim/off", nil), org+"/security#scim")
	has(t, owner.Get(org+"/security"), "SCIM is off.", "Turn on SCIM")

	// Admins see no SCIM section.
	admin := invited(t, env, owner, org, "grace@example.com", "Grace Hopper")
	owner.API("PUT", org+"/members/"+userIDOf(t, env, "grace@example.com"), map[string]any{"role": "admin"})
	if strings.Contains(string(admin.Get(org+"/security").Body), "Provisioning (SCIM)") {
		t.Fatal("an admin sees the SCIM section")
	}
}

// userIDOf is the id of the account of email.
func userIDOf(t *testing.T, env *apptest.Env, email string) string {
	t.Helper()
	var id int64
	if err := env.DB.QueryRow(env.Q(`SELECT id FROM users WHERE email_key = ?`), email).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return strconv.FormatInt(id, 10)
}
