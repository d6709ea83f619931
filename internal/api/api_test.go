package api_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/api"
	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/httpx"
)

const pw = "correct horse battery staple"

// signup creates an account through the API and returns its validation token.
func signup(t testing.TB, env *apptest.Env, c *apptest.Client, email string) string {
	t.Helper()
	r := c.API("POST", "/signup", map[string]any{"email": email, "password": pw, "name": "Ada Lovelace"})
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("signup: %d %s", r.StatusCode, r.Body)
	}
	return env.Mail.Wait(t, email).Token()
}

func login(t testing.TB, c *apptest.Client, email, password string) *apptest.Response {
	t.Helper()
	return c.API("POST", "/login", map[string]any{"email": email, "password": password})
}

func wantProblem(t *testing.T, r *apptest.Response, status int, code string) map[string]any {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", r.StatusCode, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	p := r.JSON()
	if p["code"] != code || p["status"] != float64(status) || p["detail"] == "" {
		t.Fatalf("problem %v, want code %s", p, code)
	}
	return p
}

func fieldsOf(p map[string]any) []string {
	var out []string
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		out = append(out, e.(map[string]any)["field"].(string))
	}
	return out
}

func TestSignupValidateLoginLogout(t *testing.T) {
	apptest.OnEachDatabase(t, func(t *testing.T, db []apptest.Option) {
		env := apptest.Start(t, db...)
		c := env.Client(t)
		r := c.API("POST", "/signup", map[string]any{"email": "  Ada@Example.COM ", "password": pw, "name": " Ada  Lovelace "})
		if r.StatusCode != http.StatusCreated {
			t.Fatalf("signup: %d %s", r.StatusCode, r.Body)
		}
		u := r.JSON()["user"].(map[string]any)
		if u["email"] != "Ada@example.com" || u["name"] != "Ada Lovelace" || u["email_verified"] != false || u["sso"] != false || u["two_factor_enabled"] != false {
			t.Fatalf("signup user: %v", u)
		}
		m := env.Mail.Wait(t, "Ada@example.com")
		if !m.TLS {
			t.Error("validation mail did not go over STARTTLS although the server offers it")
		}
		if !strings.HasPrefix(m.Link(), env.URL+"/verify-email?token=") || m.Token() == "" {
			t.Fatalf("validation mail link %q in:\n%s", m.Link(), m.Text)
		}
		if m.Subject != "Validate your email" || !strings.Contains(m.HTML, m.Link()) {
			t.Fatalf("validation mail: subject %q, html has link: %v", m.Subject, strings.Contains(m.HTML, m.Link()))
		}

		// Login works before validation.
		r = login(t, c, "ada@example.com", pw)
		if r.StatusCode != 200 || r.JSON()["status"] != "ok" {
			t.Fatalf("login: %d %s", r.StatusCode, r.Body)
		}
		var ck *http.Cookie
		for _, x := range r.Cookies() {
			if x.Name == "gardien_session" {
				ck = x
			}
		}
		if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure || ck.Path != "/" {
			t.Fatalf("session cookie: %+v", ck)
		}
		me := c.API("GET", "/me", nil)
		if me.StatusCode != 200 {
			t.Fatalf("me: %d %s", me.StatusCode, me.Body)
		}
		orgs, ok := me.JSON()["organizations"].([]any)
		if !ok || len(orgs) != 0 || me.JSON()["user"].(map[string]any)["email_verified"] != false {
			t.Fatalf("me: %s", me.Body)
		}

		r = c.API("POST", "/email/verify", map[string]any{"token": m.Token()})
		if r.StatusCode != 200 || r.JSON()["user"].(map[string]any)["email_verified"] != true {
			t.Fatalf("verify: %d %s", r.StatusCode, r.Body)
		}
		wantProblem(t, c.API("POST", "/email/verify", map[string]any{"token": m.Token()}), 400, "invalid_token")
		if c.API("GET", "/me", nil).JSON()["user"].(map[string]any)["email_verified"] != true {
			t.Fatal("me does not show the validated email")
		}

		r = c.API("POST", "/logout", nil)
		if r.StatusCode != http.StatusNoContent {
			t.Fatalf("logout: %d %s", r.StatusCode, r.Body)
		}
		wantProblem(t, c.API("GET", "/me", nil), 401, "unauthorized")
	})
}

