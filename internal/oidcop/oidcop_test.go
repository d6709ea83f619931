package oidcop_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/sso/ssotest"
)

// relyingParty is an app: go-oidc and x/oauth2 (not code of ours), and its
// redirect URI on loopback, which records what the browser brings.
type relyingParty struct {
	t        testing.TB
	provider *oidc.Provider
	conf     oauth2.Config
	verifier *oidc.IDTokenVerifier
	callback string
	clientID string
	appID    string
}

func newRP(t testing.TB, env *apptest.Env, owner *apptest.Person, org string, settings map[string]any) *relyingParty {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("app")) }))
	t.Cleanup(srv.Close)
	body := map[string]any{"name": "Wiki", "type": "web", "redirect_uris": []string{srv.URL + "/cb"},
		"post_logout_redirect_uris": []string{srv.URL + "/bye"}}
	for k, v := range settings {
		body[k] = v
	}
	app := apptest.MustAPI(t, owner.C, "POST", org+"/apps", body)["app"].(map[string]any)
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, env.URL)
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := app["client_secret"].(string)
	rp := &relyingParty{t: t, provider: provider, callback: srv.URL + "/cb", clientID: app["client_id"].(string), appID: fmt.Sprint(app["id"])}
	rp.conf = oauth2.Config{ClientID: rp.clientID, ClientSecret: secret, Endpoint: provider.Endpoint(),
		RedirectURL: srv.URL + "/cb", Scopes: []string{oidc.ScopeOpenID, "email", "profile", oidc.ScopeOfflineAccess}}
	rp.verifier = provider.Verifier(&oidc.Config{ClientID: rp.clientID, SupportedSigningAlgs: []string{"RS256", "ES256"}})
	return rp
}

// start is a sign-in the app begins: its URL's path at Gardien, and what
// the app keeps to finish it.
type start struct {
	path, state, nonce, verifier string
}

func (rp *relyingParty) start(extra ...oauth2.AuthCodeOption) start {
	s := start{state: oauth2.GenerateVerifier(), nonce: oauth2.GenerateVerifier(), verifier: oauth2.GenerateVerifier()}
	opts := append([]oauth2.AuthCodeOption{oidc.Nonce(s.nonce), oauth2.S256ChallengeOption(s.verifier)}, extra...)
	u, _ := url.Parse(rp.conf.AuthCodeURL(s.state, opts...))
	s.path = u.RequestURI()
	return s
}

// follow follows a browser's redirects within Gardien; it stops at a page
// (returned) or at a redirect out of Gardien (its URL returned).
func follow(t testing.TB, c *apptest.Client, path string) (*apptest.Response, *url.URL) {
	t.Helper()
	r := c.Get(path)
	for i := 0; i < 20 && r.StatusCode >= 300 && r.StatusCode < 400; i++ {
		loc, err := r.Location()
		if err != nil {
			t.Fatal(err)
		}
		if loc.Host != strings.TrimPrefix(c.Base, "http://") {
			return r, loc
		}
		r = c.Get(loc.RequestURI())
	}
	return r, nil
}

// onward is where a form's answer sends the browser: its redirect, or the
// page that moves on by itself (a sign-in to an app goes on that way).
func onward(t testing.TB, r *apptest.Response) *url.URL {
	t.Helper()
	if loc, err := r.Location(); err == nil {
		return loc
	}
	if v, ok := strings.CutPrefix(r.Header.Get("Refresh"), "0; url="); ok {
		u, err := url.Parse(v)
		if err == nil {
			return u
		}
	}
	t.Fatalf("the answer sends the browser nowhere: %d %.300s", r.StatusCode, r.Body)
	return nil
}

// answer is what came back to the app's redirect URI.
func (rp *relyingParty) answer(t testing.TB, s start, to *url.URL) url.Values {
	t.Helper()
	if to == nil || to.Scheme+"://"+to.Host+to.Path != rp.callback {
		t.Fatalf("the browser was not sent to the app: %v", to)
	}
	q := to.Query()
	if q.Get("state") != s.state {
		t.Fatalf("state %q, want %q", q.Get("state"), s.state)
	}
	return q
}

