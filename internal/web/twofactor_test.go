package web_test

import (
	"encoding/base32"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"

	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/totp"
)

// verifiedClient signs up through the pages and validates the email.
func verifiedClient(t *testing.T, env *apptest.Env, email string) *apptest.Client {
	t.Helper()
	c := env.Client(t)
	c.Form("/signup", map[string]string{"name": "Ada Lovelace", "email": email, "password": pw})
	link := env.Mail.Wait(t, email).Link()
	c.Get(strings.TrimPrefix(link, env.URL))
	return c
}

var secretText = regexp.MustCompile(`<code class="secret" id="secret">([A-Z2-7 ]+)</code>`)

func TestTwoFactorPages(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))

	// Not validated yet: the page says how, and offers no Enable button.
	c0 := env.Client(t)
	c0.Form("/signup", map[string]string{"name": "Bob", "email": "bob@example.com", "password": pw})
	r := c0.Get("/settings/two-factor")
	has(t, r, "Validate your email bob@example.com first", "Send the link again", `aria-current="page">Two-factor authentication</a>`)
	if strings.Contains(string(r.Body), "Enable 2FA") {
		t.Fatal("Enable 2FA offered before the email is validated")
	}

	c := verifiedClient(t, env, "ada@example.com")
	has(t, c.Get("/"), "Protect your account with two-factor authentication.")
	has(t, c.Get("/settings/two-factor"), `<button type="submit" class="primary">Enable 2FA</button>`, "Recent security events", "Email validated")
	wantRedirect(t, c.Form("/settings/two-factor/enable", nil), "/settings/two-factor/activate")
	r = c.Get("/settings/two-factor/activate")
	has(t, r, `src="data:image/png;base64,`, `alt="QR code to scan with your authenticator app"`,
		`<label for="f-code">6-digit code from your app</label>`, `inputmode="numeric" autocomplete="one-time-code"`, `>Activate</button>`)
	m := secretText.FindStringSubmatch(string(r.Body))
	if m == nil {
		t.Fatalf("no secret as text on the page")
	}
	if !regexp.MustCompile(`^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$`).MatchString(m[1]) {
		t.Fatalf("secret not grouped by four: %q", m[1])
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(m[1], " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	code := func() string { return totp.Code(secret, totp.Step(clock.Now()), otp.DigitsSix) }

	wrong := "000000"
	if code() == wrong {
		wrong = "111111"
	}
	r = c.Form("/settings/two-factor/activate", map[string]string{"code": wrong})
	if r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong code: %d", r.StatusCode)
	}
	has(t, r, `<p class="field-error" id="f-code-error">This code is not right.`, `src="data:image/png;base64,`)
	r = c.Form("/settings/two-factor/activate", map[string]string{"code": code()})
	has(t, r, "Two-factor authentication is on. Keep these recovery codes", `download="gardien-recovery-codes.txt" href="data:text/plain;charset=utf-8,`, `data-copy="recovery-codes"`)
	codes := regexp.MustCompile(`<li><code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code></li>`).FindAllStringSubmatch(string(r.Body), -1)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown, want 10", len(codes))
	}
	env.Mail.Wait(t, "ada@example.com")
	has(t, c.Get("/"), "Two-factor authentication is on.")
	has(t, c.Get("/settings/two-factor"), "Recovery codes left: 10.", "Disable 2FA", "Two-factor authentication turned on")
	// The page after activation, reloaded (or its form sent again), is the
	// 2FA page, not an error.
	wantRedirect(t, c.Get("/settings/two-factor/activate"), "/settings/two-factor")
	wantRedirect(t, c.Form("/settings/two-factor/activate", map[string]string{"code": code()}), "/settings/two-factor")
	if strings.Contains(string(c.Get("/settings/two-factor").Body), "flash-error") {
		t.Fatal("the 2FA page shows an error after the reload")
	}

	// Every login now asks for the code, and nothing else is reachable.
	clock.Advance(30 * time.Second)
	c.Form("/logout", nil)
	wantRedirect(t, c.Form("/login", map[string]string{"email": "ada@example.com", "password": pw, "next": "/settings/password"}), "/login/two-factor?next=%2Fsettings%2Fpassword")
	wantRedirect(t, c.Get("/settings/profile"), "/login/two-factor")
	wantRedirect(t, c.Get("/"), "/login/two-factor")
	r = c.Get("/login/two-factor?next=%2Fsettings%2Fpassword")
	has(t, r, "<label for=\"f-code\">Authentication code</label>", ">Verify</button>", `href="/login/recovery?next=%2fsettings%2fpassword">Use a recovery code instead</a>`)
	if strings.Contains(string(r.Body), "Account menu") {
		t.Fatal("account menu shown before the second step")
	}
	r = c.Form("/login/two-factor", map[string]string{"code": wrong, "next": "/settings/password"})
	has(t, r, `id="f-code-error">This code is not right.`)
	wantRedirect(t, c.Form("/login/two-factor", map[string]string{"code": code(), "next": "/settings/password"}), "/settings/password")
	wantRedirect(t, c.Get("/login/two-factor"), "/")
	// The forms read their session themselves (in the step's transaction)
	// and send it where the pages' guard would: a full session home, no
	// session or an ended one to the login page, its cookie cleared.
	wantRedirect(t, c.Form("/login/two-factor", map[string]string{"code": "000000"}), "/")
	wantRedirect(t, c.Form("/login/recovery", map[string]string{"recovery_code": "nope-nope-nope"}), "/")
	wantRedirect(t, env.Client(t).Form("/login/two-factor", map[string]string{"code": "000000"}), "/login")
	base := mustURL(env.URL)
	ended := c.Jar.Cookies(base)
	c.Form("/logout", nil)
	other := env.Client(t)
	other.Jar.SetCookies(base, ended)
	r = other.Form("/login/two-factor", map[string]string{"code": "000000"})
	wantRedirect(t, r, "/login")
	if !sessionCookieCleared(r) {
		t.Fatal("an ended session's cookie is kept by the second step's form")
	}
	// The same code on the next login: refused, and the page says why.
	c.Form("/login", map[string]string{"email": "ada@example.com", "password": pw})
	has(t, c.Form("/login/two-factor", map[string]string{"code": code()}), `id="f-code-error">This code was used already`)

	// With a recovery code.
	c.Form("/logout", nil)
	c.Form("/login", map[string]string{"email": "ada@example.com", "password": pw})
	has(t, c.Get("/login/recovery"), `<label for="f-recovery_code">Recovery code</label>`)
	has(t, c.Form("/login/recovery", map[string]string{"recovery_code": "nope-nope-nope"}), "This recovery code is not right")
	wantRedirect(t, c.Form("/login/recovery", map[string]string{"recovery_code": codes[0][1]}), "/")
	has(t, c.Get("/"), "You logged in with a recovery code. Recovery codes left: 9.")
	env.Mail.Wait(t, "ada@example.com")

	// New codes, then turn it off; each needs the password.
	has(t, c.Get("/settings/two-factor/recovery-codes"), `<label for="f-password">Password</label>`, ">New recovery codes</button>")
	r = c.Form("/settings/two-factor/recovery-codes", map[string]string{"password": "wrong wrong wrong"})
	has(t, r, `id="f-password-error">The current password is not right.`)
	has(t, c.Form("/settings/two-factor/recovery-codes", map[string]string{"password": pw}), "Here are your new recovery codes")
	if m := env.Mail.Wait(t, "ada@example.com"); m.Subject != "New recovery codes were made" {
		t.Fatalf("mail %q, want the new codes'", m.Subject)
	}
	has(t, c.Get("/settings/two-factor"), `href="/settings/two-factor/disable">Disable 2FA</a>`)
	has(t, c.Get("/settings/two-factor/disable"), "<h2>Disable 2FA</h2>", `<button type="submit" class="danger">Disable 2FA</button>`)
	r = c.Form("/settings/two-factor/disable", map[string]string{"password": "wrong wrong wrong"})
	has(t, r, `id="f-password-error">The current password is not right.`)
	wantRedirect(t, c.Form("/settings/two-factor/disable", map[string]string{"password": pw}), "/settings/two-factor")
	has(t, c.Get("/settings/two-factor"), "Two-factor authentication is off.", "Enable 2FA", "Two-factor authentication turned off")
	wantRedirect(t, c.Get("/settings/two-factor/disable"), "/settings/two-factor")
	if m := env.Mail.Wait(t, "ada@example.com"); m.Subject != "Two-factor authentication is off" {
		t.Fatalf("mail %q", m.Subject)
	}
}