func TestSignupRefusesBadInput(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.Client(t)
	signup(t, env, c, "taken@example.com")
	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   string
		fields []string
	}{
		{"missing fields", map[string]any{}, 422, "validation_failed", []string{"email", "password", "name"}},
		{"wrongly typed email", map[string]any{"email": 42, "password": pw, "name": "A"}, 422, "validation_failed", []string{"email"}},
		{"null password", map[string]any{"email": "a@example.com", "password": nil, "name": "A"}, 422, "validation_failed", []string{"password"}},
		{"malformed JSON", `{"email": "a@example.com",`, 422, "validation_failed", nil},
		{"JSON that is not an object", `[1,2]`, 422, "validation_failed", nil},
		{"two objects", `{"email":"a@example.com"} {}`, 422, "validation_failed", nil},
		{"invalid email", map[string]any{"email": "not-an-email", "password": pw, "name": "A"}, 422, "validation_failed", []string{"email"}},
		{"short password", map[string]any{"email": "a@example.com", "password": "short1", "name": "A"}, 422, "validation_failed", []string{"password"}},
		{"common password", map[string]any{"email": "a@example.com", "password": "Password123", "name": "A"}, 422, "validation_failed", []string{"password"}},
		{"common French password", map[string]any{"email": "a@example.com", "password": "azertyuiop", "name": "A"}, 422, "validation_failed", []string{"password"}},
		{"blank name", map[string]any{"email": "a@example.com", "password": pw, "name": "   "}, 422, "validation_failed", []string{"name"}},
		{"duplicate email, other case", map[string]any{"email": "TAKEN@example.com", "password": pw, "name": "B"}, 409, "conflict", []string{"email"}},
		{"oversized body", `{"name":"` + strings.Repeat("x", 1<<20+10) + `"}`, 413, "body_too_large", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := wantProblem(t, c.API("POST", "/signup", tc.body), tc.status, tc.code)
			if got := strings.Join(fieldsOf(p), ","); got != strings.Join(tc.fields, ",") {
				t.Fatalf("fields %q, want %q", got, strings.Join(tc.fields, ","))
			}
		})
	}
	// The password is at most 256 characters but at least 128 are accepted.
	r := c.API("POST", "/signup", map[string]any{"email": "long@example.com", "password": strings.Repeat("long pass ", 13), "name": "L"})
	if r.StatusCode != 201 {
		t.Fatalf("130-character password refused: %d %s", r.StatusCode, r.Body)
	}
}

func TestLoginFailuresLookTheSame(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.Client(t)
	signup(t, env, c, "ada@example.com")
	wrong := wantProblem(t, login(t, c, "ada@example.com", "wrong password!"), 401, "invalid_credentials")
	unknown := wantProblem(t, login(t, c, "nobody@example.com", "wrong password!"), 401, "invalid_credentials")
	if wrong["detail"] != unknown["detail"] {
		t.Fatalf("wrong password and unknown email answer differently: %v vs %v", wrong, unknown)
	}
	wantProblem(t, c.API("POST", "/login", map[string]any{"email": "ada@example.com"}), 422, "validation_failed")
	wantProblem(t, c.API("POST", "/login", map[string]any{"email": "ada@example.com", "password": true}), 422, "validation_failed")
}

func TestLoginRotatesTheSession(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.Client(t)
	signup(t, env, c, "ada@example.com")
	login(t, c, "ada@example.com", pw)
	first := c.Jar.Cookies(mustURL(env.URL))
	login(t, c, "ada@example.com", pw)
	// The first session's token no longer works.
	old := env.Client(t)
	old.Jar.SetCookies(mustURL(env.URL), first)
	wantProblem(t, old.API("GET", "/me", nil), 401, "unauthorized")
	if r := c.API("GET", "/me", nil); r.StatusCode != 200 {
		t.Fatalf("new session: %d", r.StatusCode)
	}
}

func TestSessionsExpire(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock), apptest.Setting("GARDIEN_SESSION_IDLE", "30m"), apptest.Setting("GARDIEN_SESSION_MAX", "2h"))
	c := env.Client(t)
	signup(t, env, c, "ada@example.com")
	login(t, c, "ada@example.com", pw)
	for range 4 { // used every 25 minutes: never idle, until the absolute end
		clock.Advance(25 * time.Minute)
		if r := c.API("GET", "/me", nil); r.StatusCode != 200 {
			t.Fatalf("session used every 25 min ended early: %d", r.StatusCode)
		}
	}
	clock.Advance(25 * time.Minute) // 2h05 after login: past the absolute end
	wantProblem(t, c.API("GET", "/me", nil), 401, "unauthorized")

	login(t, c, "ada@example.com", pw)
	clock.Advance(31 * time.Minute)
	wantProblem(t, c.API("GET", "/me", nil), 401, "unauthorized")
}