// exchange trades a code for tokens and checks the ID token (signature by
// the provider's JWKS, issuer, audience, expiry, nonce).
func (rp *relyingParty) exchange(t testing.TB, s start, code string) (*oauth2.Token, *oidc.IDToken, map[string]any) {
	t.Helper()
	ctx := context.Background()
	tok, err := rp.conf.Exchange(ctx, code, oauth2.VerifierOption(s.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	id, err := rp.verifier.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	if id.Nonce != s.nonce {
		t.Fatalf("nonce %q", id.Nonce)
	}
	var claims map[string]any
	id.Claims(&claims)
	return tok, id, claims
}

// signIn is a whole sign-in of a logged-in browser: code, tokens, claims.
func (rp *relyingParty) signIn(t testing.TB, c *apptest.Client, extra ...oauth2.AuthCodeOption) (*oauth2.Token, *oidc.IDToken, map[string]any) {
	t.Helper()
	s := rp.start(extra...)
	r, to := follow(t, c, s.path)
	if to == nil {
		t.Fatalf("no code for the app; a page instead: %d %.300s", r.StatusCode, r.Body)
	}
	q := rp.answer(t, s, to)
	if q.Get("error") != "" {
		t.Fatalf("the app got an error: %v", q)
	}
	return rp.exchange(t, s, q.Get("code"))
}

func setup(t *testing.T, opts ...apptest.Option) (*apptest.Env, *apptest.Clock, *apptest.Person, string) {
	clock := apptest.NewClock()
	env := apptest.Start(t, append(opts, apptest.WithClock(clock))...)
	owner := env.NewPerson(t, "owner@example.com")
	owner.Enable(t, clock)
	org := fmt.Sprintf("/organizations/%v", apptest.MustAPI(t, owner.C, "POST", "/organizations", map[string]any{"name": "Acme"})["organization"].(map[string]any)["id"])
	return env, clock, owner, org
}

func join(t testing.TB, env *apptest.Env, owner, p *apptest.Person, org, role string) {
	t.Helper()
	apptest.MustAPI(t, owner.C, "POST", org+"/invitations", map[string]any{"email": p.Email, "role": role})
	apptest.MustAPI(t, p.C, "POST", "/invitations/accept", map[string]any{"token": env.Mail.Wait(t, p.Email).Token()})
}

func TestAnAppSignsAPersonInThroughGardien(t *testing.T) {
	t.Parallel()
	apptest.OnEachDatabase(t, func(t *testing.T, db []apptest.Option) {
		env, _, owner, org := setup(t, db...)
		member := env.NewPerson(t, "member@example.com")
		join(t, env, owner, member, org, "member")
		rp := newRP(t, env, owner, org, nil)

		// A browser nobody is logged in to goes through Gardien's login.
		browser := env.Client(t)
		s := rp.start()
		r, to := follow(t, browser, s.path)
		if to != nil || !strings.Contains(r.Request.URL.Path, "/login") {
			t.Fatalf("not at the login page: %v %d", to, r.StatusCode)
		}
		next := r.Request.URL.Query().Get("next")
		r = browser.Form("/login", map[string]string{"email": member.Email, "password": apptest.Password, "next": next})
		loc := onward(t, r)
		_, to = follow(t, browser, loc.RequestURI())
		q := rp.answer(t, s, to)
		tok, id, claims := rp.exchange(t, s, q.Get("code"))
		if id.Subject != member.ID || claims["email"] != member.Email || claims["email_verified"] != true || claims["name"] != "Ada member" ||
			claims["acr"] != "pwd" || fmt.Sprint(claims["amr"]) != "[pwd]" || claims["org_role"] != "member" || claims["auth_time"] == nil {
			t.Fatalf("ID token claims: %v", claims)
		}
		if !strings.HasSuffix(org, fmt.Sprint(claims["org_id"])) {
			t.Fatalf("org_id %v for %s", claims["org_id"], org)
		}
		info, err := rp.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok))
		if err != nil || info.Subject != member.ID || info.Email != member.Email {
			t.Fatalf("userinfo: %+v %v", info, err)
		}

		// The code again: refused, and what it gave is revoked.
		if _, err := rp.conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(s.verifier)); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
			t.Fatalf("a reused code: %v", err)
		}
		if _, err := rp.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok)); err == nil {
			t.Fatal("the reused code's access token still works")
		}
		events := string(owner.C.API("GET", org+"/events", nil).Body)
		for _, e := range []string{"app.signed_in", "app.token_reused"} {
			if !strings.Contains(events, e) {
				t.Fatalf("no %s in the audit log", e)
			}
		}
	})
}

func TestRefreshTokensRotateAndAReuseEndsTheFamily(t *testing.T) {
	t.Parallel()
	env, _, owner, org := setup(t)
	rp := newRP(t, env, owner, org, map[string]any{"signing_alg": "ES256"})
	tok, _, _ := rp.signIn(t, owner.C)
	raw, _ := tok.Extra("id_token").(string)
	if header, _ := jwtHeader(raw); header["alg"] != "ES256" {
		t.Fatalf("ID token header %v, want ES256", header)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token with offline_access")
	}
	ctx := context.Background()
	refresh := func(rt string) (*oauth2.Token, error) {
		return rp.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
	}
	next, err := refresh(tok.RefreshToken)
	if err != nil || next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken || next.AccessToken == tok.AccessToken {
		t.Fatalf("refresh: %+v %v", next, err)
	}
	// The first refresh token again: refused, and the newest ends too.
	if _, err := refresh(tok.RefreshToken); err == nil {
		t.Fatal("a used refresh token worked again")
	}
	if _, err := refresh(next.RefreshToken); err == nil {
		t.Fatal("the family lives on after a reuse")
	}
	if _, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(next)); err == nil {
		t.Fatal("the family's access token lives on")
	}
}

func jwtHeader(raw string) (map[string]any, error) {
	part, _, _ := strings.Cut(raw, ".")
	b, err := base64URL(part)
	if err != nil {
		return nil, err
	}
	var h map[string]any
	return h, json.Unmarshal(b, &h)
}

func base64URL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

// wantRefusalPage checks a browser was shown Gardien's page with status,
// and was not sent to the app.
func wantRefusalPage(t testing.TB, r *apptest.Response, to *url.URL, status int, says string) {
	t.Helper()
	if to != nil {
		t.Fatalf("the browser was sent to %v; want a page", to)
	}
	if r.StatusCode != status || !strings.Contains(string(r.Body), says) {
		t.Fatalf("page %d, want %d saying %q: %.400s", r.StatusCode, status, says, r.Body)
	}
}