func TestExpiredSetUpStartsAgain(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	c := verifiedClient(t, env, "ada@example.com")
	c.Form("/settings/two-factor/enable", nil)
	clock.Advance(16 * time.Minute)
	wantRedirect(t, c.Get("/settings/two-factor/activate"), "/settings/two-factor")
	has(t, c.Get("/settings/two-factor"), "This set-up expired or was not started.")
}

func TestLockedSecondStepSaysWhenToTryAgain(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	c := verifiedClient(t, env, "ada@example.com")
	c.Form("/settings/two-factor/enable", nil)
	m := secretText.FindStringSubmatch(string(c.Get("/settings/two-factor/activate").Body))
	secret, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(m[1], " ", ""))
	c.Form("/settings/two-factor/activate", map[string]string{"code": totp.Code(secret, totp.Step(clock.Now()), otp.DigitsSix)})
	c.Form("/logout", nil)
	c.Form("/login", map[string]string{"email": "ada@example.com", "password": pw})
	for range 5 {
		c.Form("/login/two-factor", map[string]string{"code": "12345x"})
	}
	r := c.Form("/login/two-factor", map[string]string{"code": "123456"})
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "60" {
		t.Fatalf("locked: %d Retry-After %q", r.StatusCode, r.Header.Get("Retry-After"))
	}
	has(t, r, "Too many wrong codes. For your safety, try again in 1 minute.")
}