func TestValidationLinkExpiresAndCanBeResent(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	c := env.Client(t)
	tok := signup(t, env, c, "ada@example.com")
	clock.Advance(24*time.Hour + time.Second)
	wantProblem(t, c.API("POST", "/email/verify", map[string]any{"token": tok}), 400, "invalid_token")
	wantProblem(t, c.API("POST", "/email/resend", nil), 401, "unauthorized")
	login(t, c, "ada@example.com", pw)
	if r := c.API("POST", "/email/resend", nil); r.StatusCode != http.StatusAccepted {
		t.Fatalf("resend: %d %s", r.StatusCode, r.Body)
	}
	fresh := env.Mail.Wait(t, "ada@example.com").Token()
	if r := c.API("POST", "/email/verify", map[string]any{"token": fresh}); r.StatusCode != 200 {
		t.Fatalf("verify with resent link: %d %s", r.StatusCode, r.Body)
	}
	wantProblem(t, c.API("POST", "/email/resend", nil), 409, "conflict")
	wantProblem(t, c.API("POST", "/email/verify", map[string]any{}), 422, "validation_failed")
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c, other := env.Client(t), env.Client(t)
	signup(t, env, c, "ada@example.com")
	login(t, c, "ada@example.com", pw)
	login(t, other, "ada@example.com", pw)
	p := wantProblem(t, c.API("POST", "/me/password", map[string]any{"current_password": "wrong password", "new_password": "another long secret"}), 422, "validation_failed")
	if f := fieldsOf(p); len(f) != 1 || f[0] != "current_password" {
		t.Fatalf("fields %v", f)
	}
	p = wantProblem(t, c.API("POST", "/me/password", map[string]any{"current_password": pw, "new_password": "qwertyuiop"}), 422, "validation_failed")
	if f := fieldsOf(p); len(f) != 1 || f[0] != "new_password" {
		t.Fatalf("fields %v", f)
	}
	if r := c.API("POST", "/me/password", map[string]any{"current_password": pw, "new_password": "another long secret"}); r.StatusCode != 200 {
		t.Fatalf("change: %d %s", r.StatusCode, r.Body)
	}
	if r := c.API("GET", "/me", nil); r.StatusCode != 200 {
		t.Fatal("the session that changed the password ended")
	}
	wantProblem(t, other.API("GET", "/me", nil), 401, "unauthorized")
	env.Mail.WaitSubject(t, "ada@example.com", "Your password was changed")
	wantProblem(t, login(t, other, "ada@example.com", pw), 401, "invalid_credentials")
	if r := login(t, other, "ada@example.com", "another long secret"); r.StatusCode != 200 {
		t.Fatalf("login with new password: %d", r.StatusCode)
	}
}

func TestPasswordReset(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c, other := env.Client(t), env.Client(t)
	signup(t, env, c, "ada@example.com")
	login(t, other, "ada@example.com", pw)

	unknown := c.API("POST", "/password/forgot", map[string]any{"email": "nobody@example.com"})
	known := c.API("POST", "/password/forgot", map[string]any{"email": "ADA@example.com"})
	if unknown.StatusCode != 202 || known.StatusCode != 202 || string(unknown.Body) != string(known.Body) {
		t.Fatalf("forgot answers differ: %d %s / %d %s", unknown.StatusCode, unknown.Body, known.StatusCode, known.Body)
	}
	env.Mail.None(t, "nobody@example.com", 200*time.Millisecond)
	m := env.Mail.WaitSubject(t, "ada@example.com", "Reset your password")
	if !strings.HasPrefix(m.Link(), env.URL+"/password/reset?token=") {
		t.Fatalf("reset link %q", m.Link())
	}
	p := wantProblem(t, c.API("POST", "/password/reset", map[string]any{"token": m.Token(), "password": "short"}), 422, "validation_failed")
	if f := fieldsOf(p); len(f) != 1 || f[0] != "password" {
		t.Fatalf("fields %v", f)
	}
	if r := c.API("POST", "/password/reset", map[string]any{"token": m.Token(), "password": "a brand new secret"}); r.StatusCode != 200 {
		t.Fatalf("reset: %d %s", r.StatusCode, r.Body)
	}
	wantProblem(t, c.API("POST", "/password/reset", map[string]any{"token": m.Token(), "password": "yet another secret"}), 400, "invalid_token")
	wantProblem(t, other.API("GET", "/me", nil), 401, "unauthorized")
	wantProblem(t, login(t, c, "ada@example.com", pw), 401, "invalid_credentials")
	r := login(t, c, "ada@example.com", "a brand new secret")
	if r.StatusCode != 200 {
		t.Fatalf("login after reset: %d", r.StatusCode)
	}
	// The link came by mail: the address is proven.
	if c.API("GET", "/me", nil).JSON()["user"].(map[string]any)["email_verified"] != true {
		t.Fatal("email not validated by a password reset")
	}
}

