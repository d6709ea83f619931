package api_test

import (
	"encoding/base32"
	"fmt"
	_ "image/png"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/totp"
	"github.com/gardien/gardien/internal/totp/totptest"
)

// person is an account with its client and, once enabled, its TOTP secret.
type person struct {
	email  string
	c      *apptest.Client
	secret []byte
	codes  []string
}

// code is what the person's authenticator app shows at the clock's time.
func (p *person) code(clock *apptest.Clock) string {
	return totp.Code(p.secret, totp.Step(clock.Now()), otp.DigitsSix)
}

// verified signs up, validates the email and logs in.
func verified(t testing.TB, env *apptest.Env, email string) *person {
	t.Helper()
	c := env.Client(t)
	tok := signup(t, env, c, email)
	if r := c.API("POST", "/email/verify", map[string]any{"token": tok}); r.StatusCode != 200 {
		t.Fatalf("verify: %d", r.StatusCode)
	}
	if r := login(t, c, email, pw); r.StatusCode != 200 {
		t.Fatalf("login: %d", r.StatusCode)
	}
	return &person{email: email, c: c}
}

// enabled is verified, with 2FA on.
func enabled(t testing.TB, env *apptest.Env, clock *apptest.Clock, email string) *person {
	t.Helper()
	p := verified(t, env, email)
	r := p.c.API("POST", "/me/two-factor/setup", nil)
	if r.StatusCode != 200 {
		t.Fatalf("setup: %d %s", r.StatusCode, r.Body)
	}
	p.secret, _ = base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(r.JSON()["secret"].(string))
	r = p.c.API("POST", "/me/two-factor/activate", map[string]any{"code": p.code(clock)})
	if r.StatusCode != 200 {
		t.Fatalf("activate: %d %s", r.StatusCode, r.Body)
	}
	for _, c := range r.JSON()["recovery_codes"].([]any) {
		p.codes = append(p.codes, c.(string))
	}
	env.Mail.WaitSubject(t, email, "Two-factor authentication is on")
	clock.Advance(30 * time.Second)
	return p
}

func TestEnableTwoFactor(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	c := env.Client(t)
	tok := signup(t, env, c, "ada@example.com")
	login(t, c, "ada@example.com", pw)
	wantProblem(t, c.API("POST", "/me/two-factor/setup", nil), 403, "email_not_verified")
	c.API("POST", "/email/verify", map[string]any{"token": tok})

	r := c.API("POST", "/me/two-factor/setup", nil)
	if r.StatusCode != 200 {
		t.Fatalf("setup: %d %s", r.StatusCode, r.Body)
	}
	secret, uri, qr := r.JSON()["secret"].(string), r.JSON()["otpauth_uri"].(string), r.JSON()["qr_png"].(string)
	if len(secret) != 32 || strings.Contains(secret, "=") || !strings.Contains(uri, "secret="+secret) ||
		!strings.HasPrefix(uri, "otpauth://totp/Gardien:ada@example.com?") || !strings.Contains(uri, "issuer=Gardien") {
		t.Fatalf("secret %q uri %q", secret, uri)
	}
	if !strings.HasPrefix(qr, "data:image/png;base64,") {
		t.Fatalf("qr_png %.40q", qr)
	}
	if got := totptest.DecodeQR(t, []byte(qr)); got != uri {
		t.Fatalf("QR holds %q, want %q", got, uri)
	}
	if st := c.API("GET", "/me/two-factor", nil).JSON(); st["enabled"] != false {
		t.Fatalf("pending secret reported as enabled: %v", st)
	}
	p := &person{c: c}
	p.secret, _ = base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)

	wrong := "000000"
	if p.code(clock) == wrong {
		wrong = "111111"
	}
	wantProblem(t, c.API("POST", "/me/two-factor/activate", map[string]any{"code": wrong}), 401, "invalid_code")
	wantProblem(t, c.API("POST", "/me/two-factor/activate", map[string]any{}), 422, "validation_failed")
	r = c.API("POST", "/me/two-factor/activate", map[string]any{"code": p.code(clock)})
	if r.StatusCode != 200 {
		t.Fatalf("activate: %d %s", r.StatusCode, r.Body)
	}
	codes := r.JSON()["recovery_codes"].([]any)
	seen := map[string]bool{}
	for _, x := range codes {
		seen[x.(string)] = true
	}
	if len(codes) != 10 || len(seen) != 10 {
		t.Fatalf("recovery codes: %v", codes)
	}
	if m := env.Mail.Wait(t, "ada@example.com"); m.Subject != "Two-factor authentication is on" {
		t.Fatalf("mail %q", m.Subject)
	}
	me := c.API("GET", "/me", nil).JSON()["user"].(map[string]any)
	if me["two_factor_enabled"] != true {
		t.Fatalf("me: %v", me)
	}
	st := c.API("GET", "/me/two-factor", nil).JSON()
	if st["enabled"] != true || st["recovery_codes_remaining"] != float64(10) {
		t.Fatalf("status: %v", st)
	}
	wantProblem(t, c.API("POST", "/me/two-factor/setup", nil), 409, "two_factor_already_enabled")
	// The session survived activation with a new token.
	if r := c.API("GET", "/me", nil); r.StatusCode != 200 {
		t.Fatalf("session after activation: %d", r.StatusCode)
	}
}