func TestMovingToANewPhoneThroughThePages(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	c := verifiedClient(t, env, "ada@example.com")
	old := withTwoFactor(t, c, clock)
	clock.Advance(30 * time.Second)
	code := func(secret []byte) string { return totp.Code(secret, totp.Step(clock.Now()), otp.DigitsSix) }
	has(t, c.Get("/settings/two-factor"), `href="/settings/two-factor/new-app"`)
	has(t, c.Get("/settings/two-factor/new-app"), "A new phone?", `name="code"`)
	r := c.Form("/settings/two-factor/new-app", map[string]string{"password": pw, "code": "000000"})
	if r.StatusCode != 401 {
		t.Fatalf("a wrong code: %d", r.StatusCode)
	}
	has(t, r, `id="f-code-error"`)
	wantRedirect(t, c.Form("/settings/two-factor/new-app", map[string]string{"password": pw, "code": code(old)}), "/settings/two-factor/new-app/scan")
	page := c.Get("/settings/two-factor/new-app/scan")
	has(t, page, "Scan this QR code with your new app", "start again from “Move to a new authenticator app”")
	if strings.Contains(string(page.Body), "Enable 2FA") {
		t.Error("the new app's page says to click “Enable 2FA”, which it does not have")
	}
	m := secretText.FindStringSubmatch(string(page.Body))
	if m == nil {
		t.Fatal("no secret on the scan page")
	}
	fresh, _ := totp.DecodeSecret(m[1])
	clock.Advance(30 * time.Second)
	wantRedirect(t, c.Form("/settings/two-factor/new-app/scan", map[string]string{"code": code(fresh)}), "/settings/two-factor")
	has(t, c.Get("/settings/two-factor"), "Your account now uses the new app")
	env.Mail.WaitSubject(t, "ada@example.com", "Your account uses a new authenticator app")
}

// TestAWrongCodeIsReportedOnceNextToItsField: every form that takes a code
// says a wrong one once, next to the field, which gets the focus.
func TestAWrongCodeIsReportedOnceNextToItsField(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	owner := verifiedClient(t, env, "owner@example.com")
	withTwoFactor(t, owner, clock)
	pending := verifiedClient(t, env, "pending@example.com")
	pending.Form("/settings/two-factor/enable", nil)
	second := env.Client(t)
	second.Form("/login", map[string]string{"email": "owner@example.com", "password": pw})
	for _, c := range []struct {
		who  *apptest.Client
		path string
		form map[string]string
	}{
		{second, "/login/two-factor", map[string]string{"code": "000000"}},
		{pending, "/settings/two-factor/activate", map[string]string{"code": "000000"}},
		{owner, "/settings/two-factor/new-app", map[string]string{"password": pw, "code": "000000"}},
	} {
		page := string(c.who.Form(c.path, c.form).Body)
		if n := strings.Count(page, "This code is not right."); n != 1 {
			t.Errorf("%s says the code is wrong %d times:\n%s", c.path, n, page)
		}
		if !strings.Contains(page, `autofocus aria-invalid="true" aria-describedby="f-code-error"`) {
			t.Errorf("%s: the code field is not focused and described by its error", c.path)
		}
	}
}

