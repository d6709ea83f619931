package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/testenv"
)

// wantUnavailable checks a 503 that leaves the session cookie alone.
func wantUnavailable(t *testing.T, what string, r *apptest.Response) {
	t.Helper()
	if r.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("%s during the outage: %d, want 503: %s", what, r.StatusCode, r.Body)
	}
	if r.Header.Get("Retry-After") == "" {
		t.Errorf("%s: 503 without Retry-After", what)
	}
	if sc := r.Header.Values("Set-Cookie"); len(sc) > 0 && strings.Contains(strings.Join(sc, " "), "gardien_session") {
		t.Errorf("%s: the outage touched the session cookie: %v", what, sc)
	}
}

func TestDatabaseOutageKeepsPeopleLoggedIn(t *testing.T) {
	t.Parallel()
	url, db := testenv.PostgresProxy(t)
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.Setting("GARDIEN_DATABASE_URL", url), apptest.Setting("GARDIEN_DATABASE_TIMEOUT", "1s"), apptest.WithClock(clock))
	c := env.Client(t)
	signup(t, env, c, "ada@example.com")
	login(t, c, "ada@example.com", pw)
	if r := c.API("GET", "/me", nil); r.StatusCode != 200 {
		t.Fatalf("me: %d %s", r.StatusCode, r.Body)
	}
	// Bea is at her second step, whose route reads its session itself.
	bea := enabled(t, env, clock, "bea@example.com")
	second := env.Client(t)
	login(t, second, bea.email, pw)
	for name, outage := range map[string]func(){"stopped": db.Cut, "frozen": db.Freeze} {
		outage()
		wantUnavailable(t, name+": a code", second.API("POST", "/login/two-factor", map[string]any{"code": bea.code(clock)}))
		wantUnavailable(t, name+": the code page's form", second.Form("/login/two-factor", map[string]string{"code": bea.code(clock)}))
		r := c.API("GET", "/me", nil)
		wantUnavailable(t, name+": GET /api/v1/me", r)
		wantProblem(t, r, 503, "unavailable")
		wantUnavailable(t, name+": a page", c.Get("/settings/profile"))
		anon := env.Client(t)
		wantProblem(t, anon.API("POST", "/login", map[string]any{"email": "ada@example.com", "password": pw}), 503, "unavailable")
		wantUnavailable(t, name+": the login page's form", anon.Form("/login", map[string]string{"email": "ada@example.com", "password": pw}))
		if r := anon.Get("/readyz"); r.StatusCode != 503 {
			t.Errorf("%s: readyz %d, want 503", name, r.StatusCode)
		}
		db.Restore()
		if r := c.API("GET", "/me", nil); r.StatusCode != 200 {
			t.Fatalf("%s: after the database came back: %d %s (the person was logged out)", name, r.StatusCode, r.Body)
		}
	}
	if r := second.API("POST", "/login/two-factor", map[string]any{"code": bea.code(clock)}); r.StatusCode != 200 {
		t.Fatalf("the second step after the outages: %d %s", r.StatusCode, r.Body)
	}
}