func TestRefusalsNeverSendACodeToTheApp(t *testing.T) {
	t.Parallel()
	env, clock, owner, org := setup(t)
	rp := newRP(t, env, owner, org, nil)
	admins := newRP(t, env, owner, org, map[string]any{"audience": "managers"})
	member := env.NewPerson(t, "member@example.com")
	join(t, env, owner, member, org, "member")
	outsider := env.NewPerson(t, "outsider@example.com")

	r, to := follow(t, outsider.C, rp.start().path)
	wantRefusalPage(t, r, to, http.StatusForbidden, "not a member")
	r, to = follow(t, member.C, admins.start().path)
	wantRefusalPage(t, r, to, http.StatusForbidden, "owners and admins")
	if !strings.Contains(string(owner.C.API("GET", org+"/events", nil).Body), "app.refused") {
		t.Fatal("a refused sign-in is not in the audit log")
	}

	// Bad requests: never a redirect to a URI the app did not register.
	for name, mutate := range map[string]func(q url.Values){
		"a redirect URI not registered": func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") },
		"a longer redirect URI":         func(q url.Values) { q.Set("redirect_uri", q.Get("redirect_uri")+"/more") },
		"an unknown client":             func(q url.Values) { q.Set("client_id", "app_aaaaaaaaaaaaaaaaaaaaaaaa") },
		"no client":                     func(q url.Values) { q.Del("client_id") },
	} {
		s := rp.start()
		u, _ := url.Parse(s.path)
		q := u.Query()
		mutate(q)
		u.RawQuery = q.Encode()
		r, to := follow(t, member.C, u.RequestURI())
		if to != nil || r.StatusCode < 400 || r.StatusCode >= 500 {
			t.Errorf("%s: %d, sent to %v", name, r.StatusCode, to)
		}
	}
	// Without PKCE: the app is told, at its registered URI.
	s := rp.start()
	u, _ := url.Parse(s.path)
	q := u.Query()
	q.Del("code_challenge")
	q.Del("code_challenge_method")
	u.RawQuery = q.Encode()
	_, to = follow(t, member.C, u.RequestURI())
	if got := rp.answer(t, s, to); got.Get("error") != "invalid_request" || got.Get("code") != "" {
		t.Fatalf("without PKCE: %v", got)
	}
	// prompt=none, nobody logged in: login_required, at the app.
	s = rp.start(oauth2.SetAuthURLParam("prompt", "none"))
	_, to = follow(t, env.Client(t), s.path)
	if got := rp.answer(t, s, to); got.Get("error") != "login_required" {
		t.Fatalf("prompt=none: %v", got)
	}
	// A code a minute and more old is refused.
	s = rp.start()
	_, to = follow(t, member.C, s.path)
	code := rp.answer(t, s, to).Get("code")
	clock.Advance(2 * time.Minute)
	if _, err := rp.conf.Exchange(context.Background(), code, oauth2.VerifierOption(s.verifier)); err == nil {
		t.Fatal("an expired code was taken")
	}
	// A wrong PKCE verifier, or another app's secret, gets nothing.
	s = rp.start()
	_, to = follow(t, member.C, s.path)
	code = rp.answer(t, s, to).Get("code")
	if _, err := rp.conf.Exchange(context.Background(), code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
		t.Fatal("a wrong verifier was taken")
	}
	s = rp.start()
	_, to = follow(t, member.C, s.path)
	code = rp.answer(t, s, to).Get("code")
	other := admins.conf
	other.RedirectURL = rp.conf.RedirectURL
	if _, err := other.Exchange(context.Background(), code, oauth2.VerifierOption(s.verifier)); err == nil {
		t.Fatal("another app took this app's code")
	}
}

func TestASignInStartedInOneBrowserCannotBeFinishedInAnother(t *testing.T) {
	t.Parallel()
	env, clock, owner, org := setup(t)
	rp := newRP(t, env, owner, org, map[string]any{"require_two_factor": true})
	victim := env.NewPerson(t, "victim@example.com")
	join(t, env, owner, victim, org, "member")
	// The victim's other browser, logged in with the password before 2FA
	// was on: a sign-in to this app would send it back to the code page.
	browser := env.Client(t)
	apptest.MustAPI(t, browser, "POST", "/login", map[string]any{"email": victim.Email, "password": apptest.Password})
	victim.Enable(t, clock)
	attacker := env.Client(t)
	// The attacker starts a sign-in and sends its link to the victim: the
	// victim's browser is told it was started elsewhere, nothing happens
	// (no code, the session stays as it is); the attacker gets no code.
	s := rp.start()
	r := attacker.Get(s.path)
	loc, _ := r.Location()
	if !strings.HasPrefix(loc.Path, "/oauth/continue") {
		t.Fatalf("authorize sent the browser to %v", loc)
	}
	r, to := follow(t, browser, loc.RequestURI())
	wantRefusalPage(t, r, to, http.StatusForbidden, "another browser")
	if st := apptest.MustAPI(t, browser, "GET", "/me", nil)["session"].(map[string]any)["status"]; st != "ok" {
		t.Fatalf("the link moved the victim's session: %v", st)
	}
	id := loc.Query().Get("id")
	if _, to = follow(t, attacker, "/oauth/authorize/callback?id="+id); to != nil && to.Query().Get("code") != "" {
		t.Fatalf("the attacker's browser got the code: %v", to)
	}
	// In the browser that started it, the same sign-in goes on.
	if r, to := follow(t, attacker, loc.RequestURI()); to != nil || r.Request.URL.Path != "/login" {
		t.Fatalf("the browser that started it: %v %s", to, r.Request.URL)
	}
}