func TestSSOUsersCannotEnableTwoFactor(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	u := &gardien.User{Email: "sso@example.com", Name: "S", SSO: true, CreatedAt: time.Now()}
	if err := env.App.Store.CreateUser(t.Context(), u, "sso@example.com", "!"); err != nil {
		t.Fatal(err)
	}
	env.App.Store.SetEmailVerified(t.Context(), u.ID, time.Now())
	sess := &gardien.Session{UserID: u.ID, Level: gardien.LevelFull, CreatedAt: time.Now(), LastSeenAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
	if err := env.App.Store.CreateSession(t.Context(), sess, sha256Of("sso-session-secret")); err != nil {
		t.Fatal(err)
	}
	c := env.Client(t)
	c.Jar.SetCookies(mustURL(env.URL), []*http.Cookie{{Name: "gardien_session", Value: fmt.Sprint(sess.ID, ".sso-session-secret"), Path: "/"}})
	wantProblem(t, c.API("POST", "/me/two-factor/setup", nil), 403, "sso_user")
}

func TestPendingSecretExpires(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	p := verified(t, env, "ada@example.com")
	r := p.c.API("POST", "/me/two-factor/setup", nil)
	p.secret, _ = base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(r.JSON()["secret"].(string))
	clock.Advance(15*time.Minute + time.Second)
	wantProblem(t, p.c.API("POST", "/me/two-factor/activate", map[string]any{"code": p.code(clock)}), 409, "conflict")
	// A new set-up works.
	r = p.c.API("POST", "/me/two-factor/setup", nil)
	p.secret, _ = base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(r.JSON()["secret"].(string))
	if r := p.c.API("POST", "/me/two-factor/activate", map[string]any{"code": p.code(clock)}); r.StatusCode != 200 {
		t.Fatalf("activate after a new set-up: %d %s", r.StatusCode, r.Body)
	}
}

func TestLoginAsksForTheCodeAndAcceptsItOnce(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	p := enabled(t, env, clock, "ada@example.com")
	c := env.Client(t)
	r := login(t, c, p.email, pw)
	if r.StatusCode != 200 || r.JSON()["status"] != "two_factor_required" {
		t.Fatalf("login: %d %s", r.StatusCode, r.Body)
	}
	// Until the second step, the session reaches only /me, /logout and the code.
	me := c.API("GET", "/me", nil)
	if me.StatusCode != 200 || me.JSON()["session"].(map[string]any)["status"] != "two_factor_required" {
		t.Fatalf("me at the second step: %d %s", me.StatusCode, me.Body)
	}
	for _, call := range []struct{ method, path string }{
		{"PATCH", "/me"}, {"POST", "/me/password"}, {"GET", "/me/two-factor"}, {"POST", "/me/two-factor/setup"},
		{"POST", "/me/two-factor/disable"}, {"GET", "/me/events"}, {"POST", "/email/resend"},
	} {
		wantProblem(t, c.API(call.method, call.path, map[string]any{}), 403, "two_factor_required")
	}
	wantProblem(t, p.c.API("POST", "/login/two-factor", map[string]any{"code": p.code(clock)}), 409, "conflict")
	// The route reads its session itself: a body it cannot read is still
	// answered after the session's state, as on every route.
	wantProblem(t, p.c.API("POST", "/login/two-factor", `{"code":`), 409, "conflict")
	wantProblem(t, c.API("POST", "/login/two-factor", `{"code":`), 422, "validation_failed")

	code := p.code(clock)
	if r := c.API("POST", "/login/two-factor", map[string]any{"code": code}); r.StatusCode != 200 || r.JSON()["status"] != "ok" {
		t.Fatalf("second step: %d %s", r.StatusCode, r.Body)
	}
	if r := c.API("GET", "/me/two-factor", nil); r.StatusCode != 200 {
		t.Fatalf("after the second step: %d", r.StatusCode)
	}
	// The same code, on another login, is refused: it was used.
	c2 := env.Client(t)
	login(t, c2, p.email, pw)
	if p := wantProblem(t, c2.API("POST", "/login/two-factor", map[string]any{"code": code}), 401, "invalid_code"); !strings.Contains(p["detail"].(string), "This code was used already") {
		t.Fatalf("a reused code is not said to be used: %v", p["detail"])
	}
	if p := wantProblem(t, c2.API("POST", "/login/two-factor", map[string]any{"code": "000000"}), 401, "invalid_code"); !strings.Contains(p["detail"].(string), "This code is not right") {
		t.Fatalf("a wrong code: %v", p["detail"])
	}
	clock.Advance(30 * time.Second)
	if r := c2.API("POST", "/login/two-factor", map[string]any{"code": p.code(clock)}); r.StatusCode != 200 {
		t.Fatalf("next step's code: %d %s", r.StatusCode, r.Body)
	}
	// A code of the previous step still works once (clock drift).
	c3 := env.Client(t)
	login(t, c3, p.email, pw)
	clock.Advance(30 * time.Second)
	prev := totp.Code(p.secret, totp.Step(clock.Now())-1, otp.DigitsSix)
	if prev != code {
		wantProblem(t, c3.API("POST", "/login/two-factor", map[string]any{"code": prev}), 401, "invalid_code") // step already used above
	}
	if r := c3.API("POST", "/login/two-factor", map[string]any{"code": p.code(clock)}); r.StatusCode != 200 {
		t.Fatalf("code after a refused one: %d %s", r.StatusCode, r.Body)
	}
	// A session left at the second step ends after 10 minutes.
	c4 := env.Client(t)
	login(t, c4, p.email, pw)
	clock.Advance(10*time.Minute + time.Second)
	base := mustURL(env.URL)
	stale := c4.Jar.Cookies(base)
	r = c4.API("POST", "/login/two-factor", map[string]any{"code": p.code(clock)})
	wantProblem(t, r, 401, "unauthorized")
	if !cookieCleared(r.Response) {
		t.Fatal("the ended session's cookie is kept")
	}
	// Without a cookie, or with one of no session, even with a body it
	// cannot read: 401.
	wantProblem(t, env.Client(t).API("POST", "/login/two-factor", map[string]any{"code": p.code(clock)}), 401, "unauthorized")
	c4.Jar.SetCookies(base, stale)
	r = c4.API("POST", "/login/two-factor", `{"code":`)
	wantProblem(t, r, 401, "unauthorized")
	if !cookieCleared(r.Response) {
		t.Fatal("a cookie of no session is kept")
	}
}

// cookieCleared says whether an answer removes the session cookie.
func cookieCleared(r *http.Response) bool {
	for _, ck := range r.Cookies() {
		if ck.Name == "gardien_session" && ck.MaxAge < 0 {
			return true
		}
	}
	return false
}

func TestConcurrentSubmissionsOfOneCodeSucceedOnce(t *testing.T) {
	apptest.OnEachDatabase(t, func(t *testing.T, db []apptest.Option) {
		clock := apptest.NewClock()
		env := apptest.Start(t, append(db, apptest.WithClock(clock))...)
		p := enabled(t, env, clock, "ada@example.com")
		clients := make([]*apptest.Client, 20)
		for i := range clients {
			clients[i] = env.Client(t)
			if r := login(t, clients[i], p.email, pw); r.JSON()["status"] != "two_factor_required" {
				t.Fatalf("login %d: %s", i, r.Body)
			}
		}
		code := p.code(clock)
		var ok, refused atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, c := range clients {
			wg.Go(func() {
				<-start
				r := c.API("POST", "/login/two-factor", map[string]any{"code": code})
				switch r.StatusCode {
				case 200:
					ok.Add(1)
				case 401, 429:
					refused.Add(1)
				default:
					t.Errorf("unexpected %d %s", r.StatusCode, r.Body)
				}
			})
		}
		close(start)
		wg.Wait()
		if ok.Load() != 1 || refused.Load() != 19 {
			t.Fatalf("%d of 20 concurrent submissions of one code succeeded (%d refused), want exactly 1", ok.Load(), refused.Load())
		}
	})
}

func TestWrongCodesLockTheSecondStep(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	p := enabled(t, env, clock, "ada@example.com")
	c := env.Client(t)
	login(t, c, p.email, pw)
	wrong := func() string {
		w := "123456"
		for i := 0; i < 3 && totp.Code(p.secret, totp.Step(clock.Now())+int64(i-1), otp.DigitsSix) == w; i++ {
			w = "654321"
		}
		return w
	}
	for i := range 5 {
		wantProblem(t, c.API("POST", "/login/two-factor", map[string]any{"code": wrong()}), 401, "invalid_code")
		_ = i
	}
	r := c.API("POST", "/login/two-factor", map[string]any{"code": p.code(clock)})
	wantProblem(t, r, 429, "rate_limited")
	if r.Header.Get("Retry-After") != "60" {
		t.Fatalf("Retry-After %q, want 60", r.Header.Get("Retry-After"))
	}
	m := env.Mail.Wait(t, p.email)
	if m.Subject != "Too many wrong codes for your account" || !strings.Contains(m.Text, "127.0.0.1") {
		t.Fatalf("lockout mail %q:\n%s", m.Subject, m.Text)
	}
	// Another session of the same account is locked too: the count is the account's.
	c2 := env.Client(t)
	login(t, c2, p.email, pw)
	wantProblem(t, c2.API("POST", "/login/two-factor", map[string]any{"recovery_code": p.codes[0]}), 429, "rate_limited")

	clock.Advance(61 * time.Second)
	if r := c.API("POST", "/login/two-factor", map[string]any{"code": p.code(clock)}); r.StatusCode != 200 {
		t.Fatalf("right code after the lockout: %d %s", r.StatusCode, r.Body)
	}
	// Five more make ten wrong codes in the day: locked until the day is over.
	login(t, c2, p.email, pw)
	for range 5 {
		c2.API("POST", "/login/two-factor", map[string]any{"code": wrong()})
	}
	r = c2.API("POST", "/login/two-factor", map[string]any{"code": p.code(clock)})
	wantProblem(t, r, 429, "rate_limited")
	if ra, _ := strconv.Atoi(r.Header.Get("Retry-After")); ra < 86000 || ra > 86400 {
		t.Fatalf("lockout after ten wrong codes in a day: Retry-After %q, want the rest of the day", r.Header.Get("Retry-After"))
	}
}

func TestARightCodeResetsTheCount(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	p := enabled(t, env, clock, "ada@example.com")
	for round := range 2 {
		c := env.Client(t)
		login(t, c, p.email, pw)
		for range 4 {
			wantProblem(t, c.API("POST", "/login/two-factor", map[string]any{"code": "12345x"}), 401, "invalid_code")
		}
		if r := c.API("POST", "/login/two-factor", map[string]any{"code": p.code(clock)}); r.StatusCode != 200 {
			t.Fatalf("round %d: right code after 4 wrong ones: %d %s", round, r.StatusCode, r.Body)
		}
		clock.Advance(30 * time.Second)
	}
}

func TestRecoveryCodes(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	p := enabled(t, env, clock, "ada@example.com")
	c := env.Client(t)
	login(t, c, p.email, pw)
	r := c.API("POST", "/login/two-factor", map[string]any{"recovery_code": strings.ToUpper(p.codes[3])})
	if r.StatusCode != 200 || r.JSON()["recovery_codes_remaining"] != float64(9) {
		t.Fatalf("recovery code: %d %s", r.StatusCode, r.Body)
	}
	m := env.Mail.WaitSubject(t, p.email, "A recovery code was used")
	if !strings.Contains(m.Text, "9 recovery codes are left") {
		t.Fatalf("mail %q:\n%s", m.Subject, m.Text)
	}
	c2 := env.Client(t)
	login(t, c2, p.email, pw)
	wantProblem(t, c2.API("POST", "/login/two-factor", map[string]any{"recovery_code": p.codes[3]}), 401, "invalid_code")
	wantProblem(t, c2.API("POST", "/login/two-factor", map[string]any{}), 422, "validation_failed")

	// New codes need the password, and void the old ones.
	wantProblem(t, c.API("POST", "/me/two-factor/recovery-codes", map[string]any{"password": "wrong password"}), 422, "validation_failed")
	r = c.API("POST", "/me/two-factor/recovery-codes", map[string]any{"password": pw})
	if r.StatusCode != 200 || len(r.JSON()["recovery_codes"].([]any)) != 10 {
		t.Fatalf("regenerate: %d %s", r.StatusCode, r.Body)
	}
	wantProblem(t, c2.API("POST", "/login/two-factor", map[string]any{"recovery_code": p.codes[4]}), 401, "invalid_code")
	fresh := r.JSON()["recovery_codes"].([]any)[0].(string)
	if r := c2.API("POST", "/login/two-factor", map[string]any{"recovery_code": fresh}); r.StatusCode != 200 {
		t.Fatalf("new recovery code: %d %s", r.StatusCode, r.Body)
	}
}

func TestDisableTwoFactor(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	p := enabled(t, env, clock, "ada@example.com")
	other := env.Client(t)
	login(t, other, p.email, pw)
	other.API("POST", "/login/two-factor", map[string]any{"code": p.code(clock)})

	pr := wantProblem(t, p.c.API("POST", "/me/two-factor/disable", map[string]any{"password": "not my password"}), 422, "validation_failed")
	if f := fieldsOf(pr); len(f) != 1 || f[0] != "password" {
		t.Fatalf("fields %v", f)
	}
	wantProblem(t, p.c.API("POST", "/me/two-factor/disable", map[string]any{}), 422, "validation_failed")
	if r := p.c.API("POST", "/me/two-factor/disable", map[string]any{"password": pw}); r.StatusCode != 200 {
		t.Fatalf("disable: %d %s", r.StatusCode, r.Body)
	}
	env.Mail.WaitSubject(t, p.email, "Two-factor authentication is off")
	wantProblem(t, other.API("GET", "/me", nil), 401, "unauthorized")
	if st := p.c.API("GET", "/me/two-factor", nil).JSON(); st["enabled"] != false {
		t.Fatalf("status after disable: %v", st)
	}
	wantProblem(t, p.c.API("POST", "/me/two-factor/disable", map[string]any{"password": pw}), 409, "conflict")
	if r := login(t, other, p.email, pw); r.JSON()["status"] != "ok" {
		t.Fatalf("login after disable: %s", r.Body)
	}

	var types []string
	for _, e := range p.c.API("GET", "/me/events", nil).JSON()["events"].([]any) {
		ev := e.(map[string]any)
		types = append(types, ev["type"].(string))
		if ev["ip"] != "127.0.0.1" || ev["user_agent"] == "" {
			t.Errorf("event without IP or user agent: %v", ev)
		}
	}
	got := strings.Join(types, ",")
	for _, want := range []string{"two_factor.disabled", "two_factor.passed", "two_factor.enabled"} {
		if !strings.Contains(got, want) {
			t.Errorf("events %s lack %s", got, want)
		}
	}
}

func TestPasswordResetDoesNotBypassTwoFactor(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	p := enabled(t, env, clock, "ada@example.com")
	c := env.Client(t)
	c.API("POST", "/password/forgot", map[string]any{"email": p.email})
	tok := env.Mail.Wait(t, p.email).Token()
	if r := c.API("POST", "/password/reset", map[string]any{"token": tok, "password": "my brand new password"}); r.StatusCode != 200 {
		t.Fatalf("reset: %d", r.StatusCode)
	}
	if r := login(t, c, p.email, "my brand new password"); r.JSON()["status"] != "two_factor_required" {
		t.Fatalf("login after reset: %s", r.Body)
	}
	wantProblem(t, c.API("GET", "/me/events", nil), 403, "two_factor_required")
}

func TestIssuerIsConfigurable(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Setting("GARDIEN_TOTP_ISSUER", "Acme Corp"))
	p := verified(t, env, "ada@example.com")
	uri := p.c.API("POST", "/me/two-factor/setup", nil).JSON()["otpauth_uri"].(string)
	if !strings.HasPrefix(uri, "otpauth://totp/Acme%20Corp:ada@example.com?") || !strings.Contains(uri, "issuer=Acme%20Corp") {
		t.Fatalf("URI %s", uri)
	}
}

