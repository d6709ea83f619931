package authz_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/sso/ssotest"
)

// acme is Gardien with an organization that verified acme.test, and two
// hosts behind a proxy: the wiki (every member) and admin (owners and
// admins, with 2FA).
func acme(t *testing.T, opts ...apptest.Option) (*apptest.Env, *apptest.Clock, *apptest.Person, string) {
	t.Helper()
	dns := ssotest.StartDNS(t)
	clock := apptest.NewClock()
	env := apptest.Start(t, append(opts, apptest.WithClock(clock), apptest.Setting("GARDIEN_DNS_RESOLVER", dns.Addr))...)
	issuer := ssotest.StartOP(t, nil)
	owner := env.NewPerson(t, "owner@example.com")
	owner.Enable(t, clock)
	org := fmt.Sprintf("/organizations/%v", apptest.MustAPI(t, owner.C, "POST", "/organizations", map[string]any{"name": "Acme"})["organization"].(map[string]any)["id"])
	sso := apptest.MustAPI(t, owner.C, "PUT", org+"/sso", map[string]any{"protocol": "oidc", "enabled": false, "domains": []string{"acme.test"},
		"issuer": issuer, "client_id": "gardien", "client_secret": "s"})["sso"].(map[string]any)
	dns.SetTXT("acme.test", sso["domains"].([]any)[0].(map[string]any)["txt_record"].(string))
	apptest.MustAPI(t, owner.C, "POST", org+"/sso/domains/acme.test/verify", nil)
	apptest.MustAPI(t, owner.C, "POST", org+"/apps", map[string]any{"name": "Wiki", "type": "proxy", "hosts": []string{"wiki.acme.test"}})
	apptest.MustAPI(t, owner.C, "POST", org+"/apps", map[string]any{"name": "Admin", "type": "proxy", "hosts": []string{"admin.acme.test"},
		"audience": "managers", "require_two_factor": true})
	return env, clock, owner, org
}

// proxy asks Gardien as Traefik or Caddy does for a request to target,
// with the browser's pass (none: "").
func proxy(t testing.TB, env *apptest.Env, target, pass string) *apptest.Response {
	t.Helper()
	c := env.Client(t)
	c.Header.Set("X-Forwarded-Method", "GET")
	if u, err := url.Parse(target); err == nil {
		c.Header.Set("X-Forwarded-Proto", u.Scheme)
		c.Header.Set("X-Forwarded-Host", u.Host)
		c.Header.Set("X-Forwarded-Uri", u.RequestURI())
	} else {
		c.Header.Set("X-Forwarded-Proto", "http")
		c.Header.Set("X-Forwarded-Host", target)
	}
	if pass != "" {
		c.Header.Set("Cookie", "gardien_pass="+pass)
	}
	return c.Get("/authz/forward-auth")
}

// nginx asks Gardien as nginx's auth_request does.
func nginx(t testing.TB, env *apptest.Env, target, pass string) *apptest.Response {
	t.Helper()
	c := env.Client(t)
	c.Header.Set("X-Original-URL", target)
	if pass != "" {
		c.Header.Set("Cookie", "gardien_pass="+pass)
	}
	return c.Get("/authz/auth-request")
}

// start takes a logged-in browser to Gardien's start page for target and
// returns where it is sent and the pass it got ("" none).
func start(t testing.TB, c *apptest.Client, target string) (string, string) {
	t.Helper()
	r := c.Get("/authz/start?" + url.Values{"rd": {target}}.Encode())
	pass := ""
	for _, ck := range r.Cookies() {
		if ck.Name == "gardien_pass" {
			pass = ck.Value
		}
	}
	return r.Header.Get("Location"), pass
}

