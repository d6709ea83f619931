package web_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp"

	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/browsertest"
	"github.com/gardien/gardien/internal/totp"
	"github.com/gardien/gardien/internal/totp/totptest"
)

type orgWords struct {
	accept, email, password, logIn, logOut, accountMenu, authCode, verify string
	orgSettings, security, require, yes, dialogText, nowRequired          string
	setupLine, enable, codeFromApp, activate, saved, on                   string
}

var orgLanguages = map[string]orgWords{
	"en": {"en-US", "Email", "Password", "Log in", "Log out", "Account menu", "Authentication code", "Verify",
		"Organization settings", "Security & SSO", "Require two-factor authentication", "Yes",
		"1 member does not have two-factor authentication yet", "Two-factor authentication is now required",
		"Acme requires two-factor authentication", "Enable 2FA", "6-digit code from your app", "Activate", "I have saved them", "Two-factor authentication is on."},
	"fr": {"fr-FR", "E-mail", "Mot de passe", "Se connecter", "Se déconnecter", "Menu du compte", "Code d’authentification", "Vérifier",
		"Paramètres de l’organisation", "Sécurité & SSO", "Exiger l’authentification à deux facteurs", "Oui",
		"1 membre n’a pas encore l’authentification à deux facteurs", "L’authentification à deux facteurs est désormais exigée",
		"Acme impose l’authentification à deux facteurs", "Activer la 2FA", "Code à 6 chiffres de votre application", "Activer", "Je les ai enregistrés", "L’authentification à deux facteurs est activée."},
}

// TestBrowserRequireTwoFactor walks the seed's second path by its visible
// names: profile picture → Organization settings → Security & SSO → the
// switch → the pop-up → Yes; then a member's next login lands on the
// set-up, which they cannot leave until 2FA is on.
func TestBrowserRequireTwoFactor(t *testing.T) {
	for lang, w := range orgLanguages {
		t.Run(lang, func(t *testing.T) {
			clock := apptest.NewClock()
			env := apptest.Start(t, apptest.WithClock(clock))
			admin := verifiedClient(t, env, "admin."+lang+"@example.com")
			admin.Header.Set("Accept-Language", w.accept)
			loc := admin.Form("/organizations", map[string]string{"name": "Acme"}).Header.Get("Location")
			org := strings.TrimSuffix(loc, "/members")
			secret := withTwoFactor(t, admin, clock)
			member := "member." + lang + "@example.com"
			admin.Form(org+"/invitations", map[string]string{"email": member, "role": "member"})
			tok := env.Mail.Wait(t, member).Token()
			joiner := env.Client(t)
			joiner.Form("/signup", map[string]string{"name": "Max Membre", "email": member, "password": pw, "invitation": tok})

			b := browsertest.New(t, w.accept)
			clock.Advance(30 * time.Second)
			b.Open(env.URL + "/login")
			logIn(b, lang, "admin."+lang+"@example.com", pw)
			b.Fill(w.authCode, totp.Code(secret, totp.Step(clock.Now()), otp.DigitsSix))
			b.Go("button", w.verify)

			b.Click("button", w.accountMenu)
			b.Go("link", w.orgSettings)
			b.Go("link", w.security)
			b.Shot("security")
			if lang == "en" {
				b.Doc("security-switch")
			}
			b.Click("switch", w.require)
			b.Has("button", w.yes)
			b.See(w.dialogText)
			b.Shot("dialog")
			if lang == "en" {
				b.Doc("require-popup")
				// A deadline without its date: the pop-up stays open, the
				// error next to the date; then back to "at next login".
				b.Run("choose a deadline, no date", chromedp.Click(`#require-dialog input[value="deadline"]`), chromedp.Click(`#require-dialog .actions button`))
				b.See("Choose the date of the deadline.")
				if open, err := chromedp.Run(b.Context(), chromedp.Evaluate[bool](`document.getElementById("require-dialog").open`)); err != nil || !open {
					t.Fatalf("the pop-up closed on a deadline without its date (%v)", err)
				}
				b.Run("back to next login", chromedp.Click(`#require-dialog input[value="next_login"]`))
			}
			b.Go("button", w.yes)
			b.See(w.nowRequired)
			if b.Attr(`button[role="switch"]`, "aria-checked") != "true" {
				t.Fatal("the switch is not on after Yes")
			}
			b.Shot("required")
			if lang == "en" {
				b.Go("link", "Members")
				b.Doc("members")
			}

			// The member's next login.
			b.Click("button", w.accountMenu)
			b.Go("button", w.logOut)
			logIn(b, lang, member, pw)
			b.See(w.setupLine)
			b.Shot("setup-required")
			b.Open(env.URL + "/settings/profile") // trying to go elsewhere
			b.See(w.setupLine)
			if !strings.HasSuffix(b.Location(), "/two-factor/setup") {
				t.Fatalf("left the set-up for %s", b.Location())
			}
			b.Go("button", w.enable)
			uri, _ := url.Parse(totptest.DecodeQR(t, []byte(b.Attr(`img[alt*="QR code"]`, "src"))))
			msecret, _ := totp.DecodeSecret(uri.Query().Get("secret"))
			b.Fill(w.codeFromApp, totp.Code(msecret, totp.Step(clock.Now()), otp.DigitsSix))
			b.Go("button", w.activate)
			b.Go("link", w.saved)
			b.See(w.on)
			b.Has("button", w.accountMenu)
			b.Shot("member-protected")
		})
	}
}