func TestAccountsWithoutPasswordCannotLogIn(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	u := &gardien.User{Email: "sso@example.com", Name: "S", SSO: true, CreatedAt: time.Now()}
	if err := env.App.Store.CreateUser(t.Context(), u, "sso@example.com", "!"); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, login(t, env.Client(t), "sso@example.com", "anything at all"), 401, "invalid_credentials")
}

// TestTheCheckupThroughTheAPI: 28 days after 2FA is on, the second step's
// answer offers the check-up; GET /me/two-factor says what it needs;
// later twice, then 409; after a recovery-code login the check-up wants a
// code of the app; done, it is no longer offered.
func TestTheCheckupThroughTheAPI(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	p := enabled(t, env, clock, "ada@example.com")
	secondStep := func(body map[string]any) (*apptest.Client, map[string]any) {
		t.Helper()
		c := env.Client(t)
		login(t, c, p.email, pw)
		r := c.API("POST", "/login/two-factor", body)
		if r.StatusCode != 200 {
			t.Fatalf("second step: %d %s", r.StatusCode, r.Body)
		}
		return c, r.JSON()
	}
	c, r := secondStep(map[string]any{"code": p.code(clock)})
	if _, ok := r["two_factor_checkup"]; ok {
		t.Fatalf("the check-up is offered on day 0: %v", r)
	}
	wantProblem(t, c.API("POST", "/me/two-factor/checkup", map[string]any{}), 409, "conflict")

	clock.Advance(gardien.CheckupAfter)
	c, r = secondStep(map[string]any{"code": p.code(clock)})
	if r["two_factor_checkup"] != true {
		t.Fatalf("the check-up is not offered on day 28: %v", r)
	}
	st := c.API("GET", "/me/two-factor", nil).JSON()["checkup"].(map[string]any)
	if st["due"] != true || st["app_works"] != true || st["can_postpone"] != true {
		t.Fatalf("checkup: %v", st)
	}
	for range 2 {
		if r := c.API("POST", "/me/two-factor/checkup/later", nil); r.StatusCode != 200 || r.JSON()["next_at"] == nil {
			t.Fatalf("later: %d %s", r.StatusCode, r.Body)
		}
		clock.Advance(25 * time.Hour)
		c, _ = secondStep(map[string]any{"recovery_code": p.codes[0]})
		p.codes = p.codes[1:]
	}
	wantProblem(t, c.API("POST", "/me/two-factor/checkup/later", nil), 409, "conflict")
	st = c.API("GET", "/me/two-factor", nil).JSON()["checkup"].(map[string]any)
	if st["app_works"] != false || st["can_postpone"] != false {
		t.Fatalf("after a recovery code: %v", st)
	}
	wantProblem(t, c.API("POST", "/me/two-factor/checkup", map[string]any{"code": "000000"}), 401, "invalid_code")
	if r := c.API("POST", "/me/two-factor/checkup", map[string]any{"code": p.code(clock)}); r.StatusCode != 200 {
		t.Fatalf("checkup with the app's code: %d %s", r.StatusCode, r.Body)
	}
	if c.API("GET", "/me/two-factor", nil).JSON()["checkup"].(map[string]any)["due"] != false {
		t.Fatal("still due")
	}
}