// TestTheCheckupComesAtALogin28DaysLater: the login that passes its second
// step 28 days after 2FA was turned on lands on the check-up (then goes
// where it was going); "Remind me later" lets the person through and asks
// again a day later; once confirmed, logins go straight through.
func TestTheCheckupComesAtALogin28DaysLater(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	secret := withTwoFactor(t, verifiedClient(t, env, "ada@example.com"), clock)
	logIn := func(next string) (*apptest.Client, string) {
		t.Helper()
		c := env.Client(t)
		c.Form("/login", map[string]string{"email": "ada@example.com", "password": pw})
		clock.Advance(30 * time.Second)
		r := c.Form("/login/two-factor", map[string]string{"code": totp.Code(secret, totp.Step(clock.Now()), otp.DigitsSix), "next": next})
		return c, r.Header.Get("Location")
	}
	if _, to := logIn("/settings/profile"); to != "/settings/profile" {
		t.Fatalf("a login on day 0 went to %q", to)
	}
	clock.Advance(28 * 24 * time.Hour)
	c, to := logIn("/settings/profile")
	if to != "/two-factor/checkup?next=%2Fsettings%2Fprofile" {
		t.Fatalf("a login on day 28 went to %q", to)
	}
	has(t, c.Get(to), "Check your two-factor authentication", "It works: you just logged in with one of its codes.",
		"You have 10 recovery codes left.", ">Remind me later</button>", ">My app works and my recovery codes are kept</button>")
	wantRedirect(t, c.Form("/two-factor/checkup/later", map[string]string{"next": "/settings/profile"}), "/settings/profile")
	has(t, c.Get("/settings/profile"), "We will ask again at a login from tomorrow.")
	wantRedirect(t, c.Get(to), "/settings/profile") // not due until tomorrow

	clock.Advance(25 * time.Hour)
	c, to = logIn("")
	if to != "/two-factor/checkup?next=" {
		t.Fatalf("a day after later, the login went to %q", to)
	}
	wantRedirect(t, c.Form("/two-factor/checkup", map[string]string{"next": ""}), "/")
	has(t, c.Get("/"), "Thank you: your two-factor authentication is checked.")
	clock.Advance(60 * 24 * time.Hour)
	if _, to := logIn(""); to != "/" {
		t.Fatalf("after the check-up, a login went to %q", to)
	}
}

// sessionCookieCleared says whether an answer removes the session cookie.
func sessionCookieCleared(r *apptest.Response) bool {
	for _, ck := range r.Cookies() {
		if ck.Name == "gardien_session" && ck.MaxAge < 0 {
			return true
		}
	}
	return false
}

// Recent security events name the browser as the Sessions page does, not
// by its raw User-Agent.
func TestRecentEventsNameTheBrowser(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.Client(t)
	c.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
	c.Form("/signup", map[string]string{"name": "Ada", "email": "ada@example.com", "password": pw})
	page := c.Get("/settings/two-factor")
	has(t, page, "Chrome on Linux")
	if strings.Contains(string(page.Body), "AppleWebKit") {
		t.Error("the raw User-Agent is shown")
	}
}

// Dates in prose are written as every other date is, in the reader's
// language: "Since 6 Dec 2026", not "Since 2026-12-06".
func TestTheTwoFactorPageWritesItsDateInWords(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	c := verifiedClient(t, env, "ada@example.com")
	withTwoFactor(t, c, clock)
	page := string(c.Get("/settings/two-factor").Body)
	if regexp.MustCompile(`Since \d{4}-\d{2}-\d{2}`).MatchString(page) || !strings.Contains(page, "Since ") {
		t.Fatalf("the date 2FA was turned on: %s", regexp.MustCompile(`Since [^<]*`).FindString(page))
	}
}
