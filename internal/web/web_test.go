package web_test

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/i18n"
)

const pw = "correct horse battery staple"

func has(t *testing.T, r *apptest.Response, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(string(r.Body), w) {
			t.Errorf("page lacks %q", w)
		}
	}
	if t.Failed() {
		t.Logf("page:\n%s", r.Body)
		t.FailNow()
	}
}

func wantRedirect(t *testing.T, r *apptest.Response, to string) {
	t.Helper()
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != to {
		t.Fatalf("got %d Location %q, want 303 to %q", r.StatusCode, r.Header.Get("Location"), to)
	}
}

func TestEveryTemplateKeyIsInTheCatalogs(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	key := regexp.MustCompile(`\bt \$ "([a-z0-9_.]+)"`)
	found := 0
	err = filepath.WalkDir("templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range key.FindAllStringSubmatch(string(b), -1) {
			found++
			if !cat.Has(m[1]) {
				t.Errorf("%s uses %q, which the catalog lacks", path, m[1])
			}
		}
		return nil
	})
	if err != nil || found < 50 {
		t.Fatalf("walked templates: %v, %d keys found", err, found)
	}
}

func TestSignupFormKeepsInputAndShowsErrorsByTheirFields(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.Client(t)
	r := c.Form("/signup", map[string]string{"name": "Ada Lovelace", "email": "ada@", "password": "short"})
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", r.StatusCode)
	}
	has(t, r, `value="Ada Lovelace"`, `value="ada@"`, `id="f-email" name="email" type="email" value="ada@" autocomplete="email" required autofocus aria-invalid="true" aria-describedby="f-email-error"`,
		`<p class="field-error" id="f-email-error">Type a valid email address`, `<p class="field-error" id="f-password-error">Use at least 10 characters.`)
	if strings.Contains(string(r.Body), `value="short"`) {
		t.Fatal("the password is sent back in the page")
	}
}

func TestSignupValidateAndNavigate(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.Client(t)
	has(t, c.Get("/signup"), "<h1>Create your account</h1>", `<button type="submit" class="primary">Sign up</button>`)
	r := c.Form("/signup", map[string]string{"name": "Ada Lovelace", "email": "ada@example.com", "password": pw})
	wantRedirect(t, r, "/")
	home := c.Get("/")
	has(t, home, "We sent a link to ada@example.com", "is not validated yet", `<span aria-hidden="true">AL</span><span class="visually-hidden">Account menu</span></button>`,
		`href="/settings/profile">Personal settings</a>`, `href="/organization">Organization settings</a>`, ">Log out</button>")
	link := env.Mail.Wait(t, "ada@example.com").Link()
	r = c.Get(strings.TrimPrefix(link, env.URL))
	if r.StatusCode != 200 {
		t.Fatalf("validation page: %d", r.StatusCode)
	}
	has(t, r, "Your email ada@example.com is validated.")
	has(t, c.Get("/"), "Your email is validated.")
	// The link again: the person's email is validated, so no alarm.
	has(t, c.Get(strings.TrimPrefix(link, env.URL)), "Your email is already validated.")
	// A stranger with a used link is told it is not valid.
	if r := env.Client(t).Get(strings.TrimPrefix(link, env.URL)); r.StatusCode != 400 || !strings.Contains(string(r.Body), "not valid") {
		t.Fatalf("used link, logged out: %d", r.StatusCode)
	}

	has(t, c.Get("/settings/profile"), "<h1>Personal settings</h1>", `aria-label="Personal settings sections"`, `aria-current="page">Profile</a>`, "(validated)")
	r = c.Form("/settings/profile", map[string]string{"name": "Ada King", "language": "fr"})
	wantRedirect(t, r, "/settings/profile")
	has(t, c.Get("/settings/profile"), "Votre profil est enregistré.", `value="Ada King"`, "Paramètres personnels", `<span class="visually-hidden">Menu du compte</span>`)
	has(t, c.Get("/settings/password"), `aria-current="page">Mot de passe</a>`)

	wantRedirect(t, c.Form("/logout", nil), "/login")
	has(t, c.Get("/login"), "Vous êtes déconnecté.")
	wantRedirect(t, c.Get("/settings/profile"), "/login?next=%2Fsettings%2Fprofile")
}

