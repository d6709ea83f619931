package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gardien/gardien/internal/apptest"
)

// bearer is a client that sends only the token (no cookies of a session).
func bearer(env *apptest.Env, t *testing.T, token string) *apptest.Client {
	c := env.Client(t)
	c.Header.Set("Authorization", "Bearer "+token)
	return c
}

// TestAPITokensActWithinTheirScopes: a person's token makes the calls its
// scopes name and no other; the calls of second factors, passwords, SSO and
// tokens take none; it ends when it expires or is revoked; a request with
// a token is the token's (its cookies are not looked at); a token's request
// carries no CSRF proof, a cookie's still needs one.
func TestAPITokensActWithinTheirScopes(t *testing.T) {
	apptest.OnEachDatabase(t, func(t *testing.T, db []apptest.Option) {
		clock := apptest.NewClock()
		env := apptest.Start(t, append(db, apptest.WithClock(clock))...)
		p := env.NewPerson(t, "owner@example.com")
		p.Enable(t, clock)
		org := fmt.Sprint(apptest.MustAPI(t, p.C, "POST", "/organizations", map[string]any{"name": "Acme"})["organization"].(map[string]any)["id"])
		make := func(scopes ...string) (string, string) {
			t.Helper()
			r := p.C.API("POST", "/me/tokens", map[string]any{"name": "CI " + strings.Join(scopes, ","), "scopes": scopes,
				"expires_at": clock.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)})
			if r.StatusCode != http.StatusCreated {
				t.Fatalf("make a token: %d %s", r.StatusCode, r.Body)
			}
			tok := r.JSON()["token"].(map[string]any)
			return tok["token"].(string), fmt.Sprint(tok["id"])
		}
		wantProblem(t, p.C.API("POST", "/me/tokens", map[string]any{"name": "x", "scopes": []string{"sso:write"}}), 422, "validation_failed")
		wantProblem(t, p.C.API("POST", "/me/tokens", map[string]any{"name": "x", "scopes": []string{}}), 422, "validation_failed")
		wantProblem(t, p.C.API("POST", "/me/tokens", map[string]any{"name": "x", "scopes": []string{"profile:read"}, "expires_at": "2001-01-01"}), 422, "validation_failed")

		calls := map[string]struct{ method, path string }{
			"profile:read":   {"GET", "/me"},
			"members:read":   {"GET", "/organizations/" + org + "/members"},
			"members:write":  {"POST", "/organizations/" + org + "/reminders"},
			"audit:read":     {"GET", "/organizations/" + org + "/events"},
			"security:read":  {"GET", "/organizations/" + org + "/security"},
			"security:write": {"PUT", "/organizations/" + org + "/security"},
		}
		body := map[string]any{"require_two_factor": false}
		for scope, call := range calls {
			tok, _ := make(scope)
			c := bearer(env, t, tok)
			if r := c.API(call.method, call.path, body); r.StatusCode >= 400 {
				t.Errorf("%s with a %s token: %d %s", call.path, scope, r.StatusCode, r.Body)
			}
			for other, o := range calls {
				if other != scope {
					wantProblem(t, c.API(o.method, o.path, body), 403, "forbidden")
				}
			}
		}

		// Calls no token makes, whatever its scopes.
		all, id := make("profile:read", "members:read", "members:write", "audit:read", "security:read", "security:write")
		c := bearer(env, t, all)
		for _, call := range []struct{ method, path string }{
			{"POST", "/me/two-factor/disable"}, {"POST", "/me/password"}, {"POST", "/me/tokens"}, {"GET", "/me/tokens"},
			{"PUT", "/organizations/" + org + "/sso"}, {"DELETE", "/organizations/" + org + "/members/1/two-factor"},
			{"POST", "/me/passkeys/register"}, {"POST", "/login/two-factor"}, {"DELETE", "/me"},
		} {
			wantProblem(t, c.API(call.method, call.path, map[string]any{"password": apptest.Password}), 403, "forbidden")
		}

		// A token's request is the token's: a session cookie beside it
		// opens nothing more, and a bad token is not taken for no token.
		p.C.Header.Set("Authorization", "Bearer "+all)
		wantProblem(t, p.C.API("GET", "/me/tokens", nil), 403, "forbidden")
		p.C.Header.Set("Authorization", "Bearer gdn_nothing")
		wantProblem(t, p.C.API("GET", "/me", nil), 401, "unauthorized")
		p.C.Header.Del("Authorization")

		// No CSRF proof for a token; a cookie's request from another site is refused.
		c.Header.Set("Origin", "https://evil.example")
		c.Header.Set("Sec-Fetch-Site", "cross-site")
		wantProblem(t, c.API("POST", "/organizations/"+org+"/reminders", nil), 403, "forbidden")
		c.Header.Del("Origin")
		c.Header.Del("Sec-Fetch-Site")
		if r := c.API("POST", "/organizations/"+org+"/reminders", nil); r.StatusCode >= 400 && r.StatusCode != 429 {
			t.Fatalf("a program's POST with its token: %d %s", r.StatusCode, r.Body)
		}

		// Listed without its value, with its last use; revoked: nothing more.
		list := apptest.MustAPI(t, p.C, "GET", "/me/tokens", nil)["tokens"].([]any)
		first := list[0].(map[string]any)
		if len(list) != 7 || first["token"] != nil || first["last_used_at"] == nil || !strings.HasPrefix(first["prefix"].(string), "gdn_") {
			t.Fatalf("tokens: %v", list)
		}
		if r := p.C.API("DELETE", "/me/tokens/"+id, nil); r.StatusCode != 204 {
			t.Fatalf("revoke: %d %s", r.StatusCode, r.Body)
		}
		wantProblem(t, c.API("GET", "/me", nil), 401, "unauthorized")
		wantProblem(t, p.C.API("DELETE", "/me/tokens/"+id, nil), 404, "not_found")

		// Expired: nothing more.
		tok, _ := make("profile:read")
		ruled := apptest.MustAPI(t, p.C, "POST", "/me/tokens", map[string]any{"name": "forever", "scopes": []string{"profile:read"}})["token"].(map[string]any)["token"].(string)
		clock.Advance(31 * 24 * time.Hour)
		wantProblem(t, bearer(env, t, tok).API("GET", "/me", nil), 401, "unauthorized")

		// An organization's rules hold first: a requirement the person has
		// not met holds their token back too (their app reset by an
		// operator, Acme requiring 2FA).
		if _, err := env.App.Auth.ResetTwoFactor(t.Context(), "owner@example.com", "ops"); err != nil {
			t.Fatal(err)
		}
		apptest.MustAPI(t, bearer(env, t, ruled), "GET", "/me", nil) // no requirement yet
		if _, err := env.DB.Exec(env.Q("UPDATE organizations SET require_two_factor = ? WHERE id = ?"), true, org); err != nil {
			t.Fatal(err)
		}
		wantProblem(t, bearer(env, t, ruled).API("GET", "/me", nil), 403, "two_factor_setup_required")
	})
}