func TestProfileAndEvents(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.Client(t)
	signup(t, env, c, "ada@example.com")
	login(t, c, "ada@example.com", pw)
	r := c.API("PATCH", "/me", map[string]any{"name": "Ada King", "language": "fr"})
	if r.StatusCode != 200 || r.JSON()["user"].(map[string]any)["language"] != "fr" || r.JSON()["user"].(map[string]any)["name"] != "Ada King" {
		t.Fatalf("patch me: %d %s", r.StatusCode, r.Body)
	}
	// Problems now come in the saved language.
	p := wantProblem(t, c.API("PATCH", "/me", map[string]any{"language": "de"}), 422, "validation_failed")
	if !strings.Contains(p["errors"].([]any)[0].(map[string]any)["detail"].(string), "Choisissez") {
		t.Fatalf("problem not in French: %v", p)
	}
	ev := c.API("GET", "/me/events", nil).JSON()["events"].([]any)
	var types []string
	for _, e := range ev {
		types = append(types, e.(map[string]any)["type"].(string))
	}
	// Signing up logs in (as on the pages), then the test logs in again.
	if strings.Join(types, ",") != "user.login,user.login,user.signup" {
		t.Fatalf("events %v", types)
	}
}

func TestAnswersAreAlwaysJSON(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.Client(t)
	wantProblem(t, c.API("GET", "/nothing-here", nil), 404, "not_found")
	r := c.API("GET", "/login", nil)
	wantProblem(t, r, 405, "not_found")
	if r.Header.Get("Allow") != "POST" {
		t.Fatalf("Allow %q", r.Header.Get("Allow"))
	}
	wantProblem(t, c.API("POST", "/logout", nil), 401, "unauthorized")
	if h := c.API("GET", "/me", nil).Header; h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("security headers missing: %v", h)
	}
}

func TestCrossOriginPostsAreRefused(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.Client(t)
	c.Header.Set("Sec-Fetch-Site", "cross-site")
	c.Header.Set("Origin", "https://evil.example")
	r := c.API("POST", "/signup", map[string]any{"email": "a@example.com", "password": pw, "name": "A"})
	if r.StatusCode != 403 || r.JSON()["code"] != "forbidden" || r.JSON()["request_id"] == "" {
		t.Fatalf("cross-site signup: %d %s", r.StatusCode, r.Body)
	}
	// Said as every problem is: in the caller's language.
	c.Header.Set("Accept-Language", "fr")
	r = c.API("POST", "/signup", map[string]any{"email": "a@example.com", "password": pw, "name": "A"})
	if d, _ := r.JSON()["detail"].(string); r.StatusCode != 403 || !strings.Contains(d, "autre site") {
		t.Fatalf("cross-site signup, in French: %d %s", r.StatusCode, r.Body)
	}
	// A page refused so is a page, in the caller's language.
	if p := c.Form("/signup", map[string]string{"email": "a@example.com"}); p.StatusCode != 403 || !strings.Contains(string(p.Body), "autre site") {
		t.Fatalf("cross-site form: %d %s", p.StatusCode, p.Body)
	}
	c.Header.Del("Accept-Language")
	c.Header.Set("Sec-Fetch-Site", "same-origin")
	c.Header.Set("Origin", env.URL)
	if r := c.API("POST", "/signup", map[string]any{"email": "a@example.com", "password": pw, "name": "A"}); r.StatusCode != 201 {
		t.Fatalf("same-origin signup: %d %s", r.StatusCode, r.Body)
	}
}

func TestCookieIsSecureOverHTTPS(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Setting("GARDIEN_BASE_URL", "https://id.example.com"))
	c := env.Client(t)
	c.API("POST", "/signup", map[string]any{"email": "ada@example.com", "password": pw, "name": "Ada"})
	r := login(t, c, "ada@example.com", pw)
	// The session's cookie and the browser's, both pinned to this host.
	for _, name := range []string{"__Host-gardien_session=", "__Host-gardien_browser="} {
		set := ""
		for _, v := range r.Header.Values("Set-Cookie") {
			if strings.HasPrefix(v, name) {
				set = v
			}
		}
		for _, want := range []string{name, "Path=/", "HttpOnly", "Secure", "SameSite=Lax"} {
			if !strings.Contains(set, want) {
				t.Errorf("Set-Cookie %q lacks %q", set, want)
			}
		}
	}
	if m := env.Mail.Wait(t, "ada@example.com"); !strings.HasPrefix(m.Link(), "https://id.example.com/verify-email?token=") {
		t.Errorf("mail link %q does not use the base URL", m.Link())
	}
}