func TestAProxyAsksGardienAtEachRequest(t *testing.T) {
	t.Parallel()
	env, clock, owner, org := acme(t)
	member := env.NewPerson(t, "member@example.com")
	apptest.MustAPI(t, owner.C, "POST", org+"/invitations", map[string]any{"email": member.Email, "role": "member"})
	apptest.MustAPI(t, member.C, "POST", "/invitations/accept", map[string]any{"token": env.Mail.Wait(t, member.Email).Token()})
	wiki := "http://wiki.acme.test/page?x=1"

	// No pass: Traefik/Caddy send the browser to Gardien; nginx gets a 401.
	r := proxy(t, env, wiki, "")
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != env.URL+"/authz/start?rd="+url.QueryEscape(wiki) {
		t.Fatalf("no pass: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r := nginx(t, env, wiki, ""); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("nginx, no pass: %d", r.StatusCode)
	}
	// Logged out at Gardien, the start page sends to the login page.
	if to, _ := start(t, env.Client(t), wiki); !strings.HasPrefix(to, "/login?next=%2Fauthz%2Fstart") {
		t.Fatalf("logged out: sent to %q", to)
	}
	// Logged in: back to the wiki with a pass; the proxy lets them through.
	to, pass := start(t, member.C, wiki)
	if to != wiki || pass == "" {
		t.Fatalf("start: to %q, pass %q", to, pass)
	}
	for _, r := range []*apptest.Response{proxy(t, env, wiki, pass), nginx(t, env, wiki, pass)} {
		if r.StatusCode != 200 || r.Header.Get("Remote-Email") != member.Email || r.Header.Get("Remote-User") != member.Email ||
			r.Header.Get("Remote-Groups") != "member" || r.Header.Get("Remote-Name") != "Ada member" {
			t.Fatalf("with a pass: %d %v", r.StatusCode, r.Header)
		}
	}
	// The pass is not a Gardien session, nor the session a pass.
	c := env.Client(t)
	c.Header.Set("Cookie", "gardien_session="+pass)
	if r := c.API("GET", "/me", nil); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the pass opened Gardien's API: %d", r.StatusCode)
	}
	// Admin is for owners and admins: 403, and the start page says why.
	if r := proxy(t, env, "https://admin.acme.test/", pass); r.StatusCode != http.StatusForbidden {
		t.Fatalf("a member at admin: %d", r.StatusCode)
	}
	if r := member.C.Get("/authz/start?rd=" + url.QueryEscape("https://admin.acme.test/")); r.StatusCode != http.StatusForbidden ||
		!strings.Contains(string(r.Body), "owners and admins") {
		t.Fatalf("a member's start page for admin: %d", r.StatusCode)
	}
	// The owner, logged in with a code, gets through to admin.
	_, opass := start(t, owner.C, "https://admin.acme.test/")
	if r := proxy(t, env, "https://admin.acme.test/", opass); r.StatusCode != 200 || r.Header.Get("Remote-Groups") != "owner" {
		t.Fatalf("the owner at admin: %d %v", r.StatusCode, r.Header)
	}
	// Logout ends the pass at once.
	apptest.MustAPI(t, member.C, "POST", "/logout", nil)
	if r := proxy(t, env, wiki, pass); r.StatusCode != http.StatusFound {
		t.Fatalf("after logout: %d", r.StatusCode)
	}
	_ = clock
}

func TestAHostThatNeeds2FASendsToTheCodePage(t *testing.T) {
	t.Parallel()
	env, clock, owner, org := acme(t)
	admin := env.NewPerson(t, "admin@example.com")
	apptest.MustAPI(t, owner.C, "POST", org+"/invitations", map[string]any{"email": admin.Email, "role": "admin"})
	apptest.MustAPI(t, admin.C, "POST", "/invitations/accept", map[string]any{"token": env.Mail.Wait(t, admin.Email).Token()})
	admin.Enable(t, clock)
	// Another browser, the password alone (before 2FA was on there).
	b := env.Client(t)
	apptest.MustAPI(t, b, "POST", "/login", map[string]any{"email": admin.Email, "password": apptest.Password})
	apptest.MustAPI(t, admin.C, "POST", "/logout", nil)
	target := "https://admin.acme.test/x"
	to, pass := start(t, b, target)
	if pass != "" || !strings.HasPrefix(to, "/login/two-factor?next=") {
		t.Fatalf("without a second factor: to %q, pass %q", to, pass)
	}
	next, _ := url.Parse(to)
	r := b.Form("/login/two-factor", map[string]string{"code": admin.Code(clock), "next": next.Query().Get("next")})
	if !strings.HasPrefix(r.Header.Get("Refresh"), "0; url=/authz/start?") {
		t.Fatalf("after the code: %d %v", r.StatusCode, r.Header)
	}
	if to, pass = start(t, b, target); to != target || pass == "" {
		t.Fatalf("after the code: to %q", to)
	}
	if r := proxy(t, env, target, pass); r.StatusCode != 200 {
		t.Fatalf("with the code: %d", r.StatusCode)
	}
}