func TestAppsThatNeed2FAAndFreshLogins(t *testing.T) {
	t.Parallel()
	env, clock, owner, org := setup(t)
	rp := newRP(t, env, owner, org, map[string]any{"require_two_factor": true})
	plain := newRP(t, env, owner, org, nil)

	// A member without 2FA is sent to set it up, then on to the app.
	member := env.NewPerson(t, "member@example.com")
	join(t, env, owner, member, org, "member")
	s := rp.start()
	r, to := follow(t, member.C, s.path)
	if to != nil || r.Request.URL.Path != "/two-factor/setup" {
		t.Fatalf("not at the set-up: %v %s", to, r.Request.URL)
	}
	member.Enable(t, clock)
	r, to = follow(t, member.C, appReturnOf(t, member.C))
	_, _, claims := rp.exchange(t, s, rp.answer(t, s, to).Get("code"))
	if claims["acr"] != "mfa" || !strings.Contains(fmt.Sprint(claims["amr"]), "mfa") {
		t.Fatalf("after the set-up: %v (%d)", claims, r.StatusCode)
	}

	// Another browser of the same person, logged in with the password
	// before 2FA was on, has no second factor passed: the code page first.
	owner2 := env.NewPerson(t, "second@example.com")
	join(t, env, owner, owner2, org, "member")
	browser2 := env.Client(t)
	apptest.MustAPI(t, browser2, "POST", "/login", map[string]any{"email": owner2.Email, "password": apptest.Password})
	owner2.Enable(t, clock) // in its first browser: the second stays at the password
	s = rp.start()
	r, to = follow(t, browser2, s.path)
	if to != nil || r.Request.URL.Path != "/login/two-factor" {
		t.Fatalf("not at the code page: %v %s %d", to, r.Request.URL, r.StatusCode)
	}
	next := r.Request.URL.Query().Get("next")
	r = browser2.Form("/login/two-factor", map[string]string{"code": owner2.Code(clock), "next": next})
	loc := onward(t, r)
	_, to = follow(t, browser2, loc.RequestURI())
	if _, _, claims := rp.exchange(t, s, rp.answer(t, s, to).Get("code")); claims["acr"] != "mfa" {
		t.Fatalf("after the code page: %v", claims)
	}

	// prompt=login asks for the password again, though the session lives.
	_, _, first := plain.signIn(t, member.C)
	clock.Advance(time.Minute)
	s = plain.start(oauth2.SetAuthURLParam("prompt", "login"))
	r, to = follow(t, member.C, s.path)
	if to != nil || r.Request.URL.Path != "/login" {
		t.Fatalf("prompt=login: not at the login page: %v %s", to, r.Request.URL)
	}
	r = member.C.Form("/login", map[string]string{"email": member.Email, "password": apptest.Password, "next": r.Request.URL.Query().Get("next")})
	loc = onward(t, r)
	r, to = follow(t, member.C, loc.RequestURI())
	if to == nil { // the member has 2FA now: the code page
		next = r.Request.URL.Query().Get("next")
		r = member.C.Form("/login/two-factor", map[string]string{"code": member.Code(clock), "next": next})
		loc = onward(t, r)
		_, to = follow(t, member.C, loc.RequestURI())
	}
	_, _, again := plain.exchange(t, s, plain.answer(t, s, to).Get("code"))
	if again["auth_time"].(float64) <= first["auth_time"].(float64) {
		t.Fatalf("prompt=login kept the old login: %v, then %v", first["auth_time"], again["auth_time"])
	}
	// max_age: a login older than it is asked again; a younger one is not.
	clock.Advance(2 * time.Minute)
	plain.signIn(t, member.C, oauth2.SetAuthURLParam("max_age", "3600"))
	r, to = follow(t, member.C, plain.start(oauth2.SetAuthURLParam("max_age", "60")).path)
	if to != nil || r.Request.URL.Path != "/login" {
		t.Fatalf("max_age=60 after 2 minutes: %v %s", to, r.Request.URL)
	}
}

func TestTheOrganizationsRequirementHoldsBeforeAnyApp(t *testing.T) {
	t.Parallel()
	env, _, owner, org := setup(t)
	rp := newRP(t, env, owner, org, nil)
	member := env.NewPerson(t, "member@example.com")
	join(t, env, owner, member, org, "member")
	rp.signIn(t, member.C) // before the requirement: in
	apptest.MustAPI(t, owner.C, "PUT", org+"/security", map[string]any{"require_two_factor": true})
	// The member's session still runs, but no app sees them before 2FA.
	r, to := follow(t, member.C, rp.start(oauth2.SetAuthURLParam("prompt", "none")).path)
	if to == nil || to.Query().Get("error") != "interaction_required" {
		t.Fatalf("prompt=none under the requirement: %v %d", to, r.StatusCode)
	}
	if st := apptest.MustAPI(t, member.C, "GET", "/me", nil)["session"].(map[string]any)["status"]; st != "ok" {
		t.Fatalf("prompt=none changed the session: %v", st)
	}
	r, to = follow(t, member.C, rp.start().path)
	if to != nil || r.Request.URL.Path != "/two-factor/setup" {
		t.Fatalf("under the requirement: %v %s", to, r.Request.URL)
	}
}

// appReturnOf is where the set-up's last page sends the person on.
func appReturnOf(t testing.TB, c *apptest.Client) string {
	t.Helper()
	u, _ := url.Parse(c.Base)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "gardien_app_return" {
			v, _ := url.QueryUnescape(ck.Value)
			return v
		}
	}
	t.Fatal("no sign-in to go back to after the set-up")
	return ""
}

func TestRotatedKeysStayPublishedUntilTheirTokensExpire(t *testing.T) {
	t.Parallel()
	env, clock, owner, org := setup(t)
	rp := newRP(t, env, owner, org, nil)
	es := newRP(t, env, owner, org, map[string]any{"signing_alg": "ES256"})
	before, _, _ := rp.signIn(t, owner.C)
	oldKid := kidOf(t, before)
	if _, err := env.App.Auth.RotateSigningKeys(context.Background(), "test"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute) // every node has seen the new keys
	after, _, _ := rp.signIn(t, owner.C)
	esTok, _, _ := es.signIn(t, owner.C)
	if kidOf(t, after) == oldKid || kidOf(t, esTok) == kidOf(t, after) {
		t.Fatalf("kids: before %s, after %s, ES256 %s", oldKid, kidOf(t, after), kidOf(t, esTok))
	}
	keys := jwks(t, env)
	if len(keys) != 4 || !strings.Contains(fmt.Sprint(keys), oldKid) {
		t.Fatalf("JWKS during the overlap: %v", keys)
	}
	// A fresh verifier (no cached keys) still checks the old token.
	fresh := oidc.NewRemoteKeySet(context.Background(), env.URL+"/oauth/keys")
	if _, err := fresh.VerifySignature(context.Background(), before.Extra("id_token").(string)); err != nil {
		t.Fatalf("the old key's token: %v", err)
	}
	clock.Advance(time.Hour + 10*time.Minute)
	if keys := jwks(t, env); len(keys) != 2 || strings.Contains(fmt.Sprint(keys), oldKid) {
		t.Fatalf("JWKS once the old tokens expired: %v", keys)
	}
}

