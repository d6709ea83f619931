package web_test

import (
	"github.com/chromedp/chromedp"
	_ "image/png"
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

type tfaWords struct {
	accept, email, password, logIn, accountMenu, logOut, personalSettings string
	twoFactor, enable, codeFromApp, activate, saved, authCode, verify     string
	disable, on, off                                                      string
}

var tfaLanguages = map[string]tfaWords{
	"en": {"en-US", "Email", "Password", "Log in", "Account menu", "Log out", "Personal settings",
		"Two-factor authentication", "Enable 2FA", "6-digit code from your app", "Activate", "I have saved them",
		"Authentication code", "Verify", "Disable 2FA", "Two-factor authentication is on.", "Two-factor authentication is off."},
	"fr": {"fr-FR", "E-mail", "Mot de passe", "Se connecter", "Menu du compte", "Se déconnecter", "Paramètres personnels",
		"Authentification à deux facteurs", "Activer la 2FA", "Code à 6 chiffres de votre application", "Activer", "Je les ai enregistrés",
		"Code d’authentification", "Vérifier", "Désactiver la 2FA", "L’authentification à deux facteurs est activée.", "L’authentification à deux facteurs est désactivée."},
}

// TestBrowserTwoFactor walks the seed's path by its visible names: profile
// picture → Personal settings → Two-factor authentication → Enable 2FA →
// the QR code read from the page → the code typed → Activate; then a login
// through the code page; then Disable 2FA.
func TestBrowserTwoFactor(t *testing.T) {
	for lang, w := range tfaLanguages {
		t.Run(lang, func(t *testing.T) {
			clock := apptest.NewClock()
			env := apptest.Start(t, apptest.WithClock(clock))
			email := "zoe." + lang + "@example.com"
			verifiedClient(t, env, email) // signed up and validated through the pages

			b := browsertest.New(t, w.accept)
			b.Open(env.URL + "/login")
			logIn(b, lang, email, pw)
			b.Click("button", w.accountMenu)
			b.Go("link", w.personalSettings)
			b.Go("link", w.twoFactor)
			b.Shot("two-factor-off")
			b.Go("button", w.enable)
			b.Shot("qr-code")
			if lang == "en" {
				b.Doc("qr-code")
			}

			// The app scans the QR code shown on the page.
			uri, _ := url.Parse(totptest.DecodeQR(t, []byte(b.Attr(`img[alt*="QR code"]`, "src"))))
			secret, err := totp.DecodeSecret(uri.Query().Get("secret"))
			if err != nil || !strings.Contains(uri.Path, email) {
				t.Fatalf("otpauth URI %s: %v", uri, err)
			}
			code := func() string { return totp.Code(secret, totp.Step(clock.Now()), otp.DigitsSix) }

			b.Fill(w.codeFromApp, code())
			b.Shot("code-typed")
			b.Go("button", w.activate)
			b.Has("link", w.saved)
			b.Shot("recovery-codes")
			// The Copy button is shown by the page's script; without JavaScript
			// it stays hidden: the stylesheet lets the hidden attribute win
			// over its own display rules for buttons.
			display, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](`(() => { const e = document.createElement("button"); e.className = "button"; e.hidden = true;
				document.body.append(e); const d = getComputedStyle(e).display; e.remove(); return d })()`))
			if err != nil || display != "none" {
				t.Fatalf("a hidden button is displayed as %q (%v)", display, err)
			}
			b.Go("link", w.saved)
			b.See(w.on)
			b.Shot("two-factor-on")

			clock.Advance(30 * time.Second) // the next code of the app
			b.Click("button", w.accountMenu)
			b.Go("button", w.logOut)
			logIn(b, lang, email, pw)
			b.Has("button", w.verify)
			b.Fill(w.authCode, code())
			b.Shot("code-page")
			if lang == "en" {
				b.Doc("code-page")
			}
			b.Go("button", w.verify)
			b.Has("button", w.accountMenu)
			b.Shot("logged-in-with-code")

			b.Click("button", w.accountMenu)
			b.Go("link", w.personalSettings)
			b.Go("link", w.twoFactor)
			b.Go("link", w.disable)
			b.Fill(w.password, pw)
			b.Shot("disable-confirm")
			b.Go("button", w.disable)
			b.See(w.off)
			b.Has("button", w.enable)
			b.Shot("two-factor-disabled")
		})
	}
}