// TestHostileAuthorizationHeaders: whatever the Authorization header, a
// 4xx, never a 5xx.
func TestHostileAuthorizationHeaders(t *testing.T) {
	env := apptest.Start(t)
	for _, h := range []string{"Bearer", "Bearer ", "bearer gdn_", "Bearer " + strings.Repeat("a", 10000), "Bearer gdn_\xff\xfe",
		"Bearer gdn_" + strings.Repeat("%00", 20), "Basic YWRhOnB3", "Bearer gdn_a gdn_b", "Bearer\tgdn_x"} {
		c := env.Client(t)
		c.Header.Set("Authorization", h)
		for _, path := range []string{"/me", "/organizations", "/login"} {
			if r := c.API("GET", path, nil); r.StatusCode < 400 || r.StatusCode >= 500 {
				t.Errorf("Authorization %.30q on %s: %d %s", h, path, r.StatusCode, r.Body)
			}
		}
	}
}

// TestOrganizationTokens: an owner makes a token of the organization; it
// acts on that organization only, within its scopes, and stops when its
// maker no longer owns it; admins cannot make one.
func TestOrganizationTokens(t *testing.T) {
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	owner := env.NewPerson(t, "owner@example.com")
	owner.Enable(t, clock)
	acme := fmt.Sprint(apptest.MustAPI(t, owner.C, "POST", "/organizations", map[string]any{"name": "Acme"})["organization"].(map[string]any)["id"])
	beta := fmt.Sprint(apptest.MustAPI(t, owner.C, "POST", "/organizations", map[string]any{"name": "Beta"})["organization"].(map[string]any)["id"])
	wantProblem(t, owner.C.API("POST", "/organizations/"+acme+"/tokens", map[string]any{"name": "x", "scopes": []string{"profile:read"}}), 422, "validation_failed")
	r := owner.C.API("POST", "/organizations/"+acme+"/tokens", map[string]any{"name": "SIEM", "scopes": []string{"audit:read", "members:read"}})
	if r.StatusCode != 201 {
		t.Fatalf("make: %d %s", r.StatusCode, r.Body)
	}
	c := bearer(env, t, r.JSON()["token"].(map[string]any)["token"].(string))
	apptest.MustAPI(t, c, "GET", "/organizations/"+acme+"/events", nil)
	apptest.MustAPI(t, c, "GET", "/organizations/"+acme+"/members", nil)
	wantProblem(t, c.API("GET", "/organizations/"+beta+"/events", nil), 403, "forbidden") // another organization of its maker's
	wantProblem(t, c.API("GET", "/me", nil), 403, "forbidden")
	wantProblem(t, c.API("GET", "/organizations/"+acme+"/security", nil), 403, "forbidden") // no such scope
	if list := apptest.MustAPI(t, owner.C, "GET", "/organizations/"+acme+"/tokens", nil)["tokens"].([]any); len(list) != 1 {
		t.Fatalf("tokens: %v", list)
	}
	if mine := apptest.MustAPI(t, owner.C, "GET", "/me/tokens", nil)["tokens"].([]any); len(mine) != 0 {
		t.Fatalf("an organization's token among one's own: %v", mine)
	}

	// An admin may not make one; when the maker no longer owns Acme, it stops.
	admin := env.NewPerson(t, "admin@example.com")
	apptest.MustAPI(t, owner.C, "POST", "/organizations/"+acme+"/invitations", map[string]any{"email": "admin@example.com", "role": "owner"})
	apptest.MustAPI(t, admin.C, "POST", "/invitations/accept", map[string]any{"token": env.Mail.Wait(t, "admin@example.com").Token()})
	if r := admin.C.API("PUT", "/organizations/"+acme+"/members/"+owner.ID, map[string]any{"role": "admin"}); r.StatusCode >= 300 {
		t.Fatalf("demote the maker: %d %s", r.StatusCode, r.Body)
	}
	wantProblem(t, owner.C.API("POST", "/organizations/"+acme+"/tokens", map[string]any{"name": "x", "scopes": []string{"audit:read"}}), 403, "forbidden")
	wantProblem(t, c.API("GET", "/organizations/"+acme+"/events", nil), 401, "unauthorized")
}