func TestLoginPage(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.Client(t)
	c.Form("/signup", map[string]string{"name": "Ada", "email": "ada@example.com", "password": pw})
	c.Form("/logout", nil)
	r := c.Form("/login", map[string]string{"email": "ada@example.com", "password": "not the password"})
	if r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", r.StatusCode)
	}
	has(t, r, "The email or password is not right.", `value="ada@example.com"`)
	// A return path on this site is followed; one to elsewhere is dropped.
	wantRedirect(t, c.Form("/login", map[string]string{"email": "ada@example.com", "password": pw, "next": "/settings/password"}), "/settings/password")
	c.Form("/logout", nil)
	for _, evil := range []string{"//evil.example/x", "https://evil.example", "/\\evil.example"} {
		wantRedirect(t, c.Form("/login", map[string]string{"email": "ada@example.com", "password": pw, "next": evil}), "/")
		c.Form("/logout", nil)
	}
	has(t, c.Get("/login?next=//evil.example"), `name="next" value=""`)

	// Too many wrong passwords: the page says how long to wait.
	var r429 *apptest.Response
	for range 11 {
		r429 = c.Form("/login", map[string]string{"email": "ada@example.com", "password": "still not the password"})
	}
	if r429.StatusCode != http.StatusTooManyRequests || r429.Header.Get("Retry-After") == "" {
		t.Fatalf("the 11th wrong password: %d, Retry-After %q", r429.StatusCode, r429.Header.Get("Retry-After"))
	}
	has(t, r429, "Too many tries. Try again in 15 minutes.")
	// The login page asks the email first, then the password — the same
	// page whether an account has the email or not; an email that is not
	// one is said so at once.
	known := c.Form("/login", map[string]string{"email": "ada@example.com", "next": "/settings/password"})
	unknown := c.Form("/login", map[string]string{"email": "nobody@example.com", "next": "/settings/password"})
	has(t, known, "Logging in as ada@example.com", `type="password"`, `name="email" value="ada@example.com"`, `name="next" value="/settings/password"`)
	if known.StatusCode != 200 || unknown.StatusCode != 200 ||
		strings.NewReplacer("nobody@example.com", "ada@example.com", "nobody%40example.com", "ada%40example.com").Replace(string(unknown.Body)) != string(known.Body) {
		t.Fatalf("the password step differs for an email without an account:\n%s\n---\n%s", known.Body, unknown.Body)
	}
	if r := c.Form("/login", map[string]string{"email": "not an email"}); r.StatusCode != 422 || strings.Contains(string(r.Body), `type="password"`) {
		t.Fatalf("a malformed email at the first step: %d", r.StatusCode)
	}
	// Email and password at once, when asked for (an owner whose provider is down).
	has(t, c.Get("/login?with=password"), `name="email"`, `type="password"`)
	// A domain no organization uses single sign-on for: said so.
	has(t, c.Get("/login/sso?sso_email=someone%40gmail.com"), "No organization uses single sign-on for this email&#39;s domain")
}

func TestFrenchFromTheBrowserAndThePicker(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.Client(t)
	c.Header.Set("Accept-Language", "fr-FR,fr;q=0.9,en;q=0.5")
	has(t, c.Get("/login"), `<html lang="fr">`, "<h1>Connexion</h1>", ">E-mail</label>", ">Continuer</button>")
	has(t, c.Form("/login", map[string]string{"email": "zoe@example.com"}), "Connexion en tant que zoe@example.com", ">Mot de passe</label>", ">Se connecter</button>")
	has(t, c.Get("/signup"), ">Nom</label>", ">Créer un compte</button>")

	c2 := env.Client(t)
	has(t, c2.Get("/login"), `<html lang="en">`)
	wantRedirect(t, c2.Form("/language", map[string]string{"lang": "fr", "next": "/signup"}), "/signup")
	has(t, c2.Get("/signup"), `<html lang="fr">`, "Créez votre compte")
	wantRedirect(t, c2.Form("/language", map[string]string{"lang": "en", "next": "https://evil.example"}), "/")
	has(t, c2.Get("/signup"), `<html lang="en">`)

	// Mails follow the language of the page the person signed up on.
	c.Form("/signup", map[string]string{"name": "Zoé", "email": "zoe@example.com", "password": pw})
	if m := env.Mail.Wait(t, "zoe@example.com"); m.Subject != "Validez votre e-mail" || !strings.Contains(m.Text, "Bonjour Zoé,") {
		t.Fatalf("mail in French: %q\n%s", m.Subject, m.Text)
	}
}