func kidOf(t testing.TB, tok *oauth2.Token) string {
	t.Helper()
	h, err := jwtHeader(tok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(h["kid"])
}

func jwks(t testing.TB, env *apptest.Env) []string {
	t.Helper()
	var set struct {
		Keys []struct{ Kid, Alg, Kty string } `json:"keys"`
	}
	r := env.Client(t).Get("/oauth/keys")
	if err := json.Unmarshal(r.Body, &set); err != nil {
		t.Fatalf("JWKS: %v %s", err, r.Body)
	}
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.Alg+":"+k.Kid)
	}
	return out
}

// logoutCatcher is an app's back-channel logout endpoint: it answers
// failures first (fail of them), then records each logout token.
type logoutCatcher struct {
	mu     sync.Mutex
	fail   int
	tokens []string
	srv    *httptest.Server
}

func newLogoutCatcher(t testing.TB, fail int) *logoutCatcher {
	c := &logoutCatcher{fail: fail}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.fail > 0 {
			c.fail--
			http.Error(w, "not now", http.StatusServiceUnavailable)
			return
		}
		c.tokens = append(c.tokens, r.PostFormValue("logout_token"))
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// wait returns the n-th logout token once it came (within 10 s).
func (c *logoutCatcher) wait(t testing.TB, n int) string {
	t.Helper()
	for range 200 {
		c.mu.Lock()
		if len(c.tokens) >= n {
			tok := c.tokens[n-1]
			c.mu.Unlock()
			return tok
		}
		c.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no back-channel logout number %d came", n)
	return ""
}

// checkLogout verifies a logout token as an app does (signature, issuer,
// audience, expiry) and that it names the person and the session.
func (rp *relyingParty) checkLogout(t testing.TB, raw string, id *oidc.IDToken) {
	t.Helper()
	lt, err := rp.verifier.Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("logout token: %v", err)
	}
	var claims struct {
		Sid    string         `json:"sid"`
		Events map[string]any `json:"events"`
		Nonce  *string        `json:"nonce"`
	}
	lt.Claims(&claims)
	var idClaims struct {
		Sid string `json:"sid"`
	}
	id.Claims(&idClaims)
	if lt.Subject != id.Subject || claims.Sid == "" || claims.Sid != idClaims.Sid || claims.Nonce != nil ||
		claims.Events["http://schemas.openid.net/event/backchannel-logout"] == nil {
		t.Fatalf("logout token %+v %+v for ID token sub %s sid %s", lt, claims, id.Subject, idClaims.Sid)
	}
}

func TestAppsAreToldWhenASessionEnds(t *testing.T) {
	t.Parallel()
	apptest.OnEachDatabase(t, func(t *testing.T, db []apptest.Option) {
		env, clock, owner, org := setup(t, db...)
		catcher := newLogoutCatcher(t, 1)
		rp := newRP(t, env, owner, org, map[string]any{"backchannel_logout_uri": catcher.srv.URL + "/logout"})
		other := newRP(t, env, owner, org, map[string]any{"signing_alg": "ES256"}) // no back-channel: not told

		// Logging out of Gardien: the app is told, after a failed try.
		member := env.NewPerson(t, "member@example.com")
		join(t, env, owner, member, org, "member")
		_, id, _ := rp.signIn(t, member.C)
		other.signIn(t, member.C)
		apptest.MustAPI(t, member.C, "POST", "/logout", nil)
		time.Sleep(300 * time.Millisecond) // the first try fails
		clock.Advance(15 * time.Second)
		rp.checkLogout(t, catcher.wait(t, 1), id)

		// Removed from the organization: told, and its refresh token ends.
		apptest.MustAPI(t, member.C, "POST", "/login", map[string]any{"email": member.Email, "password": apptest.Password})
		tok, id, _ := rp.signIn(t, member.C)
		apptest.MustAPI(t, owner.C, "DELETE", org+"/members/"+member.ID, nil)
		rp.checkLogout(t, catcher.wait(t, 2), id)
		if _, err := rp.conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
			t.Fatal("a removed member's refresh token still works")
		}

		// RP-initiated logout with the ID token as hint: Gardien's session
		// ends, the browser goes to the app's registered page with its state.
		tok, id, _ = rp.signIn(t, owner.C)
		q := url.Values{"id_token_hint": {tok.Extra("id_token").(string)}, "post_logout_redirect_uri": {strings.TrimSuffix(rp.callback, "/cb") + "/bye"}, "state": {"s1"}}
		r := owner.C.Get("/oauth/end_session?" + q.Encode())
		loc, _ := r.Location()
		if loc == nil || loc.Path != "/bye" || loc.Query().Get("state") != "s1" {
			t.Fatalf("end_session sent the browser to %v (%d %s)", loc, r.StatusCode, r.Body)
		}
		if r := owner.C.API("GET", "/me", nil); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("the Gardien session lives on after end_session: %d", r.StatusCode)
		}
		rp.checkLogout(t, catcher.wait(t, 3), id)
		// An unregistered post-logout URI is refused, and ends nothing.
		q.Set("post_logout_redirect_uri", "https://evil.example/bye")
		if r := env.Client(t).Get("/oauth/end_session?" + q.Encode()); r.StatusCode < 400 || r.StatusCode >= 500 {
			t.Fatalf("unregistered post-logout URI: %d %v", r.StatusCode, r.Header.Get("Location"))
		}
	})
}

func TestAPersonSignsOutOfAnAppFromTheirSettings(t *testing.T) {
	t.Parallel()
	env, _, owner, org := setup(t)
	catcher := newLogoutCatcher(t, 0)
	rp := newRP(t, env, owner, org, map[string]any{"name": "Team wiki", "backchannel_logout_uri": catcher.srv.URL + "/logout"})
	tok, id, _ := rp.signIn(t, owner.C)
	page := owner.C.Get("/settings/apps")
	if !strings.Contains(string(page.Body), "Team wiki") || !strings.Contains(string(page.Body), "/settings/apps/"+rp.appID+"/sign-out") {
		t.Fatalf("the settings do not list the app: %.600s", page.Body)
	}
	r := owner.C.Form("/settings/apps/"+rp.appID+"/sign-out", nil)
	if loc := r.Header.Get("Location"); loc != "/settings/apps" {
		t.Fatalf("sign out: %d %q", r.StatusCode, loc)
	}
	if _, err := rp.conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Fatal("the app's refresh token still works")
	}
	rp.checkLogout(t, catcher.wait(t, 1), id)
	if body := string(owner.C.Get("/settings/apps").Body); strings.Contains(body, "Team wiki") || !strings.Contains(body, "You are signed out of the app.") {
		t.Fatalf("after signing out: %.600s", body)
	}
	if r := owner.C.Form("/settings/apps/"+rp.appID+"/sign-out", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("signing out again: %d", r.StatusCode)
	}
	if !strings.Contains(string(owner.C.API("GET", org+"/events", nil).Body), "app.signed_out") {
		t.Fatal("no app.signed_out in the audit log")
	}
}

