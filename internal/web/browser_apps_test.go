package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/pquerna/otp"
	"golang.org/x/oauth2"

	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/browsertest"
	"github.com/gardien/gardien/internal/totp"
)

// oidcApp is a team's app that signs people in through Gardien, with
// go-oidc and x/oauth2: /login sends the browser to Gardien, /cb checks
// what comes back and says who signed in.
func oidcApp(t *testing.T, env *apptest.Env, owner *apptest.Client, org string) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	app := owner.API("POST", org+"/apps", map[string]any{"name": "Team wiki", "type": "web", "redirect_uris": []string{base + "/cb"}}).JSON()["app"].(map[string]any)
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, env.URL)
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: app["client_id"].(string), ClientSecret: app["client_secret"].(string), Endpoint: provider.Endpoint(),
		RedirectURL: base + "/cb", Scopes: []string{oidc.ScopeOpenID, "email"}}
	verifier := provider.Verifier(&oidc.Config{ClientID: conf.ClientID})
	var mu sync.Mutex
	pending := map[string]string{} // state → PKCE verifier
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		state, v := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
		mu.Lock()
		pending[state] = v
		mu.Unlock()
		http.Redirect(w, r, conf.AuthCodeURL(state, oauth2.S256ChallengeOption(v)), http.StatusFound)
	})
	mux.HandleFunc("GET /cb", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		v, ok := pending[r.URL.Query().Get("state")]
		mu.Unlock()
		if !ok {
			http.Error(w, "unknown state", http.StatusBadRequest)
			return
		}
		tok, err := conf.Exchange(r.Context(), r.URL.Query().Get("code"), oauth2.VerifierOption(v))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		id, err := verifier.Verify(r.Context(), tok.Extra("id_token").(string))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		var c struct{ Email, ACR string }
		id.Claims(&c)
		fmt.Fprintf(w, "<!doctype html><title>Team wiki</title><p>Signed in as %s (acr=%s)</p>", html.EscapeString(c.Email), html.EscapeString(c.ACR))
	})
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return base
}

// TestBrowserLogInToAnApp: a person logs in to their team's app through
// Gardien's pages, password then code, and lands in the app; a member of
// an organization that requires 2FA, without it, reaches the set-up, not
// the app.
func TestBrowserLogInToAnApp(t *testing.T) {
	for lang, w := range tfaLanguages {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			clock := apptest.NewClock()
			env := apptest.Start(t, apptest.WithClock(clock))
			owner := verifiedClient(t, env, "owner@example.com")
			secret := withTwoFactor(t, owner, clock)
			org := strings.TrimSuffix(owner.Form("/organizations", map[string]string{"name": "Acme"}).Header.Get("Location"), "/members")
			app := oidcApp(t, env, owner, org)

			b := browsertest.New(t, w.accept)
			b.Open(app + "/login")
			b.Fill(w.email, "owner@example.com")
			b.Go("button", loginWords[lang][1])
			b.Fill(w.password, pw)
			b.Shot("app-login")
			b.Go("button", w.logIn)
			clock.Advance(30 * time.Second)
			b.Fill(w.authCode, totp.Code(secret, totp.Step(clock.Now()), otp.DigitsSix))
			b.Go("button", w.verify)
			b.See("Signed in as owner@example.com (acr=mfa)")
			b.Shot("in-the-app")
			if !strings.HasPrefix(b.Location(), app+"/cb") {
				t.Fatalf("the browser is at %s", b.Location())
			}

			// The organization requires 2FA: a member without it is sent to
			// set it up; the app does not see them.
			owner.Form(org+"/security", map[string]string{"require": "on"})
			invited(t, env, owner, org, "member@example.com", "Grace Hopper")
			m := browsertest.New(t, w.accept)
			m.Open(app + "/login")
			logIn(m, lang, "member@example.com", pw)
			m.See("Acme")
			m.Has("button", w.enable)
			m.Shot("set-up-first")
			if loc := m.Location(); strings.HasPrefix(loc, app) || !strings.Contains(loc, "/two-factor/setup") {
				t.Fatalf("the member is at %s", loc)
			}
		})
	}
}