func TestPasswordPages(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.Client(t)
	c.Form("/signup", map[string]string{"name": "Ada", "email": "ada@example.com", "password": pw})
	env.Mail.Wait(t, "ada@example.com")
	r := c.Form("/settings/password", map[string]string{"current_password": "nope nope nope", "new_password": "a fresh long secret"})
	has(t, r, `id="f-current_password-error">The current password is not right.`)
	wantRedirect(t, c.Form("/settings/password", map[string]string{"current_password": pw, "new_password": "a fresh long secret"}), "/settings/password")
	has(t, c.Get("/settings/password"), "Your password is changed.")
	env.Mail.Wait(t, "ada@example.com")

	anon := env.Client(t)
	has(t, anon.Get("/password/forgot"), "Reset your password")
	wantRedirect(t, anon.Form("/password/forgot", map[string]string{"email": "ada@example.com"}), "/login")
	has(t, anon.Get("/login"), "If an account uses ada@example.com")
	link := strings.TrimPrefix(env.Mail.Wait(t, "ada@example.com").Link(), env.URL)
	has(t, anon.Get(link), "Choose a new password", `name="token"`)
	tok := strings.TrimPrefix(link, "/password/reset?token=")
	has(t, anon.Form("/password/reset", map[string]string{"token": tok, "password": "1234567890"}), "among the most common")
	wantRedirect(t, anon.Form("/password/reset", map[string]string{"token": tok, "password": "the newest secret"}), "/login")
	has(t, anon.Get("/login"), "Your password is changed. Log in with it.")
	// Told by mail afterwards: it matters most when someone else holds the
	// mailbox.
	if m := env.Mail.WaitSubject(t, "ada@example.com", "Your password was reset"); !strings.Contains(m.Text, "someone can read your mail") {
		t.Fatalf("the mail after a reset: %s", m.Text)
	}
	if r := anon.Get(link); r.StatusCode != 400 || !strings.Contains(string(r.Body), "reset link is not valid") {
		t.Fatalf("used reset link: %d", r.StatusCode)
	}
	// The reset ended the session that was open.
	wantRedirect(t, c.Get("/settings/password"), "/login?next=%2Fsettings%2Fpassword")
}

func TestPagesAnswerClearly(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.Client(t)
	r := c.Get("/no/such/page")
	if r.StatusCode != 404 || !strings.Contains(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("404: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	has(t, r, "Not found.")
	wantRedirect(t, c.Get("/"), "/login")
	if r := c.Get("/static/style.css"); r.StatusCode != 200 || !strings.Contains(r.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("stylesheet: %d", r.StatusCode)
	}
	r = c.Do("POST", "/signup", "application/x-www-form-urlencoded", strings.NewReader("name="+strings.Repeat("x", 2<<20)))
	if r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized form: %d", r.StatusCode)
	}
	// A forged flash cookie says nothing.
	c.Jar.SetCookies(mustURL(env.URL), []*http.Cookie{{Name: "gardien_flash", Value: "eyJLIjoiZXJyb3IiLCJNIjoiZXJyLmludGVybmFsIn0.forged", Path: "/"}})
	if strings.Contains(string(c.Get("/login").Body), "flash") {
		t.Fatal("forged flash shown")
	}
}

func TestEveryEventTypeHasAName(t *testing.T) {
	cat, _ := i18n.Load()
	for _, typ := range gardien.EventTypes {
		if !cat.Has("event." + typ) {
			t.Errorf("catalog lacks event.%s", typ)
		}
	}
}

// Bytes that are not UTF-8, in a form or a header, get a clear answer, not
// a database error (PostgreSQL refuses them in text).
func TestInvalidUTF8IsRefusedCleanly(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Postgres(t))
	c := env.Client(t)
	c.Header.Set("User-Agent", "agent \xff\xfe")
	r := c.Do("POST", "/signup", "application/x-www-form-urlencoded", strings.NewReader("name=%FF%FE&email=a%FF@example.com&password=correct+horse+battery"))
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("invalid UTF-8 in a form: %d", r.StatusCode)
	}
	r = c.Form("/signup", map[string]string{"name": "Ada", "email": "ada@example.com", "password": pw})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("signup with an invalid UTF-8 user agent: %d", r.StatusCode)
	}
	r = c.Do("POST", "/organizations", "application/x-www-form-urlencoded", strings.NewReader("name=%FF"))
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("invalid UTF-8 organization name: %d", r.StatusCode)
	}
}