// ssoSetup starts Gardien and an identity provider that knows Ada
// (ada@acme.test); the owner's organization verified acme.test through it.
func ssoSetup(t *testing.T) (*apptest.Env, *apptest.Clock, *apptest.Person, string, string) {
	t.Helper()
	dns := ssotest.StartDNS(t)
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock), apptest.Setting("GARDIEN_DNS_RESOLVER", dns.Addr))
	issuer := ssotest.StartOP(t, []ssotest.Client{{ID: "gardien", Secret: "idp-secret", RedirectURI: env.URL + "/sso/oidc/callback"}},
		ssotest.OPUser{Username: "ada", Password: "idp-password", Email: "ada@acme.test", EmailVerified: true, Name: "Ada Lovelace"})
	owner := env.NewPerson(t, "owner@example.com")
	owner.Enable(t, clock)
	org := fmt.Sprintf("/organizations/%v", apptest.MustAPI(t, owner.C, "POST", "/organizations", map[string]any{"name": "Acme"})["organization"].(map[string]any)["id"])
	sso := apptest.MustAPI(t, owner.C, "PUT", org+"/sso", map[string]any{"protocol": "oidc", "enabled": true, "domains": []string{"acme.test"},
		"issuer": issuer, "client_id": "gardien", "client_secret": "idp-secret"})["sso"].(map[string]any)
	dns.SetTXT("acme.test", sso["domains"].([]any)[0].(map[string]any)["txt_record"].(string))
	apptest.MustAPI(t, owner.C, "POST", org+"/sso/domains/acme.test/verify", nil)
	return env, clock, owner, org, issuer
}

// ssoBrowser is Ada's browser (ssoSignIn says which redirects it follows).
func ssoBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 20 * time.Second}
}

