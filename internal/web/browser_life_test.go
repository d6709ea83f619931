package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"

	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/browsertest"
	"github.com/gardien/gardien/internal/totp"
	"github.com/gardien/gardien/internal/totp/totptest"
)

// lifeWords are the names a person follows in the life of an account.
type lifeWords struct {
	accept, password, newApp, currentCode, continueTo, codeFromApp, useApp, newAppDone string
	endSession, sessionEnded, logIn, banner, setUp, twoFactorTitle                     string
}

var lifeLanguages = map[string]lifeWords{
	"en": {"en-US", "Password", "Move to a new authenticator app", "Code from the app you use now, or a recovery code", "Continue",
		"6-digit code from your app", "Use this app", "Your account now uses the new app; the old one's codes no longer work.",
		"End this session", "Session ended.", "Log in", "Acme requires two-factor authentication from", "Set it up now", "Two-factor authentication"},
	"fr": {"fr-FR", "Mot de passe", "Passer à une nouvelle application d’authentification", "Code de l’application utilisée, ou code de récupération", "Continuer",
		"Code à 6 chiffres de votre application", "Utiliser cette application", "Votre compte utilise maintenant la nouvelle application ; les codes de l’ancienne ne fonctionnent plus.",
		"Fermer cette session", "Session fermée.", "Se connecter", "Acme exige l’authentification à deux facteurs à partir du", "La configurer maintenant", "Authentification à deux facteurs"},
}

// cookiesOf are an HTTP client's cookies for the server, to hand its
// session to a browser.
func cookiesOf(env *apptest.Env, c *apptest.Client) []*http.Cookie {
	u, _ := url.Parse(env.URL)
	return c.Jar.Cookies(u)
}

// TestBrowserNewPhoneAndSessions: a person moves to a new authenticator app
// through the pages (the old app's codes stop working), then, from the
// Sessions page, ends the session of another browser, which is logged out
// at its next page.
func TestBrowserNewPhoneAndSessions(t *testing.T) {
	for lang, w := range lifeLanguages {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			clock := apptest.NewClock()
			env := apptest.Start(t, apptest.WithClock(clock))
			email := "ada." + lang + "@example.com"
			c := verifiedClient(t, env, email)
			c.Form("/settings/profile", map[string]string{"name": "Ada Lovelace", "language": lang}) // mails come in it
			old := withTwoFactor(t, c, clock)
			code := func(secret []byte) string {
				clock.Advance(30 * time.Second)
				return totp.Code(secret, totp.Step(clock.Now()), otp.DigitsSix)
			}

			b := browsertest.New(t, w.accept)
			b.UseCookies(env.URL, cookiesOf(env, c))
			b.Open(env.URL + "/settings/two-factor")
			b.Go("link", w.newApp)
			b.Fill(w.password, pw)
			b.Fill(w.currentCode, code(old))
			b.Go("button", w.continueTo)
			b.Shot("new-app-qr")
			uri, _ := url.Parse(totptest.DecodeQR(t, []byte(b.Attr(`img[alt*="QR"]`, "src"))))
			fresh, _ := totp.DecodeSecret(uri.Query().Get("secret"))
			b.Fill(w.codeFromApp, code(fresh))
			b.Go("button", w.useApp)
			b.See(w.newAppDone)
			b.Shot("new-app-done")
			if m := env.Mail.WaitSubject(t, email, map[string]string{"en": "Your account uses a new authenticator app",
				"fr": "Votre compte utilise une nouvelle application d’authentification"}[lang]); !strings.Contains(m.Text, "Gardien") {
				t.Fatalf("new-app mail:\n%s", m.Text)
			}

			// Another browser logs in with the new app; the old app's code is refused.
			other := env.Client(t)
			other.Form("/login", map[string]string{"email": email, "password": pw})
			if r := other.Form("/login/two-factor", map[string]string{"code": code(old)}); r.StatusCode != http.StatusUnauthorized {
				t.Fatalf("the old app's code: %d", r.StatusCode)
			}
			wantRedirect(t, other.Form("/login/two-factor", map[string]string{"code": code(fresh)}), "/")
			b2 := browsertest.New(t, w.accept)
			b2.UseCookies(env.URL, cookiesOf(env, other))
			b2.Open(env.URL + "/settings/profile")
			b2.Has("link", w.twoFactorTitle)

			b.Open(env.URL + "/settings/sessions")
			b.Shot("sessions")
			b.Go("button", w.endSession)
			b.See(w.sessionEnded)
			b.Shot("session-ended")
			b2.Open(env.URL + "/settings/profile")
			b2.Has("button", loginWords[lang][1])
			if !strings.Contains(b2.Location(), "/login") {
				t.Fatalf("the ended session's browser is at %s", b2.Location())
			}
			b2.Shot("logged-out")
		})
	}
}

// TestBrowserDeadlineBanner: with a requirement due at a date, a member
// without 2FA sees the banner on every page, in their language, and its
// link leads to the set-up.
func TestBrowserDeadlineBanner(t *testing.T) {
	for lang, w := range lifeLanguages {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			clock := apptest.NewClock()
			env := apptest.Start(t, apptest.WithClock(clock))
			owner := verifiedClient(t, env, "owner."+lang+"@example.com")
			withTwoFactor(t, owner, clock)
			org := strings.TrimSuffix(owner.Form("/organizations", map[string]string{"name": "Acme"}).Header.Get("Location"), "/members")
			member := invited(t, env, owner, org, "member."+lang+"@example.com", "Max Membre")
			date := clock.Now().UTC().Add(10 * 24 * time.Hour).Format("2006-01-02")
			wantRedirect(t, owner.Form(org+"/security", map[string]string{"require": "on", "when": "deadline", "deadline": date}), org+"/security")

			b := browsertest.New(t, w.accept)
			b.UseCookies(env.URL, cookiesOf(env, member))
			for _, page := range []string{"/", "/settings/profile", org + "/overview"} {
				b.Open(env.URL + page)
				b.See(w.banner)
			}
			b.Check("banner") // axe and layout, with the banner, at both widths
			if lang == "en" {
				b.Doc("deadline-banner")
			}
			b.Go("link", w.setUp)
			if !strings.HasSuffix(b.Location(), "/settings/two-factor") {
				t.Fatalf("the banner's link led to %s", b.Location())
			}
			b.Check("two-factor-from-banner")
		})
	}
}