func TestUnreadableFormsGetAPageThatSaysSo(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.Client(t)
	for _, path := range []string{"/password/forgot", "/password/reset", "/language", "/login", "/signup"} {
		r := c.Do("POST", path, "application/x-www-form-urlencoded", strings.NewReader("%zz"))
		if r.StatusCode != 400 {
			t.Fatalf("%s with a malformed form: %d", path, r.StatusCode)
		}
		has(t, r, "This form could not be read.")
		r = c.Do("POST", path, "application/x-www-form-urlencoded", strings.NewReader("email="+strings.Repeat("a", 2<<20)))
		if r.StatusCode != 413 {
			t.Fatalf("%s with a 2 MiB form: %d", path, r.StatusCode)
		}
		has(t, r, "The request body is too large.")
	}
}

func TestSessionsPage(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := verifiedClient(t, env, "ada@example.com")
	other := env.Client(t)
	other.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0")
	other.Form("/login", map[string]string{"email": "ada@example.com", "password": pw})
	has(t, c.Get("/settings/sessions"), "This session", "Firefox on Linux", "End this session", "End all other sessions")
	wantRedirect(t, c.Form("/settings/sessions/end-others", nil), "/settings/sessions")
	has(t, c.Get("/settings/sessions"), "other session ended.")
	wantRedirect(t, other.Get("/settings/profile"), "/login?next=%2Fsettings%2Fprofile")
}

// A login from a browser the account has not used mails the person, in
// their language; the browser keeps its cookie across logouts, so the
// next login there is known; the Sessions page turns the alerts off.
func TestNewSignInAlerts(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := verifiedClient(t, env, "ada@example.com")
	c.Form("/settings/profile", map[string]string{"name": "Ada", "language": "fr"})
	other := env.Client(t)
	other.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0")
	other.Form("/login", map[string]string{"email": "ada@example.com", "password": pw})
	m := env.Mail.WaitSubject(t, "ada@example.com", "Nouvelle connexion à votre compte")
	for _, want := range []string{"Firefox sur Linux", "127.0.0.1", env.URL + "/settings/sessions"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("the alert lacks %q:\n%s", want, m.Text)
		}
	}
	// Logged out and in again in that browser: known.
	other.Form("/logout", nil)
	wantRedirect(t, other.Form("/login", map[string]string{"email": "ada@example.com", "password": pw}), "/")
	has(t, c.Get("/settings/sessions"), `name="alerts" value="on" checked`)
	wantRedirect(t, c.Form("/settings/sessions/alerts", nil), "/settings/sessions#alerts")
	has(t, c.Get("/settings/sessions"), "Les alertes de nouvelle connexion sont désactivées.")
	if strings.Contains(string(c.Get("/settings/sessions").Body), `value="on" checked`) {
		t.Fatal("the box is still ticked")
	}
	env.Client(t).Form("/login", map[string]string{"email": "ada@example.com", "password": pw})
	env.Mail.None(t, "ada@example.com", 300*time.Millisecond)
}