// ssoSignIn takes Ada's browser from an app's authorization URL through
// Gardien's login page, "Log in with SSO", and the provider's login page,
// to the app's redirect URI.
func ssoSignIn(t testing.TB, env *apptest.Env, b *http.Client, authURL string) *url.URL {
	t.Helper()
	au, _ := url.Parse(authURL)
	// Redirects within Gardien and to the provider's pages are followed;
	// one elsewhere (the app) is where the browser is sent.
	b.CheckRedirect = func(r *http.Request, _ []*http.Request) error {
		if r.URL.Host != au.Host && r.URL.Path != "/login/username" && !strings.HasPrefix(r.URL.Path, "/authorize") {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := b.Get(env.URL + au.RequestURI())
	if err != nil || resp.Request.URL.Path != "/login" {
		t.Fatalf("not at Gardien's login page: %v %v", err, resp.Request.URL)
	}
	resp.Body.Close()
	next := resp.Request.URL.Query().Get("next")
	resp, err = b.Get(env.URL + "/sso/start?" + url.Values{"email": {"ada@acme.test"}, "next": {next}}.Encode())
	if err != nil || !strings.HasSuffix(resp.Request.URL.Path, "/login/username") {
		t.Fatalf("not at the provider's login page: %v %v", err, resp.Request.URL)
	}
	resp.Body.Close()
	at := resp.Request.URL
	resp, err = b.PostForm(at.Scheme+"://"+at.Host+"/login/username", url.Values{"id": {at.Query().Get("authRequestID")},
		"username": {"ada"}, "password": {"idp-password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("the browser did not leave for the app: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	return loc
}

// A person of an organization that connected its identity provider signs
// in to the organization's app through it: the app is told it was SSO,
// and what the provider said, marked as the provider's. Where the
// organization requires SSO, a password session is refused.
func TestSSOPeopleSignInToAppsThroughTheirProvider(t *testing.T) {
	t.Parallel()
	env, clock, owner, org, issuer := ssoSetup(t)
	// The app needs 2FA: the provider's is the organization's choice.
	rp := newRP(t, env, owner, org, map[string]any{"require_two_factor": true})
	s := rp.start()
	loc := ssoSignIn(t, env, ssoBrowser(), env.URL+s.path)
	_, _, claims := rp.exchange(t, s, rp.answer(t, s, loc).Get("code"))
	if claims["email"] != "ada@acme.test" || claims["acr"] != "sso" || fmt.Sprint(claims["amr"]) != "[sso idp:pwd]" {
		t.Fatalf("an SSO person's ID token: %v", claims)
	}

	// The organization requires SSO: a member logged in with a password
	// (an address outside its domains) is refused, with a page saying how.
	contractor := env.NewPerson(t, "contractor@elsewhere.example")
	join(t, env, owner, contractor, org, "member")
	contractor.Enable(t, clock)
	apptest.MustAPI(t, owner.C, "PUT", org+"/sso", map[string]any{"protocol": "oidc", "enabled": true, "require_sso": true, "domains": []string{"acme.test"},
		"issuer": issuer, "client_id": "gardien"})
	r, to := follow(t, contractor.C, rp.start().path)
	wantRefusalPage(t, r, to, http.StatusForbidden, "identity provider")
}

// Exchanges of one code at once: at most one gets tokens, and the reuse
// ends them (on each database: one conditional write decides).
func TestOneCodeExchangedAtOnceManyTimes(t *testing.T) {
	t.Parallel()
	apptest.OnEachDatabase(t, func(t *testing.T, db []apptest.Option) {
		env, _, owner, org := setup(t, db...)
		rp := newRP(t, env, owner, org, nil)
		s := rp.start()
		_, to := follow(t, owner.C, s.path)
		code := rp.answer(t, s, to).Get("code")
		var wg sync.WaitGroup
		var mu sync.Mutex
		var got []*oauth2.Token
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if tok, err := rp.conf.Exchange(context.Background(), code, oauth2.VerifierOption(s.verifier)); err == nil {
					mu.Lock()
					got = append(got, tok)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(got) > 1 {
			t.Fatalf("%d exchanges of one code got tokens", len(got))
		}
		for _, tok := range got {
			if _, err := rp.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok)); err == nil {
				t.Fatal("the tokens of a code used several times still work")
			}
		}
	})
}

// post sends a form to one of the provider's endpoints as an app does
// (client_secret_basic), and decodes the JSON answer.
func (rp *relyingParty) post(t testing.TB, endpoint string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(rp.conf.ClientID), url.QueryEscape(rp.conf.ClientSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestIntrospectionRevocationAndSecretInTheForm(t *testing.T) {
	t.Parallel()
	env, _, owner, org := setup(t)
	rp := newRP(t, env, owner, org, nil)
	other := newRP(t, env, owner, org, nil)
	// client_secret_post: the secret in the form, not in a header.
	rp.conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	tok, _, _ := rp.signIn(t, owner.C)
	introspect, revoke := env.URL+"/oauth/introspect", env.URL+"/oauth/revoke"

	st, m := rp.post(t, introspect, url.Values{"token": {tok.AccessToken}})
	if st != 200 || m["active"] != true || m["sub"] != owner.ID || m["client_id"] != rp.clientID || !strings.Contains(fmt.Sprint(m["scope"]), "openid") {
		t.Fatalf("introspection: %d %v", st, m)
	}
	// Another app learns nothing of this app's token.
	if st, m := other.post(t, introspect, url.Values{"token": {tok.AccessToken}}); st != 200 || m["active"] != false {
		t.Fatalf("another app's introspection: %d %v", st, m)
	}
	// Nor can it revoke it.
	if st, _ := other.post(t, revoke, url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}); st != 200 {
		t.Fatalf("another app's revocation: %d", st)
	}
	if _, err := rp.conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
		t.Fatalf("another app revoked this app's token: %v", err)
	}
	// The refresh token above was used: sign in again, then revoke.
	tok, _, _ = rp.signIn(t, owner.C)
	if st, _ := rp.post(t, revoke, url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}); st != 200 {
		t.Fatalf("revocation: %d", st)
	}
	if _, err := rp.conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Fatal("a revoked refresh token works")
	}
	if _, err := rp.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok)); err == nil {
		t.Fatal("the revoked sign-in's access token works")
	}
	if st, m := rp.post(t, introspect, url.Values{"token": {tok.AccessToken}}); st != 200 || m["active"] != false {
		t.Fatalf("introspection of a revoked token: %d %v", st, m)
	}
	// Revoking an access token ends its sign-in too; an unknown token is fine.
	tok, _, _ = rp.signIn(t, owner.C)
	if st, _ := rp.post(t, revoke, url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}}); st != 200 {
		t.Fatalf("revoking an access token: %d", st)
	}
	if _, err := rp.conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Fatal("the refresh token lives after its access token was revoked")
	}
	if st, _ := rp.post(t, revoke, url.Values{"token": {"nonsense"}}); st != 200 {
		t.Fatalf("revoking an unknown token: %d", st)
	}
}

// However a person's session ends, the apps they signed in to in it are told.
func TestEverySessionsEndIsToldToTheApps(t *testing.T) {
	t.Parallel()
	env, clock, owner, org := setup(t)
	catcher := newLogoutCatcher(t, 0)
	rp := newRP(t, env, owner, org, map[string]any{"backchannel_logout_uri": catcher.srv.URL + "/logout"})
	told := 0
	for _, tc := range []struct {
		name string
		end  func(p *apptest.Person)
	}{
		{"the password changed in another browser", func(p *apptest.Person) {
			other := env.Client(t)
			apptest.MustAPI(t, other, "POST", "/login", map[string]any{"email": p.Email, "password": apptest.Password})
			apptest.MustAPI(t, other, "POST", "/me/password", map[string]any{"current_password": apptest.Password, "new_password": apptest.Password + " again"})
			apptest.MustAPI(t, other, "POST", "/me/password", map[string]any{"current_password": apptest.Password + " again", "new_password": apptest.Password})
		}},
		{"its 2FA reset by an owner", func(p *apptest.Person) {
			p.Enable(t, clock)
			apptest.MustAPI(t, owner.C, "DELETE", org+"/members/"+p.ID+"/two-factor", nil)
		}},
		{"signed out by an owner", func(p *apptest.Person) { apptest.MustAPI(t, owner.C, "DELETE", org+"/members/"+p.ID+"/sessions", nil) }},
		{"the account deleted", func(p *apptest.Person) {
			apptest.MustAPI(t, p.C, "DELETE", "/me", map[string]any{"password": apptest.Password})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := env.NewPerson(t, fmt.Sprintf("p%d@example.com", told))
			join(t, env, owner, p, org, "member")
			_, id, _ := rp.signIn(t, p.C)
			tc.end(p)
			told++
			rp.checkLogout(t, catcher.wait(t, told), id)
		})
	}
}

func TestTheSignInPagesSpeakTheAppsLanguage(t *testing.T) {
	t.Parallel()
	env, _, owner, org := setup(t)
	rp := newRP(t, env, owner, org, nil)
	r, _ := follow(t, env.Client(t), rp.start(oauth2.SetAuthURLParam("ui_locales", "fr-CA en")).path)
	if !strings.Contains(string(r.Body), `<html lang="fr">`) || !strings.Contains(string(r.Body), "Se connecter") {
		t.Fatalf("ui_locales=fr-CA: %.300s", r.Body)
	}
}

