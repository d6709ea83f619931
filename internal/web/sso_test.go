package web_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/sso/ssotest"
)

// browser follows redirects across Gardien and the provider, as a
// browser would, and remembers the URLs it went through.
type browser struct {
	*http.Client
	visited []string
	// holdAnswer stops before the provider's answer reaches Gardien.
	holdAnswer bool
}

func newBrowser() *browser {
	b := &browser{}
	jar, _ := cookiejar.New(nil)
	b.Client = &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		b.visited = append(b.visited, r.URL.String())
		if b.holdAnswer && strings.Contains(r.URL.Path, "/sso/oidc/callback") {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

func (b *browser) get(t *testing.T, u string) *http.Response {
	t.Helper()
	resp, err := b.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// ssoLogin starts at Gardien's /sso/start and logs in at the provider's
// page as username; it returns the last answer.
func (b *browser) ssoLogin(t *testing.T, gardienURL, email, username string) *http.Response {
	t.Helper()
	resp := b.get(t, gardienURL+"/sso/start?email="+url.QueryEscape(email))
	if !strings.Contains(resp.Request.URL.Path, "/login/username") {
		t.Fatalf("not at the provider's login page: %s (%d)", resp.Request.URL, resp.StatusCode)
	}
	id := resp.Request.URL.Query().Get("authRequestID")
	resp, err := b.PostForm(resp.Request.URL.Scheme+"://"+resp.Request.URL.Host+"/login/username",
		url.Values{"id": {id}, "username": {username}, "password": {"idp-password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func (b *browser) callback(t *testing.T) string {
	t.Helper()
	for _, u := range b.visited {
		if strings.Contains(u, "/sso/oidc/callback") {
			return u
		}
	}
	t.Fatalf("never came back to Gardien's callback: %v", b.visited)
	return ""
}

func TestLoggingInThroughOpenIDConnect(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dns := ssotest.StartDNS(t)
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock), apptest.Setting("GARDIEN_DNS_RESOLVER", dns.Addr))
	people := []ssotest.OPUser{
		{Username: "ada", Password: "idp-password", Email: "ada@acme.test", EmailVerified: true, Name: "Ada Lovelace"},
		{Username: "eve", Password: "idp-password", Email: "eve@acme.test", EmailVerified: false, Name: "Eve"},
		{Username: "mallory", Password: "idp-password", Email: "mallory@globex.test", EmailVerified: true, Name: "Mallory"},
		{Username: "bob", Password: "idp-password", Email: "bob@acme.test", EmailVerified: true, Name: "Bob"},
	}
	issuer := ssotest.StartOP(t, []ssotest.Client{{ID: "gardien", Secret: "idp-secret", RedirectURI: env.URL + "/sso/oidc/callback"}}, people...)

	// Acme's owner connects the provider and verifies acme.test; Globex
	// verified globex.test with the same provider.
	a := env.App.Auth
	connect := func(owner, domain string) {
		su, err := a.SignUp(ctx, auth.SignupInput{Email: owner, Password: pw, Name: "Owner"}, "", gardien.Client{})
		if err != nil {
			t.Fatal(err)
		}
		o, err := a.CreateOrganization(ctx, su.User, "Org of "+domain, gardien.Client{})
		if err != nil {
			t.Fatal(err)
		}
		secret := "idp-secret"
		c, err := a.SaveSSO(ctx, su.User, o.ID, auth.SSOInput{Protocol: "oidc", Enabled: true, Domains: []string{domain}, Issuer: issuer,
			ClientID: "gardien", ClientSecret: &secret}, gardien.Client{})
		if err != nil {
			t.Fatal(err)
		}
		dns.SetTXT(domain, c.Domains[0].TXTRecord())
		if err := a.VerifySSODomain(ctx, su.User, o.ID, domain, gardien.Client{}); err != nil {
			t.Fatal(err)
		}
	}
	connect("owner@acme.test", "acme.test")
	connect("owner@globex.test", "globex.test")

	t.Run("first arrival creates an SSO member; the next finds them", func(t *testing.T) {
		for range 2 {
			b := newBrowser()
			resp := b.ssoLogin(t, env.URL, "ada@acme.test", "ada")
			if resp.StatusCode != 200 || resp.Request.URL.Path != "/" {
				t.Fatalf("after the provider: %d at %s", resp.StatusCode, resp.Request.URL)
			}
			c := env.Client(t)
			c.Client = b.Client
			me := c.API("GET", "/me", nil).JSON()
			u := me["user"].(map[string]any)
			orgs := me["organizations"].([]any)
			if u["email"] != "ada@acme.test" || u["sso"] != true || u["email_verified"] != true || len(orgs) != 1 {
				t.Fatalf("me after SSO: %v", me)
			}
			if s, _ := me["session"].(map[string]any)["sso"].(string); !strings.HasPrefix(s, "oidc") {
				t.Fatalf("the session does not say it came through the provider: %v", me["session"])
			}
			// Replaying the provider's answer logs nobody in.
			replay := newBrowser()
			if r := replay.get(t, b.callback(t)); r.StatusCode != http.StatusBadRequest {
				t.Fatalf("replayed callback: %d", r.StatusCode)
			}
		}
	})

	t.Run("an organization that requires 2FA lets its SSO people straight in", func(t *testing.T) {
		if _, err := env.DB.Exec(env.Q(`UPDATE organizations SET require_two_factor = ?`), true); err != nil {
			t.Fatal(err)
		}
		b := newBrowser()
		if resp := b.ssoLogin(t, env.URL, "ada@acme.test", "ada"); resp.Request.URL.Path != "/" {
			t.Fatalf("SSO login with the requirement on: %d at %s", resp.StatusCode, resp.Request.URL)
		}
		if _, err := env.DB.Exec(env.Q(`UPDATE organizations SET require_two_factor = ?`), false); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a code from another login, or a late answer, is refused", func(t *testing.T) {
		// The first browser gets a code, held before Gardien sees it.
		first := newBrowser()
		first.holdAnswer = true
		first.ssoLogin(t, env.URL, "ada@acme.test", "ada")
		code, _ := url.Parse(first.callback(t))
		// The second starts its own login and comes back with the first's
		// code: its PKCE verifier and nonce are not the code's.
		second := newBrowser()
		second.get(t, env.URL+"/sso/start?email=ada%40acme.test")
		var state string
		for _, v := range second.visited {
			if u, _ := url.Parse(v); u.Query().Get("state") != "" {
				state = u.Query().Get("state")
			}
		}
		injected := url.Values{"code": {code.Query().Get("code")}, "state": {state}}
		if r := second.get(t, env.URL+"/sso/oidc/callback?"+injected.Encode()); r.StatusCode != http.StatusBadRequest {
			t.Errorf("another login's code: %d", r.StatusCode)
		}
		c := env.Client(t)
		c.Client = second.Client
		if r := c.API("GET", "/me", nil); r.StatusCode != 401 {
			t.Errorf("another login's code logged in: %d", r.StatusCode)
		}
		// An answer after ten minutes finds its login gone.
		late := newBrowser()
		late.holdAnswer = true
		resp := late.get(t, env.URL+"/sso/start?email=ada%40acme.test")
		id := resp.Request.URL.Query().Get("authRequestID")
		r, err := late.PostForm(resp.Request.URL.Scheme+"://"+resp.Request.URL.Host+"/login/username",
			url.Values{"id": {id}, "username": {"ada"}, "password": {"idp-password"}})
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		clock.Advance(11 * time.Minute)
		if r := late.get(t, late.callback(t)); r.StatusCode != http.StatusBadRequest {
			t.Errorf("an answer after ten minutes: %d", r.StatusCode)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		var before int
		env.DB.QueryRow(`SELECT COUNT(*) FROM events WHERE type = 'sso.login_failed'`).Scan(&before)
		for name, tc := range map[string]struct {
			email, username string
			status          int
		}{
			"email the provider does not vouch for": {"eve@acme.test", "eve", http.StatusBadRequest},
			"a domain of another organization":      {"ada@acme.test", "mallory", http.StatusBadRequest},
		} {
			b := newBrowser()
			if resp := b.ssoLogin(t, env.URL, tc.email, tc.username); resp.StatusCode != tc.status {
				t.Errorf("%s: %d, want %d", name, resp.StatusCode, tc.status)
			}
			c := env.Client(t)
			c.Client = b.Client
			if r := c.API("GET", "/me", nil); r.StatusCode != 401 {
				t.Errorf("%s: logged in (%d)", name, r.StatusCode)
			}
		}
		var refused int
		env.DB.QueryRow(`SELECT COUNT(*) FROM events WHERE type = 'sso.login_failed'`).Scan(&refused)
		if refused-before != 2 {
			t.Errorf("%d refusals in the audit log, want 2", refused-before)
		}
		b := newBrowser()
		if r := b.get(t, env.URL+"/sso/oidc/callback?state=forged&code=x"); r.StatusCode != http.StatusBadRequest {
			t.Errorf("forged state: %d", r.StatusCode)
		}
		if r := b.get(t, env.URL+"/sso/start?email=someone%40nowhere.test"); r.StatusCode != http.StatusNotFound {
			t.Errorf("a domain nobody verified: %d", r.StatusCode)
		}
	})

	t.Run("a password account is linked only by its owner", func(t *testing.T) {
		if _, err := a.SignUp(ctx, auth.SignupInput{Email: "bob@acme.test", Password: pw, Name: "Bob"}, "", gardien.Client{}); err != nil {
			t.Fatal(err)
		}
		b := newBrowser()
		resp := b.ssoLogin(t, env.URL, "bob@acme.test", "bob")
		if resp.StatusCode != 200 || resp.Request.URL.Path != "/login" || resp.Request.URL.Query().Get("next") != "/sso/link" {
			t.Fatalf("SSO onto a password account: %d at %s", resp.StatusCode, resp.Request.URL)
		}
		c := env.Client(t)
		c.Client = b.Client
		if r := c.API("GET", "/me", nil); r.StatusCode != 401 {
			t.Fatalf("the provider alone logged Bob into his password account: %d", r.StatusCode)
		}
		// Someone else's browser cannot use the link, even logged in as Bob.
		other := newBrowser()
		if r, _ := other.PostForm(env.URL+"/login", url.Values{"email": {"bob@acme.test"}, "password": {pw}, "next": {"/sso/link"}}); r.Request.URL.Path != "/sso/link" || r.StatusCode != http.StatusBadRequest {
			t.Fatalf("another browser at /sso/link: %d at %s", r.StatusCode, r.Request.URL)
		}
		// Bob logs in with his password in the browser that came back, and confirms.
		r, err := b.PostForm(env.URL+"/login", url.Values{"email": {"bob@acme.test"}, "password": {pw}, "next": {"/sso/link"}})
		if err != nil || r.Request.URL.Path != "/sso/link" || r.StatusCode != 200 {
			t.Fatalf("after the password: %v %d at %s", err, r.StatusCode, r.Request.URL)
		}
		if r, err = b.PostForm(env.URL+"/sso/link", nil); err != nil || r.Request.URL.Path != "/" {
			t.Fatalf("confirming: %v at %s", err, r.Request.URL)
		}
		me := c.API("GET", "/me", nil).JSON()
		if me["user"].(map[string]any)["sso"] != true || len(me["organizations"].([]any)) != 1 {
			t.Fatalf("after linking: %v", me)
		}
		if r := env.Client(t).API("POST", "/login", map[string]any{"email": "bob@acme.test", "password": pw}); r.StatusCode != 401 {
			t.Fatalf("the old password still works: %d", r.StatusCode)
		}
		env.Mail.Wait(t, "bob@acme.test") // the validation mail of his sign-up
		if m := env.Mail.Wait(t, "bob@acme.test"); m.Subject != "Your account now logs in through single sign-on" {
			t.Fatalf("mail after linking: %q", m.Subject)
		}
		// And the provider now logs him in.
		if resp := newBrowser().ssoLogin(t, env.URL, "bob@acme.test", "bob"); resp.Request.URL.Path != "/" {
			t.Fatalf("SSO after linking: %d at %s", resp.StatusCode, resp.Request.URL)
		}
	})
}

func TestConnectingSSOThroughThePages(t *testing.T) {
	t.Parallel()
	dns := ssotest.StartDNS(t)
	env, owner, org := ownerWithOrgAt(t, apptest.Setting("GARDIEN_DNS_RESOLVER", dns.Addr))
	issuer := ssotest.StartOP(t, nil)
	sec := org + "/security"
	has(t, owner.Get(sec), "Single sign-on", env.URL+"/sso/oidc/callback", `name="issuer"`)
	r := owner.Form(org+"/sso", map[string]string{"protocol": "oidc", "issuer": "http://127.0.0.1:1", "client_id": "gardien", "client_secret": "s", "domains": "acme.test", "enabled": "on"})
	if r.StatusCode != 422 {
		t.Fatalf("an issuer that cannot be discovered: %d", r.StatusCode)
	}
	has(t, r, `id="f-issuer-error"`, `value="gardien"`)
	wantRedirect(t, owner.Form(org+"/sso", map[string]string{"protocol": "oidc", "issuer": issuer, "client_id": "gardien", "client_secret": "s",
		"domains": "acme.test\nExample.ORG", "enabled": "on"}), sec+"#sso")
	page := owner.Get(sec)
	has(t, page, "Single sign-on saved.", "acme.test", "example.org", "Not verified", "gardien-verification=", "A client secret is set")
	txt := regexp.MustCompile(`gardien-verification=[a-z0-9]+`).FindString(string(page.Body))
	dns.SetTXT("acme.test", txt)
	wantRedirect(t, owner.Form(org+"/sso/domains/acme.test/verify", nil), sec+"#sso")
	has(t, owner.Get(sec), "Domain acme.test verified.")
	wantRedirect(t, owner.Form(org+"/sso/test", nil), sec+"#sso")
	has(t, owner.Get(sec), "The connection works")
	has(t, owner.Get(org+"/sso/delete"), "Remove single sign-on?")
	wantRedirect(t, owner.Form(org+"/sso/delete", nil), sec+"#sso")
	has(t, owner.Get(sec), "Single sign-on removed.")
}
