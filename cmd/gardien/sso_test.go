package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/app"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/config"
	"github.com/gardien/gardien/internal/sso/ssotest"
)

// An operator verifies a domain whose DNS cannot hold the TXT record.
func TestOperatorVerifiesAnSSODomain(t *testing.T) {
	ctx := context.Background()
	cfg, env, a := freshApp(t)
	dir := cfg.DataDir
	su, err := a.Auth.SignUp(ctx, auth.SignupInput{Email: "owner@example.com", Password: "correct horse battery staple", Name: "Owner"}, "", gardien.Client{})
	if err != nil {
		t.Fatal(err)
	}
	o, err := a.Auth.CreateOrganization(ctx, su.User, "Acme", gardien.Client{})
	if err != nil {
		t.Fatal(err)
	}
	secret := "s"
	if _, err := a.Auth.SaveSSO(ctx, su.User, o.ID, auth.SSOInput{Protocol: "oidc", Domains: []string{"acme.example"},
		Issuer: ssotest.StartOP(t, nil), ClientID: "gardien", ClientSecret: &secret}, gardien.Client{}); err != nil {
		t.Fatal(err)
	}
	a.Auth.Wait(ctx)
	a.Store.Close()

	id := fmt.Sprint(o.ID)
	var out bytes.Buffer
	if err := run(ctx, []string{"sso", "verify-domain", id, "ACME.example", "-data-dir", dir}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "is verified") {
		t.Fatalf("output: %s", out.String())
	}
	err = run(ctx, []string{"sso", "verify-domain", id, "acme.example", "-data-dir", dir}, env, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "verified already") {
		t.Fatalf("verifying again: %v, want words saying it is verified already", err)
	}
	for _, args := range [][]string{{"sso"}, {"sso", "verify-domain", "acme", "acme.example"}, {"sso", "frobnicate", "1", "x"}} {
		if err := run(ctx, args, env, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "verify-domain") {
			t.Errorf("%v: %v, want a usage line", args, err)
		}
	}
}

func TestOperatorDeletesAnAccount(t *testing.T) {
	ctx := context.Background()
	cfg, env, a := freshApp(t)
	dir := cfg.DataDir
	su, err := a.Auth.SignUp(ctx, auth.SignupInput{Email: "ada@example.com", Password: "correct horse battery staple", Name: "Ada"}, "", gardien.Client{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Auth.CreateOrganization(ctx, su.User, "Acme", gardien.Client{}); err != nil {
		t.Fatal(err)
	}
	a.Auth.Wait(ctx)
	a.Store.Close()
	err = run(ctx, []string{"user", "delete", "ada@example.com", "-data-dir", dir}, env, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "last owner of Acme") {
		t.Fatalf("deleting the last owner: %v, want words naming Acme", err)
	}
	su2, _ := func() (*auth.SignedUp, error) {
		a, _ := app.New(ctx, cfg, app.Options{})
		defer a.Store.Close()
		defer a.Auth.Wait(ctx)
		return a.Auth.SignUp(ctx, auth.SignupInput{Email: "bob@example.com", Password: "correct horse battery staple", Name: "Bob"}, "", gardien.Client{})
	}()
	if su2 == nil {
		t.Fatal("bob not signed up")
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"user", "delete", "BOB@example.com", "-data-dir", dir}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "account bob@example.com deleted") {
		t.Fatalf("output: %s", out.String())
	}
}

// freshApp wires the program on a fresh data directory, as the
// operator's commands (run by the user alice) find it.
func freshApp(t *testing.T) (cfg *config.Config, env func(string) string, a *app.App) {
	t.Helper()
	dir := t.TempDir()
	env = func(k string) string {
		return map[string]string{"GARDIEN_DATA_DIR": dir, "USER": "alice", "GARDIEN_SSO_ALLOW_PRIVATE": "true"}[k]
	}
	cfg, _, err := config.Load("test", nil, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if a, err = app.New(context.Background(), cfg, app.Options{}); err != nil {
		t.Fatal(err)
	}
	return cfg, env, a
}

// An operator rotates the OpenID Provider's signing keys: new ones sign,
// the old ones stay published a while.
func TestOperatorRotatesTheSigningKeys(t *testing.T) {
	ctx := context.Background()
	cfg, env, a := freshApp(t)
	first, err := a.Auth.SigningKeys(ctx)
	if err != nil || len(first) != 2 {
		t.Fatalf("first keys: %d %v", len(first), err)
	}
	a.Store.Close()
	var out bytes.Buffer
	if err := run(ctx, []string{"keys", "rotate", "-data-dir", cfg.DataDir}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "RS256") || !strings.Contains(out.String(), "ES256") || !strings.Contains(out.String(), "stay in the JWKS until") {
		t.Fatalf("output: %s", out.String())
	}
	if err := run(ctx, []string{"keys", "frobnicate"}, env, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "keys rotate") {
		t.Fatalf("a wrong subcommand: %v", err)
	}
	b, err := app.New(ctx, cfg, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Store.Close()
	keys, err := b.Auth.SigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	signing, retired := 0, 0
	for _, k := range keys {
		if k.Retired {
			retired++
			if k.ID != first[0].ID && k.ID != first[1].ID {
				t.Errorf("retired %s is not one of the first keys", k.ID)
			}
		} else {
			signing++
		}
	}
	if signing != 2 || retired != 2 {
		t.Fatalf("after rotation: %d signing, %d retired", signing, retired)
	}
}