// The OpenID configuration says what Gardien does, and nothing else.
func TestDiscoverySaysWhatGardienDoes(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	r := env.Client(t).Get("/.well-known/openid-configuration")
	var doc map[string]any
	if err := json.Unmarshal(r.Body, &doc); err != nil || r.StatusCode != 200 {
		t.Fatalf("discovery: %d %v", r.StatusCode, err)
	}
	for k, want := range map[string]string{
		"issuer": env.URL, "response_types_supported": "[code]", "grant_types_supported": "[authorization_code refresh_token]",
		"code_challenge_methods_supported": "[S256]", "id_token_signing_alg_values_supported": "[RS256 ES256]",
		"acr_values_supported": "[pwd mfa sso]", "backchannel_logout_supported": "true",
		"token_endpoint_auth_methods_supported": "[none client_secret_basic client_secret_post]",
	} {
		if got := fmt.Sprint(doc[k]); got != want {
			t.Errorf("%s: %s, want %s", k, got, want)
		}
	}
	if _, ok := doc["device_authorization_endpoint"]; ok {
		t.Error("it offers the device flow, which Gardien does not do")
	}
}

// Workers of several nodes queue at once: each ended sign-in is told once.
func TestAnEndedSignInIsToldOnceWhoeverQueuesIt(t *testing.T) {
	t.Parallel()
	apptest.OnEachDatabase(t, func(t *testing.T, db []apptest.Option) {
		env, _, owner, org := setup(t, db...)
		catcher := newLogoutCatcher(t, 0)
		rp := newRP(t, env, owner, org, map[string]any{"backchannel_logout_uri": catcher.srv.URL + "/logout"})
		p := env.NewPerson(t, "p@example.com")
		join(t, env, owner, p, org, "member")
		_, id, _ := rp.signIn(t, p.C)
		// Many sign-ins, so that the queuers overlap on some.
		for range 5 {
			apptest.MustAPI(t, p.C, "POST", "/login", map[string]any{"email": p.Email, "password": apptest.Password})
			rp.signIn(t, p.C)
		}
		apptest.MustAPI(t, p.C, "POST", "/logout", nil)
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() { defer wg.Done(); env.App.Auth.QueueAppLogouts(context.Background()) }()
		}
		wg.Wait()
		rp.checkLogout(t, catcher.wait(t, 1), id)
		time.Sleep(500 * time.Millisecond) // the workers' next rounds
		catcher.mu.Lock()
		defer catcher.mu.Unlock()
		if len(catcher.tokens) != 6 {
			t.Fatalf("the app was told %d times of 6 sign-ins", len(catcher.tokens))
		}
	})
}

// What lapsed goes: sign-ins, their tokens, started sign-ins never done.
func TestLapsedSignInsAreSwept(t *testing.T) {
	t.Parallel()
	env, clock, owner, org := setup(t)
	rp := newRP(t, env, owner, org, nil)
	rp.signIn(t, owner.C)
	follow(t, env.Client(t), rp.start().path) // started, never done
	count := func(table string) int {
		var n int
		if err := env.DB.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if _, err := env.App.Auth.SweepSessions(context.Background()); err != nil {
		t.Fatal(err)
	}
	if g, tk := count("oidc_grants"), count("oidc_tokens"); g != 2 || tk != 1 {
		t.Fatalf("a sweep took what lives: %d grants, %d tokens", g, tk)
	}
	clock.Advance(32 * 24 * time.Hour) // the refresh token's 30 days, and a day
	// The first sweep ends the expired session; its sign-in stays until its
	// app was told (the workers' next round), then goes at the next sweep.
	for range 50 {
		if _, err := env.App.Auth.SweepSessions(context.Background()); err != nil {
			t.Fatal(err)
		}
		if count("oidc_grants") == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if g, tk := count("oidc_grants"), count("oidc_tokens"); g != 0 || tk != 0 {
		t.Fatalf("after they lapsed: %d grants, %d tokens", g, tk)
	}
}

// A body larger than any request of an app's is refused with a 413, not read.
func TestAHugeBodyIsRefused(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	body := "grant_type=authorization_code&code=" + strings.Repeat("a", 1<<20)
	r := env.Client(t).Do(http.MethodPost, "/oauth/token", "application/x-www-form-urlencoded", strings.NewReader(body))
	if r.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(r.Body), "invalid_request") {
		t.Fatalf("a 1 MiB token request: %d %.200s", r.StatusCode, r.Body)
	}
}

// TestADeprovisionedPersonsAppsAreTold: an SSO person signed in to an app
// (before SCIM was on) is taken up by the identity provider's SCIM create,
// then deprovisioned: the app gets its back-channel logout, and her
// Gardien session is gone.
func TestADeprovisionedPersonsAppsAreTold(t *testing.T) {
	t.Parallel()
	env, _, owner, org, _ := ssoSetup(t)
	catcher := newLogoutCatcher(t, 0)
	rp := newRP(t, env, owner, org, map[string]any{"backchannel_logout_uri": catcher.srv.URL + "/logout"})
	s := rp.start()
	browser := ssoBrowser()
	loc := ssoSignIn(t, env, browser, env.URL+s.path)
	_, id, _ := rp.exchange(t, s, rp.answer(t, s, loc).Get("code"))

	token := apptest.MustAPI(t, owner.C, "POST", org+"/scim/token", nil)["scim"].(map[string]any)["token"].(string)
	scim := func(method, path, body string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, env.URL+"/scim/v2/"+strings.TrimPrefix(org, "/organizations/")+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, out)
		}
		return out
	}
	ada := scim("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@acme.test","active":true}`)
	scim("PATCH", "/Users/"+ada["id"].(string), `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","value":{"active":false}}]}`)
	rp.checkLogout(t, catcher.wait(t, 1), id)
	resp, err := browser.Get(env.URL + "/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("Ada's Gardien session after her deprovisioning: %d", resp.StatusCode)
	}
}