// Hostile values never send a browser off the protected hosts.
func TestHostileForwardedValues(t *testing.T) {
	t.Parallel()
	env, _, owner, _ := acme(t)
	_, pass := start(t, owner.C, "http://wiki.acme.test/")
	for _, target := range []string{"http://evil.example/", "http://wiki.acme.test.evil.example/", "javascript:alert(1)", "//evil.example/",
		"http://wiki.acme.test\x01/", "ftp://wiki.acme.test/", ""} {
		// (A header with a control character is not sent by Go's client,
		// nor by the proxies: the start page's rd is where one can come.)
		if !strings.ContainsFunc(target, func(r rune) bool { return r < 0x20 }) {
			for _, r := range []*apptest.Response{proxy(t, env, target, pass), nginx(t, env, target, pass)} {
				if loc := r.Header.Get("Location"); r.StatusCode == 200 || strings.Contains(loc, "evil") || r.StatusCode >= 500 {
					t.Errorf("%q: %d %q", target, r.StatusCode, loc)
				}
			}
		}
		r := owner.C.Get("/authz/start?rd=" + url.QueryEscape(target))
		if loc := r.Header.Get("Location"); r.StatusCode < 400 || r.StatusCode >= 500 || loc != "" {
			t.Errorf("start %q: %d %q", target, r.StatusCode, loc)
		}
	}
	// Credentials in the URL: nginx's is refused, the start page sends nowhere.
	if r := nginx(t, env, "http://user@wiki.acme.test/", pass); r.StatusCode != http.StatusBadRequest {
		t.Errorf("credentials in X-Original-URL: %d", r.StatusCode)
	}
	if r := owner.C.Get("/authz/start?rd=" + url.QueryEscape("http://user@wiki.acme.test/")); r.StatusCode != http.StatusBadRequest {
		t.Errorf("credentials in rd: %d", r.StatusCode)
	}
	// A host of an unverified domain cannot be registered.
	org := "/organizations/1"
	if r := owner.C.API("POST", org+"/apps", map[string]any{"name": "Evil", "type": "proxy", "hosts": []string{"evil.example"}}); r.StatusCode != 422 {
		t.Fatalf("an unverified host: %d %s", r.StatusCode, r.Body)
	}
	if r := owner.C.API("POST", org+"/apps", map[string]any{"name": "Twice", "type": "proxy", "hosts": []string{"wiki.acme.test"}}); r.StatusCode != 409 {
		t.Fatalf("a host protected twice: %d %s", r.StatusCode, r.Body)
	}
}

// Two nodes on one PostgreSQL: a pass made through one is checked by the
// other, and a logout through one ends it on the other at once.
func TestAPassEndsOnEveryNodeAtOnce(t *testing.T) {
	t.Parallel()
	env, _, owner, _ := acme(t, apptest.Postgres(t))
	other := apptest.Start(t, apptest.NodeOf(env))
	wiki := "https://wiki.acme.test/"
	_, pass := start(t, owner.C, wiki)
	if r := proxy(t, other, wiki, pass); r.StatusCode != 200 {
		t.Fatalf("the other node: %d", r.StatusCode)
	}
	apptest.MustAPI(t, owner.C, "POST", "/logout", nil)
	for _, node := range []*apptest.Env{env, other} {
		if r := proxy(t, node, wiki, pass); r.StatusCode != http.StatusFound {
			t.Fatalf("after logout: %d", r.StatusCode)
		}
	}
}

// Gardien's session cookie is no pass; an admin without 2FA is sent to set
// it up before a host that needs it.
func TestTheSessionIsNoPassAndTheSetUpComesFirst(t *testing.T) {
	t.Parallel()
	env, _, owner, org := acme(t)
	u, _ := url.Parse(env.URL)
	var session string
	for _, ck := range owner.C.Jar.Cookies(u) {
		if strings.Contains(ck.Name, "session") {
			session = ck.Value
		}
	}
	if session == "" {
		t.Fatal("no session cookie")
	}
	if r := proxy(t, env, "http://wiki.acme.test/", session); r.StatusCode != http.StatusFound {
		t.Fatalf("Gardien's session as a pass: %d", r.StatusCode)
	}
	admin := env.NewPerson(t, "admin@example.com")
	apptest.MustAPI(t, owner.C, "POST", org+"/invitations", map[string]any{"email": admin.Email, "role": "admin"})
	apptest.MustAPI(t, admin.C, "POST", "/invitations/accept", map[string]any{"token": env.Mail.Wait(t, admin.Email).Token()})
	if to, pass := start(t, admin.C, "https://admin.acme.test/"); pass != "" || to != "/two-factor/setup" {
		t.Fatalf("an admin without 2FA: to %q, pass %q", to, pass)
	}
}

// The hosts Gardien guards are the owners' to say, as the domains are.
func TestOnlyOwnersRegisterProtectedHosts(t *testing.T) {
	t.Parallel()
	env, _, owner, org := acme(t)
	admin := env.NewPerson(t, "admin@example.com")
	apptest.MustAPI(t, owner.C, "POST", org+"/invitations", map[string]any{"email": admin.Email, "role": "admin"})
	apptest.MustAPI(t, admin.C, "POST", "/invitations/accept", map[string]any{"token": env.Mail.Wait(t, admin.Email).Token()})
	if r := admin.C.API("POST", org+"/apps", map[string]any{"name": "Grafana", "type": "proxy", "hosts": []string{"grafana.acme.test"}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("an admin registering a host: %d", r.StatusCode)
	}
	apps := apptest.MustAPI(t, admin.C, "GET", org+"/apps", nil)["apps"].([]any)
	id := fmt.Sprint(apps[0].(map[string]any)["id"])
	if r := admin.C.API("PATCH", org+"/apps/"+id, map[string]any{"hosts": []string{"x.acme.test"}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("an admin changing a host: %d", r.StatusCode)
	}
}
