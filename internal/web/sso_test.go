package web_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/sso/ssotest"
	"github.com/gardien/gardien/internal/totp"
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
		{Username: "carol", Password: "idp-password", Email: "carol@acme.test", EmailVerified: true, Name: "Carol"},
		{Username: "dan", Password: "idp-password", Email: "dan@acme.test", EmailVerified: true, Name: "Dan"},
		{Username: "erin", Password: "idp-password", Email: "erin@acme.test", EmailVerified: true, Name: "Erin"},
	}
	issuer := ssotest.StartOP(t, []ssotest.Client{{ID: "gardien", Secret: "idp-secret", RedirectURI: env.URL + "/sso/oidc/callback"}}, people...)

	// Acme's owner connects the provider and verifies acme.test; Globex
	// verified globex.test with the same provider.
	a := env.App.Auth
	connect := func(owner, domain string) (*gardien.User, int64) {
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
		return su.User, o.ID
	}
	acmeOwner, acme := connect("owner@acme.test", "acme.test")
	connect("owner@globex.test", "globex.test")

	// The login page's first step sends an email of acme.test to its
	// provider (a page that moves on: forms may only post to Gardien).
	if r := env.Client(t).Form("/login", map[string]string{"email": "someone@acme.test"}); r.StatusCode != 200 ||
		!strings.Contains(r.Header.Get("Refresh"), issuer) {
		t.Fatalf("first step of an SSO domain: %d, Refresh %q", r.StatusCode, r.Header.Get("Refresh"))
	}

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
			// Their provider handles the second factor: no Enable 2FA, and
			// the home page does not offer it.
			home := c.Get("/")
			has(t, home, "your identity provider keeps your password and your second factor")
			if strings.Contains(string(home.Body), "Protect your account with two-factor authentication") {
				t.Fatal("an SSO user's home page offers 2FA")
			}
			if pwPage := c.Get("/settings/password"); strings.Contains(string(pwPage.Body), `name="new_password"`) {
				t.Fatal("an SSO user is offered a password change")
			}
			tfa := c.Get("/settings/two-factor")
			has(t, tfa, "it handles your second factor")
			if strings.Contains(string(tfa.Body), `action="/settings/two-factor/enable"`) {
				t.Fatal("an SSO user is offered Gardien's 2FA")
			}
			// Replaying the provider's answer logs nobody in.
			replay := newBrowser()
			if r := replay.get(t, b.callback(t)); r.StatusCode != http.StatusBadRequest {
				t.Fatalf("replayed callback: %d", r.StatusCode)
			}
		}
	})

	t.Run("an invited person arriving through SSO gets the invitation's role while its sender may give it", func(t *testing.T) {
		// Carol is invited as an admin by the owner; Dan as an admin by an
		// admin who is a member again by the time Dan arrives.
		if err := env.App.Store.SetEmailVerified(ctx, acmeOwner.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		acmeOwner.EmailVerified = true
		if _, err := a.Invite(ctx, acmeOwner, acme, "carol@acme.test", gardien.RoleAdmin, gardien.Client{}); err != nil {
			t.Fatal(err)
		}
		ann := &gardien.User{Email: "ann@acme.test"}
		su, err := a.SignUp(ctx, auth.SignupInput{Email: ann.Email, Password: pw, Name: "Ann"}, "", gardien.Client{})
		if err != nil {
			t.Fatal(err)
		}
		ann = su.User
		if err := env.App.Store.SetEmailVerified(ctx, ann.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		ann.EmailVerified = true
		if _, err := a.Invite(ctx, acmeOwner, acme, ann.Email, gardien.RoleAdmin, gardien.Client{}); err != nil {
			t.Fatal(err)
		}
		l, _ := a.LogIn(ctx, ann.Email, pw, "", gardien.Client{})
		invitation := env.Mail.WaitSubject(t, ann.Email, "Owner invites you to join Org of acme.test on Gardien")
		if _, err := a.AcceptInvitation(ctx, l.Session, ann, invitation.Token(), gardien.Client{}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Invite(ctx, ann, acme, "dan@acme.test", gardien.RoleAdmin, gardien.Client{}); err != nil {
			t.Fatal(err)
		}
		if err := a.SetRole(ctx, acmeOwner, acme, ann.ID, gardien.RoleMember, gardien.Client{}); err != nil {
			t.Fatal(err)
		}
		for who, want := range map[string]string{"carol": "admin", "dan": "member"} {
			b := newBrowser()
			if resp := b.ssoLogin(t, env.URL, who+"@acme.test", who); resp.StatusCode != 200 {
				t.Fatalf("%s after the provider: %d", who, resp.StatusCode)
			}
			c := env.Client(t)
			c.Client = b.Client
			orgs := c.API("GET", "/me", nil).JSON()["organizations"].([]any)
			if len(orgs) != 1 || orgs[0].(map[string]any)["role"] != want {
				t.Errorf("%s joined as %v, want %s", who, orgs, want)
			}
		}
		if invs, _ := a.Invitations(ctx, acmeOwner, acme); len(invs) != 0 {
			t.Fatalf("invitations still pending after their people joined: %+v", invs)
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

	t.Run("an answer counts only in the browser that started its login (login CSRF)", func(t *testing.T) {
		// Mallory starts a login as herself and holds the provider's answer;
		// a victim, logged in with a password account, opens it (a link, an
		// <img>): nobody is logged in, the victim stays who they are.
		if _, err := a.SignUp(ctx, auth.SignupInput{Email: "victim@elsewhere.test", Password: pw, Name: "Victim"}, "", gardien.Client{}); err != nil {
			t.Fatal(err)
		}
		victim := newBrowser()
		if r, err := victim.PostForm(env.URL+"/login", url.Values{"email": {"victim@elsewhere.test"}, "password": {pw}}); err != nil || r.Request.URL.Path != "/" {
			t.Fatalf("the victim's login: %v", err)
		}
		attacker := newBrowser()
		attacker.holdAnswer = true
		attacker.ssoLogin(t, env.URL, "ada@acme.test", "ada")
		if r := victim.get(t, attacker.callback(t)); r.StatusCode != http.StatusBadRequest {
			t.Errorf("another browser's answer: %d at %s", r.StatusCode, r.Request.URL)
		}
		c := env.Client(t)
		c.Client = victim.Client
		if me := c.API("GET", "/me", nil).JSON(); me["user"] == nil || me["user"].(map[string]any)["email"] != "victim@elsewhere.test" {
			t.Fatalf("the victim's session after the attacker's answer: %v", me)
		}
		var reason string
		env.DB.QueryRow(`SELECT detail FROM events WHERE type = 'sso.login_failed' ORDER BY id DESC LIMIT 1`).Scan(&reason)
		if !strings.Contains(reason, "other_browser") {
			t.Errorf("the refusal's audit line: %s", reason)
		}
	})

	t.Run("a provider's error reaches the audit log as one of the protocol's codes", func(t *testing.T) {
		for sent, want := range map[string]string{
			"access_denied": `"error":"access_denied"`,
			"Your account is locked. Call +1 555 0100 to unlock it: https://evil.example/": `"error":"other"`,
		} {
			b := newBrowser()
			b.get(t, env.URL+"/sso/start?email=ada%40acme.test")
			var state string
			for _, v := range b.visited {
				if u, _ := url.Parse(v); u.Query().Get("state") != "" {
					state = u.Query().Get("state")
				}
			}
			q := url.Values{"state": {state}, "error": {sent}, "error_description": {sent}}
			if r := b.get(t, env.URL+"/sso/oidc/callback?"+q.Encode()); r.StatusCode != http.StatusBadRequest {
				t.Errorf("an error from the provider: %d", r.StatusCode)
			}
			var detail string
			env.DB.QueryRow(`SELECT detail FROM events WHERE type = 'sso.login_failed' ORDER BY id DESC LIMIT 1`).Scan(&detail)
			if !strings.Contains(detail, want) || strings.Contains(detail, "555") {
				t.Errorf("the audit line of %q: %s", sent, detail)
			}
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
		// Bob was invited as an admin: linked, he is one.
		if err := env.App.Store.SetEmailVerified(ctx, acmeOwner.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		acmeOwner.EmailVerified = true
		if _, err := a.Invite(ctx, acmeOwner, acme, "bob@acme.test", gardien.RoleAdmin, gardien.Client{}); err != nil {
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
		if me["user"].(map[string]any)["email_verified"] != true {
			t.Fatalf("the provider vouched for Bob's email, still not validated: %v", me)
		}
		if me["user"].(map[string]any)["sso"] != true || len(me["organizations"].([]any)) != 1 ||
			me["organizations"].([]any)[0].(map[string]any)["role"] != "admin" {
			t.Fatalf("after linking: %v", me)
		}
		if r := env.Client(t).API("POST", "/login", map[string]any{"email": "bob@acme.test", "password": pw}); r.StatusCode != 401 {
			t.Fatalf("the old password still works: %d", r.StatusCode)
		}
		env.Mail.WaitSubject(t, "bob@acme.test", "Your account now logs in through single sign-on")
		// And the provider now logs him in.
		if resp := newBrowser().ssoLogin(t, env.URL, "bob@acme.test", "bob"); resp.Request.URL.Path != "/" {
			t.Fatalf("SSO after linking: %d at %s", resp.StatusCode, resp.Request.URL)
		}
	})

	t.Run("where SSO is required, a password account is linked in the browser back from the provider", func(t *testing.T) {
		// Erin had a password account with 2FA before Acme required SSO.
		erin := verifiedClient(t, env, "erin@acme.test")
		secret := withTwoFactor(t, erin, clock)
		if _, err := env.DB.Exec(env.Q(`UPDATE sso_connections SET require_sso = ? WHERE org_id = ?`), true, acme); err != nil {
			t.Fatal(err)
		}
		defer env.DB.Exec(env.Q(`UPDATE sso_connections SET require_sso = ? WHERE org_id = ?`), false, acme)
		// Elsewhere her password opens nothing.
		if r, _ := newBrowser().PostForm(env.URL+"/login", url.Values{"email": {"erin@acme.test"}, "password": {pw}}); r.StatusCode != http.StatusForbidden {
			t.Fatalf("a password login where SSO is required: %d at %s", r.StatusCode, r.Request.URL)
		}
		b := newBrowser()
		if r := b.ssoLogin(t, env.URL, "erin@acme.test", "erin"); r.Request.URL.Path != "/login" {
			t.Fatalf("SSO onto a password account: %d at %s", r.StatusCode, r.Request.URL)
		}
		r, err := b.PostForm(env.URL+"/login", url.Values{"email": {"erin@acme.test"}, "password": {pw}, "next": {"/sso/link"}})
		if err != nil || r.Request.URL.Path != "/login/two-factor" {
			t.Fatalf("her password in the browser back from the provider: %v at %s", err, r.Request.URL)
		}
		// Before her code, the session tells only what the code step needs.
		pending := env.Client(t)
		pending.Client = b.Client
		if me := pending.API("GET", "/me", nil).JSON(); me["session"].(map[string]any)["status"] != "two_factor_required" || len(me["user"].(map[string]any)) != 1 {
			t.Fatalf("GET /me before her code: %v", me)
		}
		clock.Advance(31 * time.Second) // the activation used the current code
		code := totp.Code(secret, totp.Step(clock.Now()), otp.DigitsSix)
		if r, err = b.PostForm(env.URL+"/login/two-factor", url.Values{"code": {code}, "next": {"/sso/link"}}); err != nil || r.Request.URL.Path != "/sso/link" || r.StatusCode != 200 {
			t.Fatalf("after her code: %v %d at %s", err, r.StatusCode, r.Request.URL)
		}
		// That session may only confirm the link.
		if r := b.get(t, env.URL+"/settings/profile"); r.Request.URL.Path != "/sso/link" {
			t.Errorf("a link-only session reached %s", r.Request.URL)
		}
		c := env.Client(t)
		c.Client = b.Client
		if r := c.API("GET", "/organizations", nil); r.StatusCode != http.StatusForbidden {
			t.Errorf("a link-only session in the API: %d", r.StatusCode)
		}
		if st := c.API("GET", "/me", nil).JSON()["session"].(map[string]any)["status"]; st != "sso_link_required" {
			t.Errorf("a link-only session's status: %v", st)
		}
		if r, err = b.PostForm(env.URL+"/sso/link", nil); err != nil || r.Request.URL.Path != "/" {
			t.Fatalf("confirming: %v at %s", err, r.Request.URL)
		}
		if me := c.API("GET", "/me", nil).JSON(); me["user"].(map[string]any)["sso"] != true || me["session"].(map[string]any)["status"] != "ok" {
			t.Fatalf("after linking: %v", me)
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
	// The rest of the form stays as typed.
	has(t, r, `id="f-issuer-error"`, `value="gardien"`, `value="http://127.0.0.1:1"`, ">acme.test</textarea>", `name="enabled" value="on" checked`)
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

var (
	formAction = regexp.MustCompile(`<form[^>]*action="([^"]+)"`)
	formInput  = regexp.MustCompile(`<input[^>]*name="(\w+)"[^>]*value="([^"]*)"`)
)

// postForm reads the first form of an HTML page and posts it with extra
// fields set, as a browser would (with its Origin).
func (b *browser) postForm(t *testing.T, page *http.Response, body string, extra url.Values) *http.Response {
	t.Helper()
	m := formAction.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no form in:\n%s", body)
	}
	action, _ := page.Request.URL.Parse(html.UnescapeString(m[1]))
	v := url.Values{}
	for _, in := range formInput.FindAllStringSubmatch(body, -1) {
		v.Set(in[1], html.UnescapeString(in[2]))
	}
	for k, x := range extra {
		v[k] = x
	}
	req, _ := http.NewRequest(http.MethodPost, action.String(), strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", page.Request.URL.Scheme+"://"+page.Request.URL.Host)
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func readBody(t *testing.T, r *http.Response) string {
	t.Helper()
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLoggingInThroughSAML(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	idp := ssotest.StartSAMLIdP(t, ssotest.OPUser{Username: "ada", Password: "idp-password", Email: "ada@acme.test", Name: "Ada Lovelace"})
	_, orgID := samlOrg(t, env, idp.MetadataURL, crewjamTrust(t, idp))

	// login follows the whole SAML path; it returns the IdP's answer page
	// (to post to Gardien's ACS) and the browser.
	answer := func(t *testing.T) (*browser, *http.Response, string) {
		b := newBrowser()
		page := b.get(t, env.URL+"/sso/start?email=ada%40acme.test")
		if page.Request.URL.Host == strings.TrimPrefix(env.URL, "http://") {
			t.Fatalf("not sent to the IdP: %s", page.Request.URL)
		}
		resp, err := b.Get(page.Request.URL.String())
		if err != nil {
			t.Fatal(err)
		}
		login := readBody(t, resp)
		resp = b.postForm(t, resp, login, url.Values{"user": {"ada"}, "password": {"idp-password"}})
		return b, resp, readBody(t, resp)
	}

	t.Run("first arrival, then again", func(t *testing.T) {
		for range 2 {
			b, idpPage, body := answer(t)
			resp := b.postForm(t, idpPage, body, nil)
			resp.Body.Close()
			if resp.Request.URL.Path != "/" || resp.StatusCode != 200 {
				t.Fatalf("after the ACS: %d at %s", resp.StatusCode, resp.Request.URL)
			}
			c := env.Client(t)
			c.Client = b.Client
			me := c.API("GET", "/me", nil).JSON()
			if me["user"].(map[string]any)["sso"] != true || !strings.HasPrefix(me["session"].(map[string]any)["sso"].(string), "saml") {
				t.Fatalf("me after SAML: %v", me)
			}
		}
	})

	t.Run("an answer counts only in the browser that started its login (login CSRF)", func(t *testing.T) {
		// The attacker's own answer, posted cross-site by a victim's
		// browser to the ACS: checked, but the victim's browser did not
		// start the login, so nobody is logged in there.
		_, idpPage, body := answer(t)
		victim := newBrowser()
		r := victim.postForm(t, idpPage, body, nil)
		r.Body.Close()
		if r.StatusCode != http.StatusBadRequest {
			t.Errorf("another browser's answer: %d at %s", r.StatusCode, r.Request.URL)
		}
		c := env.Client(t)
		c.Client = victim.Client
		if r := c.API("GET", "/me", nil); r.StatusCode != 401 {
			t.Errorf("the attacker's answer logged the victim's browser in: %d", r.StatusCode)
		}
	})

	t.Run("a replayed, tampered or misdirected answer is refused", func(t *testing.T) {
		b, idpPage, body := answer(t)
		if r := b.postForm(t, idpPage, body, nil); r.StatusCode != 200 {
			t.Fatalf("the answer itself: %d", r.StatusCode)
		}
		if r := newBrowser().postForm(t, idpPage, body, nil); r.StatusCode != http.StatusBadRequest {
			t.Errorf("replayed: %d", r.StatusCode)
		}
		b, idpPage, body = answer(t)
		m := formInput.FindAllStringSubmatch(body, -1)
		var resp string
		for _, in := range m {
			if in[1] == "SAMLResponse" {
				resp = html.UnescapeString(in[2])
			}
		}
		raw, _ := base64.StdEncoding.DecodeString(resp)
		// (The assertion is encrypted for Gardien; a change to the signed
		// response around it must be caught all the same.)
		forged := strings.Replace(string(raw), `IssueInstant="2`, `IssueInstant="1`, 1)
		if forged == string(raw) {
			t.Fatal("no IssueInstant in the answer")
		}
		if r := b.postForm(t, idpPage, body, url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString([]byte(forged))}}); r.StatusCode != http.StatusBadRequest {
			t.Errorf("tampered: %d", r.StatusCode)
		}
		b, idpPage, body = answer(t)
		acs := strings.Replace(formAction.FindStringSubmatch(body)[1], fmt.Sprintf("/sso/saml/%d/", orgID), "/sso/saml/999999/", 1)
		misdirected := strings.Replace(body, formAction.FindStringSubmatch(body)[1], acs, 1)
		if r := b.postForm(t, idpPage, misdirected, nil); r.StatusCode != http.StatusBadRequest {
			t.Errorf("at another organization's ACS: %d", r.StatusCode)
		}
	})
}

func TestConnectingSAMLThroughThePages(t *testing.T) {
	t.Parallel()
	env, owner, org := ownerWithOrgAt(t)
	idp := ssotest.StartSAMLIdP(t)
	r := owner.Form(org+"/sso", map[string]string{"protocol": "saml", "idp_metadata_url": idp.MetadataURL, "idp_metadata_xml": "", "domains": "acme.test", "enabled": "on"})
	if r.StatusCode != 303 {
		t.Fatalf("saving SAML: %d\n%s", r.StatusCode, r.Body)
	}
	page := owner.Get(org + "/security")
	has(t, page, "Single sign-on saved.", env.URL+"/sso/saml/", "1. Your email domains", "2. Your identity provider", "3. Test", "4. Turn it on",
		// Where each TXT record goes, and each value in the consoles.
		"as a TXT record on acme.test itself", "Audience URI (SP Entity ID)", "Reply URL (Assertion Consumer Service URL)",
		// What is stored of the provider's metadata.
		"The identity provider&#39;s metadata is saved:", "its signing certificate is valid until")
	// The test is allowed before the domain is verified: it tests the
	// provider, and says what is left.
	wantRedirect(t, owner.Form(org+"/sso/test", nil), org+"/security#sso")
	has(t, owner.Get(org+"/security"), "The identity provider answers as it should. Left to do: verify an email domain")
	// Saved again unchanged, without giving the metadata again: it stays.
	if r := owner.Form(org+"/sso", map[string]string{"protocol": "saml", "idp_metadata_url": "", "idp_metadata_xml": "", "domains": "acme.test", "enabled": "on"}); r.StatusCode != 303 {
		t.Fatalf("saving SAML again without its metadata: %d\n%s", r.StatusCode, r.Body)
	}
	has(t, owner.Get(org+"/security"), "The identity provider&#39;s metadata is saved:")
	// Pasted metadata that is refused comes back in its field.
	r = owner.Form(org+"/sso", map[string]string{"protocol": "saml", "idp_metadata_url": "", "idp_metadata_xml": "<EntityDescriptor>not metadata</EntityDescriptor>", "domains": "acme.test"})
	has(t, r, "&lt;EntityDescriptor&gt;not metadata&lt;/EntityDescriptor&gt;</textarea>")
}

// What Gardien checks of an ID token, each against a provider whose token
// endpoint misbehaves in one way (re-signing with its own key where the
// signature is not the point).
func TestTamperedIDTokensAreRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, tamper := range map[string]ssotest.TamperIDToken{
		"signature": func(raw string, _ func(map[string]any) string) string {
			// Another base64url character: the signature's bytes change, the
			// token stays well-formed.
			b := []byte(raw)
			if b[len(b)-5] == 'A' {
				b[len(b)-5] = 'B'
			} else {
				b[len(b)-5] = 'A'
			}
			return string(b)
		},
		"audience": func(raw string, sign func(map[string]any) string) string {
			c := ssotest.Claims(raw)
			c["aud"] = []string{"another-client"}
			return sign(c)
		},
		"issuer": func(raw string, sign func(map[string]any) string) string {
			c := ssotest.Claims(raw)
			c["iss"] = "https://elsewhere.example"
			return sign(c)
		},
		"expiry": func(raw string, sign func(map[string]any) string) string {
			c := ssotest.Claims(raw)
			c["exp"] = time.Now().Add(-time.Hour).Unix()
			return sign(c)
		},
		"nonce": func(raw string, sign func(map[string]any) string) string {
			c := ssotest.Claims(raw)
			c["nonce"] = "a-nonce-of-another-login"
			return sign(c)
		},
		"untouched (the control)": nil,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := apptest.Start(t)
			issuer := ssotest.StartTamperedOP(t, tamper, []ssotest.Client{{ID: "gardien", Secret: "idp-secret", RedirectURI: env.URL + "/sso/oidc/callback"}},
				ssotest.OPUser{Username: "ada", Password: "idp-password", Email: "ada@acme.test", EmailVerified: true})
			a := env.App.Auth
			su, err := a.SignUp(ctx, auth.SignupInput{Email: "owner@acme.test", Password: pw, Name: "Owner"}, "", gardien.Client{})
			if err != nil {
				t.Fatal(err)
			}
			o, _ := a.CreateOrganization(ctx, su.User, "Acme", gardien.Client{})
			secret := "idp-secret"
			if _, err := a.SaveSSO(ctx, su.User, o.ID, auth.SSOInput{Protocol: "oidc", Enabled: true, Domains: []string{"acme.test"},
				Issuer: issuer, ClientID: "gardien", ClientSecret: &secret}, gardien.Client{}); err != nil {
				t.Fatal(err)
			}
			if err := a.OperatorVerifySSODomain(ctx, o.ID, "acme.test", "root"); err != nil {
				t.Fatal(err)
			}
			resp := newBrowser().ssoLogin(t, env.URL, "ada@acme.test", "ada")
			want := http.StatusBadRequest
			if tamper == nil {
				want = http.StatusOK
			}
			if resp.StatusCode != want {
				t.Fatalf("an ID token with a wrong %s: %d at %s, want %d", name, resp.StatusCode, resp.Request.URL, want)
			}
			if tamper != nil {
				cause := map[string]string{"signature": "signature", "audience": "audience", "issuer": "issuer", "expiry": "expired", "nonce": "nonce"}[name]
				var detail string
				env.DB.QueryRow(`SELECT detail FROM events WHERE type = 'sso.login_failed' ORDER BY id DESC LIMIT 1`).Scan(&detail)
				if !strings.Contains(detail, `"cause":"`+cause+`"`) {
					t.Errorf("the audit line: %s, want cause %s", detail, cause)
				}
			}
		})
	}
}

// samlOrg connects a new organization to the IdP of metadataURL
// (acme.test, verified by the operator) and gives Gardien's SP metadata to
// trust; it returns the owner's account and the organization's ID.
func samlOrg(t *testing.T, env *apptest.Env, metadataURL string, trust func(spMetadata []byte)) (*gardien.User, int64) {
	t.Helper()
	ctx := context.Background()
	a := env.App.Auth
	su, err := a.SignUp(ctx, auth.SignupInput{Email: "owner@acme.test", Password: pw, Name: "Owner"}, "", gardien.Client{})
	if err != nil {
		t.Fatal(err)
	}
	o, err := a.CreateOrganization(ctx, su.User, "Acme", gardien.Client{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.SaveSSO(ctx, su.User, o.ID, auth.SSOInput{Protocol: "saml", Enabled: true, Domains: []string{"acme.test"},
		IDPMetadataURL: metadataURL}, gardien.Client{}); err != nil {
		t.Fatal(err)
	}
	if err := a.OperatorVerifySSODomain(ctx, o.ID, "acme.test", "root"); err != nil {
		t.Fatal(err)
	}
	md := env.Client(t).Get(fmt.Sprintf("/sso/saml/%d/metadata", o.ID))
	if md.StatusCode != 200 || !strings.Contains(string(md.Body), "AssertionConsumerService") {
		t.Fatalf("SP metadata: %d %s", md.StatusCode, md.Body)
	}
	trust(md.Body)
	return su.User, o.ID
}

// crewjamTrust is trust for crewjam's IdP.
func crewjamTrust(t *testing.T, idp *ssotest.SAMLIdP) func([]byte) {
	return func(md []byte) { idp.Trust(t, "gardien", md) }
}

// samlLogin logs ada in through the IdP, in a new browser, and returns the
// browser and Gardien's last answer; hold runs before the browser posts
// the IdP's answer to Gardien.
func samlLogin(t *testing.T, env *apptest.Env, hold func()) (*browser, *http.Response) {
	t.Helper()
	b := newBrowser()
	page := b.get(t, env.URL+"/sso/start?email=ada%40acme.test")
	resp, err := b.Get(page.Request.URL.String())
	if err != nil {
		t.Fatal(err)
	}
	login := readBody(t, resp)
	resp = b.postForm(t, resp, login, url.Values{"user": {"ada"}, "password": {"idp-password"}})
	answer := readBody(t, resp)
	hold()
	last := b.postForm(t, resp, answer, nil)
	last.Body.Close()
	return b, last
}

func TestSAMLAnswersAreCheckedWithTheProvidersClockAndCrypto(t *testing.T) {
	t.Parallel()
	ada := ssotest.OPUser{Username: "ada", Password: "idp-password", Email: "ada@acme.test", Name: "Ada Lovelace"}
	for name, tc := range map[string]struct {
		idp   ssotest.SAMLIdPOptions
		held  time.Duration // how long the browser holds the answer
		cause string        // "" = logged in
	}{
		// ±3 minutes either way (the IdP checks Gardien's request with
		// the same tolerances, so its clock cannot be off by more).
		"an IdP 170 s behind":               {ssotest.SAMLIdPOptions{ClockOffset: -170 * time.Second}, 0, ""},
		"an IdP 170 s ahead":                {ssotest.SAMLIdPOptions{ClockOffset: 170 * time.Second}, 0, ""},
		"an IdP 4 minutes ahead":            {ssotest.SAMLIdPOptions{ClockOffset: 4 * time.Minute}, 0, "not_yet_valid"},
		"an answer held back for 5 minutes": {ssotest.SAMLIdPOptions{}, 5 * time.Minute, "expired"},
		"an answer signed in SHA-1":         {ssotest.SAMLIdPOptions{SignatureMethod: dsig.RSASHA1SignatureMethod}, 0, "weak_crypto"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clock := apptest.NewClock()
			env := apptest.Start(t, apptest.WithClock(clock))
			idp := ssotest.StartSAMLIdPWith(t, tc.idp, ada)
			owner, org := samlOrg(t, env, idp.MetadataURL, crewjamTrust(t, idp))
			b, resp := samlLogin(t, env, func() { clock.Advance(tc.held) })
			c := env.Client(t)
			c.Client = b.Client
			loggedIn := c.API("GET", "/me", nil).StatusCode == 200
			if tc.cause == "" {
				if resp.StatusCode != 200 || !loggedIn {
					t.Fatalf("refused: %d at %s", resp.StatusCode, resp.Request.URL)
				}
				return
			}
			if resp.StatusCode != http.StatusBadRequest || loggedIn {
				t.Fatalf("accepted: %d at %s", resp.StatusCode, resp.Request.URL)
			}
			var detail string
			env.DB.QueryRow(`SELECT detail FROM events WHERE type = 'sso.login_failed' ORDER BY id DESC LIMIT 1`).Scan(&detail)
			if !strings.Contains(detail, `"cause":"`+tc.cause+`"`) {
				t.Errorf("the audit line: %s, want cause %s", detail, tc.cause)
			}
			// The connection test tells the owner what the last login met.
			test, err := env.App.Auth.TestSSO(context.Background(), owner, org)
			if err != nil || len(test.Problems) != 1 || test.Problems[0].Cause != tc.cause {
				t.Errorf("the connection test: %+v %v", test, err)
			}
		})
	}
}

// A provider whose only signing key is RSA-1024 is refused when saved, at
// the connection test and at login (metadata saved before this check).
func TestASAMLProviderWithAWeakKeyIsNotTrusted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apptest.Start(t)
	strong := ssotest.StartSAMLIdP(t, ssotest.OPUser{Username: "ada", Password: "idp-password", Email: "ada@acme.test"})
	weak := ssotest.StartSAMLIdPWith(t, ssotest.SAMLIdPOptions{KeyBits: 1024}, ssotest.OPUser{Username: "ada", Password: "idp-password", Email: "ada@acme.test"})
	owner, org := samlOrg(t, env, strong.MetadataURL, crewjamTrust(t, strong))
	_, err := env.App.Auth.SaveSSO(ctx, owner, org, auth.SSOInput{Protocol: "saml", Enabled: true, Domains: []string{"acme.test"},
		IDPMetadataURL: weak.MetadataURL}, gardien.Client{})
	if e, _ := gardien.AsError(err); e == nil || len(e.Fields) != 1 || e.Fields[0].Message != "err.sso_weak_key" {
		t.Fatalf("saving a provider with a 1024-bit key: %v", err)
	}
	resp, _ := http.Get(weak.MetadataURL)
	md := readBody(t, resp)
	if _, err := env.DB.Exec(env.Q(`UPDATE sso_connections SET idp_metadata_xml = ? WHERE org_id = ?`), md, org); err != nil {
		t.Fatal(err)
	}
	test, err := env.App.Auth.TestSSO(ctx, owner, org)
	if err != nil || len(test.Problems) != 1 || test.Problems[0].Key != "sso.problem_weak_key" {
		t.Fatalf("the connection test: %+v %v", test, err)
	}
	if r := newBrowser().get(t, env.URL+"/sso/start?email=ada%40acme.test"); r.Request.URL.Host != strings.TrimPrefix(env.URL, "http://") || r.StatusCode != http.StatusBadRequest {
		t.Fatalf("a login through it: %d at %s", r.StatusCode, r.Request.URL)
	}
}

// An IdP-initiated login (a dashboard tile) is refused unless the
// connection accepts them; then it logs in, each answer once.
func TestSAMLLoginsTheIdentityProviderStarts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apptest.Start(t)
	idp := ssotest.StartSAMLIdP(t, ssotest.OPUser{Username: "ada", Password: "idp-password", Email: "ada@acme.test", Name: "Ada"})
	owner, org := samlOrg(t, env, idp.MetadataURL, crewjamTrust(t, idp))
	idp.Shortcut(t, "gardien", fmt.Sprintf("%s/sso/saml/%d/metadata", env.URL, org))
	// tile logs in at the IdP from its dashboard's tile and returns the
	// page that posts its answer to Gardien.
	tile := func(b *browser) (*http.Response, string) {
		resp, err := b.Get(idp.URL + "/login/gardien")
		if err != nil {
			t.Fatal(err)
		}
		login := readBody(t, resp)
		// Logged in at the IdP, the tile again: the IdP posts its answer.
		readBody(t, b.postForm(t, resp, login, url.Values{"user": {"ada"}, "password": {"idp-password"}}))
		if resp, err = b.Get(idp.URL + "/login/gardien"); err != nil {
			t.Fatal(err)
		}
		return resp, readBody(t, resp)
	}
	b := newBrowser()
	page, answer := tile(b)
	r := b.postForm(t, page, answer, nil)
	if body := readBody(t, r); r.StatusCode != http.StatusBadRequest || !strings.Contains(body, "started from its identity provider") {
		t.Fatalf("a tile's login while the connection does not accept them: %d at %s", r.StatusCode, r.Request.URL)
	}
	c, err := env.App.Auth.SSO(ctx, owner, org)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Auth.SaveSSO(ctx, owner, org, auth.SSOInput{Protocol: "saml", Enabled: true, Domains: []string{"acme.test"},
		IDPMetadataXML: c.IDPMetadataXML, IdPInitiated: true}, gardien.Client{}); err != nil {
		t.Fatal(err)
	}
	b = newBrowser()
	page, answer = tile(b)
	if r := b.postForm(t, page, answer, nil); r.StatusCode != 200 || r.Request.URL.Path != "/" {
		t.Fatalf("a tile's login: %d at %s", r.StatusCode, r.Request.URL)
	}
	me := env.Client(t)
	me.Client = b.Client
	if got := me.API("GET", "/me", nil).JSON()["user"].(map[string]any)["email"]; got != "ada@acme.test" {
		t.Fatalf("logged in as %v", got)
	}
	// The same answer, posted again (another browser, an attacker's replay).
	if r := newBrowser().postForm(t, page, answer, nil); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("a replayed tile answer: %d at %s", r.StatusCode, r.Request.URL)
	}
}

var forms = regexp.MustCompile(`(?s)<form.*?</form>`)

// postFormWith posts the form of page that has a field named field.
func (b *browser) postFormWith(t *testing.T, page *http.Response, body, field string, extra url.Values) *http.Response {
	t.Helper()
	for _, f := range forms.FindAllString(body, -1) {
		if strings.Contains(f, `name="`+field+`"`) {
			return b.postForm(t, page, f, extra)
		}
	}
	t.Fatalf("no form with %s at %s:\n%s", field, page.Request.URL, body)
	return nil
}

// Debian's SimpleSAMLphp, a SAML IdP not written with Gardien's libraries:
// a login through it (its assertions encrypted for Gardien), and what is
// refused.
func TestLoggingInThroughSimpleSAMLphp(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	idp := ssotest.StartSimpleSAMLphp(t, ssotest.OPUser{Username: "ada", Password: "idp-password", Email: "ada@acme.test", Name: "Ada Lovelace"})
	samlOrg(t, env, idp.MetadataURL, func(md []byte) { idp.Trust(t, md) })

	// answer logs ada in at SimpleSAMLphp; it returns the page that posts
	// its answer to Gardien, and the answer.
	answer := func(t *testing.T, b *browser) (*http.Response, string, string) {
		t.Helper()
		resp, err := b.Get(env.URL + "/sso/start?email=ada%40acme.test")
		if err != nil {
			t.Fatal(err)
		}
		login := readBody(t, resp)
		resp = b.postFormWith(t, resp, login, "password", url.Values{"username": {"ada"}, "password": {"idp-password"}})
		page := readBody(t, resp)
		var samlResponse string
		for _, in := range formInput.FindAllStringSubmatch(page, -1) {
			if in[1] == "SAMLResponse" {
				samlResponse = html.UnescapeString(in[2])
			}
		}
		if samlResponse == "" {
			t.Fatalf("no SAMLResponse at %s:\n%s", resp.Request.URL, page)
		}
		return resp, page, samlResponse
	}

	b := newBrowser()
	page, body, samlResponse := answer(t, b)
	raw, _ := base64.StdEncoding.DecodeString(samlResponse)
	if !strings.Contains(string(raw), "EncryptedAssertion") {
		t.Errorf("the assertion is not encrypted for Gardien:\n%s", raw)
	}
	r := b.postFormWith(t, page, body, "SAMLResponse", nil)
	r.Body.Close()
	if r.StatusCode != 200 || r.Request.URL.Path != "/" {
		t.Fatalf("after SimpleSAMLphp: %d at %s", r.StatusCode, r.Request.URL)
	}
	c := env.Client(t)
	c.Client = b.Client
	me := c.API("GET", "/me", nil).JSON()
	if u := me["user"].(map[string]any); u["email"] != "ada@acme.test" || u["name"] != "Ada Lovelace" || u["sso"] != true {
		t.Fatalf("me after SimpleSAMLphp: %v", me)
	}
	// Replayed, from another browser: refused.
	if r := newBrowser().postFormWith(t, page, body, "SAMLResponse", nil); r.StatusCode != http.StatusBadRequest {
		t.Errorf("a replayed answer: %d at %s", r.StatusCode, r.Request.URL)
	}
	// A fresh answer posted by a victim's browser (login CSRF): nobody is
	// logged in there.
	_, body, _ = answer(t, newBrowser())
	victim := newBrowser()
	if r := victim.postFormWith(t, page, body, "SAMLResponse", nil); r.StatusCode != http.StatusBadRequest {
		t.Errorf("an answer posted by another browser: %d at %s", r.StatusCode, r.Request.URL)
	}
	// Tampered: refused, its cause in the audit log.
	b = newBrowser()
	page, body, samlResponse = answer(t, b)
	raw, _ = base64.StdEncoding.DecodeString(samlResponse)
	forged := strings.Replace(string(raw), `Destination="`, `Destination="https://elsewhere.example/`, 1)
	if r := b.postFormWith(t, page, body, "SAMLResponse", url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString([]byte(forged))}}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("a tampered answer: %d at %s", r.StatusCode, r.Request.URL)
	}
	var detail string
	env.DB.QueryRow(`SELECT detail FROM events WHERE type = 'sso.login_failed' ORDER BY id DESC LIMIT 1`).Scan(&detail)
	if !strings.Contains(detail, `"cause":"signature"`) && !strings.Contains(detail, `"cause":"recipient"`) {
		t.Errorf("the tampered answer's audit line: %s", detail)
	}
	// SimpleSAMLphp found nothing to complain of (it logs an error for a
	// NameID format it was asked for and does not give).
	if log := idp.Log(); strings.Contains(log, "ERROR") || strings.Contains(log, "Error") {
		t.Errorf("SimpleSAMLphp logged errors:\n%s", log)
	}
}

// SimpleSAMLphp made to sign in SHA-1: its answers are refused, and say so.
func TestSimpleSAMLphpSigningInSHA1IsRefused(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	idp := ssotest.StartSimpleSAMLphpSigning(t, "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
		ssotest.OPUser{Username: "ada", Password: "idp-password", Email: "ada@acme.test", Name: "Ada Lovelace"})
	samlOrg(t, env, idp.MetadataURL, func(md []byte) { idp.Trust(t, md) })
	b := newBrowser()
	resp, err := b.Get(env.URL + "/sso/start?email=ada%40acme.test")
	if err != nil {
		t.Fatal(err)
	}
	resp = b.postFormWith(t, resp, readBody(t, resp), "password", url.Values{"username": {"ada"}, "password": {"idp-password"}})
	if r := b.postFormWith(t, resp, readBody(t, resp), "SAMLResponse", nil); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("an answer signed in SHA-1: %d at %s", r.StatusCode, r.Request.URL)
	}
	var detail string
	env.DB.QueryRow(`SELECT detail FROM events WHERE type = 'sso.login_failed' ORDER BY id DESC LIMIT 1`).Scan(&detail)
	if !strings.Contains(detail, `"cause":"weak_crypto"`) {
		t.Errorf("the audit line: %s", detail)
	}
}
