package oidcop_test

import (
	"context"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/pquerna/otp"
	"golang.org/x/oauth2"

	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/totp"
)

const pw = "correct horse battery staple"

// person is an account, its browser, and its authenticator's secret.
type person struct {
	email  string
	id     string
	c      *apptest.Client
	secret []byte
}

func (p *person) code(clock *apptest.Clock) string {
	clock.Advance(30 * time.Second)
	return totp.Code(p.secret, totp.Step(clock.Now()), otp.DigitsSix)
}

func api(t testing.TB, c *apptest.Client, method, path string, body any) map[string]any {
	t.Helper()
	r := c.API(method, path, body)
	if r.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, r.StatusCode, r.Body)
	}
	return r.JSON()
}

// newPerson signs up and validates an email, and logs in (API).
func newPerson(t testing.TB, env *apptest.Env, email string) *person {
	t.Helper()
	c := env.Client(t)
	api(t, c, "POST", "/signup", map[string]any{"email": email, "password": pw, "name": "Ada " + strings.Split(email, "@")[0]})
	api(t, c, "POST", "/email/verify", map[string]any{"token": env.Mail.Wait(t, email).Token()})
	api(t, c, "POST", "/login", map[string]any{"email": email, "password": pw})
	id := fmt.Sprint(api(t, c, "GET", "/me", nil)["user"].(map[string]any)["id"])
	return &person{email: email, id: id, c: c}
}

// enable turns the person's 2FA on (in their session).
func (p *person) enable(t testing.TB, clock *apptest.Clock) {
	t.Helper()
	s := api(t, p.c, "POST", "/me/two-factor/setup", nil)["secret"].(string)
	p.secret, _ = base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	api(t, p.c, "POST", "/me/two-factor/activate", map[string]any{"code": p.code(clock)})
}

// relyingParty is an app: go-oidc and x/oauth2 (not code of ours), and its
// redirect URI on loopback, which records what the browser brings.
type relyingParty struct {
	t        testing.TB
	provider *oidc.Provider
	conf     oauth2.Config
	verifier *oidc.IDTokenVerifier
	callback string
	clientID string
}

func newRP(t testing.TB, env *apptest.Env, owner *person, org string, settings map[string]any) *relyingParty {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("app")) }))
	t.Cleanup(srv.Close)
	body := map[string]any{"name": "Wiki", "type": "web", "redirect_uris": []string{srv.URL + "/cb"},
		"post_logout_redirect_uris": []string{srv.URL + "/bye"}}
	for k, v := range settings {
		body[k] = v
	}
	app := api(t, owner.c, "POST", org+"/apps", body)["app"].(map[string]any)
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, env.URL)
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := app["client_secret"].(string)
	rp := &relyingParty{t: t, provider: provider, callback: srv.URL + "/cb", clientID: app["client_id"].(string)}
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

func setup(t *testing.T, opts ...apptest.Option) (*apptest.Env, *apptest.Clock, *person, string) {
	clock := apptest.NewClock()
	env := apptest.Start(t, append(opts, apptest.WithClock(clock))...)
	owner := newPerson(t, env, "owner@example.com")
	owner.enable(t, clock)
	org := fmt.Sprintf("/organizations/%v", api(t, owner.c, "POST", "/organizations", map[string]any{"name": "Acme"})["organization"].(map[string]any)["id"])
	return env, clock, owner, org
}

func join(t testing.TB, env *apptest.Env, owner, p *person, org, role string) {
	t.Helper()
	api(t, owner.c, "POST", org+"/invitations", map[string]any{"email": p.email, "role": role})
	api(t, p.c, "POST", "/invitations/accept", map[string]any{"token": env.Mail.Wait(t, p.email).Token()})
}

func TestAnAppSignsAPersonInThroughGardien(t *testing.T) {
	t.Parallel()
	apptest.OnEachDatabase(t, func(t *testing.T, db []apptest.Option) {
		env, _, owner, org := setup(t, db...)
		member := newPerson(t, env, "member@example.com")
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
		r = browser.Form("/login", map[string]string{"email": member.email, "password": pw, "next": next})
		loc, _ := r.Location()
		_, to = follow(t, browser, loc.RequestURI())
		q := rp.answer(t, s, to)
		tok, id, claims := rp.exchange(t, s, q.Get("code"))
		if id.Subject != member.id || claims["email"] != member.email || claims["email_verified"] != true || claims["name"] != "Ada member" ||
			claims["acr"] != "pwd" || fmt.Sprint(claims["amr"]) != "[pwd]" || claims["org_role"] != "member" || claims["auth_time"] == nil {
			t.Fatalf("ID token claims: %v", claims)
		}
		if !strings.HasSuffix(org, fmt.Sprint(claims["org_id"])) {
			t.Fatalf("org_id %v for %s", claims["org_id"], org)
		}
		info, err := rp.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok))
		if err != nil || info.Subject != member.id || info.Email != member.email {
			t.Fatalf("userinfo: %+v %v", info, err)
		}

		// The code again: refused, and what it gave is revoked.
		if _, err := rp.conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(s.verifier)); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
			t.Fatalf("a reused code: %v", err)
		}
		if _, err := rp.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok)); err == nil {
			t.Fatal("the reused code's access token still works")
		}
		events := string(owner.c.API("GET", org+"/events", nil).Body)
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
	tok, _, _ := rp.signIn(t, owner.c)
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