func TestChangingEmailThroughThePages(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := verifiedClient(t, env, "ada@example.com")
	has(t, c.Get("/settings/profile"), "Your email is ada@example.com", `name="new_email"`)
	r := c.Form("/settings/email", map[string]string{"new_email": "not an email", "password": pw})
	if r.StatusCode != 422 {
		t.Fatalf("a bad address: %d", r.StatusCode)
	}
	has(t, r, `id="f-new_email-error"`)
	wantRedirect(t, c.Form("/settings/email", map[string]string{"new_email": "ada.new@example.com", "password": pw}), "/settings/profile")
	has(t, c.Get("/settings/profile"), "We sent a link to ada.new@example.com")
	link := strings.TrimPrefix(env.Mail.Wait(t, "ada.new@example.com").Link(), env.URL)
	has(t, c.Get(link), "Your email is now ada.new@example.com.")
	if r := c.Get(link); r.StatusCode != 400 {
		t.Fatalf("the link a second time: %d", r.StatusCode)
	}
	if m := env.Mail.Wait(t, "ada@example.com"); m.Subject != "The email of your account was changed" {
		t.Fatalf("mail to the old address: %q", m.Subject)
	}
}

func TestDeletingTheAccountThroughThePages(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := verifiedClient(t, env, "ada@example.com")
	has(t, c.Get("/settings/profile"), `href="/settings/delete"`)
	has(t, c.Get("/settings/delete"), "deletes your account and your personal data for good")
	r := c.Form("/settings/delete", map[string]string{"password": "a wrong password"})
	has(t, r, `id="f-password-error"`)
	wantRedirect(t, c.Form("/settings/delete", map[string]string{"password": pw}), "/login")
	has(t, c.Get("/login"), "Your account was deleted.")
}

// TestDatesAreInTheReadersZoneAndLanguage: dates are written in the time
// zone the browser told (cookie set by app.js) and in the page's language;
// UTC, said so, until then or for a zone that does not exist.
func TestDatesAreInTheReadersZoneAndLanguage(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	c := verifiedClient(t, env, "ada@example.com")
	u, _ := url.Parse(env.URL)
	at := func(zone string) string {
		c.Jar.SetCookies(u, []*http.Cookie{{Name: "gardien_tz", Value: zone, Path: "/"}})
		return string(c.Get("/settings/sessions").Body)
	}
	now := clock.Now()
	paris, _ := time.LoadLocation("Europe/Paris")
	if page := at("Europe/Paris"); !strings.Contains(page, now.In(paris).Format("Jan 2, 2006, 15:04 MST")) {
		t.Errorf("Paris time missing:\n%s", page)
	}
	for _, zone := range []string{"", "Mars/Olympus", "../../etc/passwd"} {
		if page := at(zone); !strings.Contains(page, now.UTC().Format("Jan 2, 2006, 15:04 UTC")) {
			t.Errorf("zone %q: UTC missing:\n%s", zone, page)
		}
	}
	c.Form("/language", map[string]string{"lang": "fr", "next": "/settings/sessions"})
	months := []string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."}
	want := fmt.Sprintf("%d %s %d, %s", now.In(paris).Day(), months[now.In(paris).Month()-1], now.In(paris).Year(), now.In(paris).Format("15:04 MST"))
	if page := at("Europe/Paris"); !strings.Contains(page, want) {
		t.Errorf("French Paris time %q missing:\n%s", want, page)
	}
}

var (
	readmePicture = regexp.MustCompile(`\(docs/screenshots/([a-z0-9-]+)\.png\)`)
	docShot       = regexp.MustCompile(`b\.Doc\("([a-z0-9-]+)"\)`)
)

// TestTheREADMEShowsOnlyPicturesTheBrowserTestsMake: each picture of the
// README is remade by a browser test (b.Doc), so none goes stale.
func TestTheREADMEShowsOnlyPicturesTheBrowserTestsMake(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	made := map[string]bool{}
	tests, _ := filepath.Glob("browser_*_test.go")
	for _, f := range tests {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range docShot.FindAllStringSubmatch(string(src), -1) {
			made[m[1]] = true
		}
	}
	pictures := readmePicture.FindAllStringSubmatch(string(readme), -1)
	if len(pictures) == 0 {
		t.Fatal("the README shows no screenshot")
	}
	for _, m := range pictures {
		if !made[m[1]] {
			t.Errorf("README shows docs/screenshots/%s.png, which no browser test makes (b.Doc)", m[1])
		}
		if _, err := os.Stat("../../docs/screenshots/" + m[1] + ".png"); err != nil {
			t.Errorf("README shows a missing picture: %v", err)
		}
	}
}