func TestPasswordGuessingIsSlowed(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	c := env.Client(t)
	signup(t, env, c, "ada@example.com")
	signup(t, env, c, "bob@example.com")
	for i := range 10 {
		wantProblem(t, login(t, c, "ada@example.com", fmt.Sprintf("wrong password %d", i)), 401, "invalid_credentials")
	}
	r := login(t, c, "ada@example.com", pw)
	wantProblem(t, r, 429, "rate_limited")
	if r.Header.Get("Retry-After") != "900" {
		t.Fatalf("Retry-After %q, want 900", r.Header.Get("Retry-After"))
	}
	// Unknown emails are slowed the same way: nothing tells them apart.
	for range 10 {
		login(t, c, "nobody@example.com", "wrong password")
	}
	wantProblem(t, login(t, c, "nobody@example.com", "wrong password"), 429, "rate_limited")
	// Other accounts are not locked by someone guessing Ada's password.
	if r := login(t, c, "bob@example.com", pw); r.StatusCode != 200 {
		t.Fatalf("another account: %d %s", r.StatusCode, r.Body)
	}
	clock.Advance(15*time.Minute + time.Second)
	if r := login(t, c, "ada@example.com", pw); r.StatusCode != 200 {
		t.Fatalf("after the window: %d %s", r.StatusCode, r.Body)
	}
	// A right password forgets the count.
	for range 9 {
		login(t, c, "ada@example.com", "wrong password")
	}
	login(t, c, "ada@example.com", pw)
	for range 9 {
		login(t, c, "ada@example.com", "wrong password")
	}
	if r := login(t, c, "ada@example.com", pw); r.StatusCode != 200 {
		t.Fatalf("after a success and 9 failures: %d %s", r.StatusCode, r.Body)
	}
}

// New sign-in alerts through the API: on by default, turned off with a
// PUT (audited), a body without the field refused; a client that keeps
// its cookies is known at its next login.
func TestSignInAlertsThroughTheAPI(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	p := verified(t, env, "ada@example.com")
	if r := p.c.API("GET", "/me/sign-in-alerts", nil).JSON(); r["enabled"] != true {
		t.Fatalf("default: %v", r)
	}
	login(t, p.c, "ada@example.com", pw) // the same cookie jar: known
	other := env.Client(t)
	login(t, other, "ada@example.com", pw)
	env.Mail.WaitSubject(t, "ada@example.com", "New sign-in to your account")
	wantProblem(t, p.c.API("PUT", "/me/sign-in-alerts", map[string]any{}), 422, "validation_failed")
	wantProblem(t, p.c.API("PUT", "/me/sign-in-alerts", map[string]any{"enabled": "no"}), 422, "validation_failed")
	if r := p.c.API("PUT", "/me/sign-in-alerts", map[string]any{"enabled": false}).JSON(); r["enabled"] != false {
		t.Fatalf("turned off: %v", r)
	}
	if r := p.c.API("GET", "/me/events", nil); !strings.Contains(string(r.Body), `"user.sign_in_alerts_off"`) {
		t.Fatalf("events: %s", r.Body)
	}
	login(t, env.Client(t), "ada@example.com", pw)
	env.Mail.None(t, "ada@example.com", 300*time.Millisecond)
}

// TestTheMiddlewaresRefusalsAreProblems: what the server's middleware
// hands the API to answer (a panic, a cross-site request) is a problem
// like any other, in the caller's language, with its request id.
func TestTheMiddlewaresRefusalsAreProblems(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	h := api.New(env.App.Auth, env.App.Catalog, httpx.Cookies{}, slog.New(slog.DiscardHandler))
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/api/v1/me", nil)
	r.Header.Set("Accept-Language", "fr")
	h.Fail(w, r, &gardien.Error{Code: gardien.CodeInternal, Message: "err.internal"})
	var p map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || w.Code != 500 || w.Header().Get("Content-Type") != "application/problem+json" ||
		p["code"] != "internal" || !strings.Contains(p["detail"].(string), "notre côté") {
		t.Fatalf("a panic's answer: %d %s %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
}
