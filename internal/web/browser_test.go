package web_test

import (
	"strings"
	"testing"

	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/browsertest"
)

// words are the visible names a person follows, in each language.
type words struct {
	accept                                    string
	name, email, password                     string
	signUp, logIn, accountMenu, logOut        string
	personalSettings, organizationSettings    string
	notValidated, validated, welcome, heading string
}

var languages = map[string]words{
	"en": {"en-US", "Name", "Email", "Password", "Sign up", "Log in", "Account menu", "Log out",
		"Personal settings", "Organization settings", "is not validated yet", "is validated", "Welcome, ", "Profile"},
	"fr": {"fr-FR", "Nom", "E-mail", "Mot de passe", "Créer un compte", "Se connecter", "Menu du compte", "Se déconnecter",
		"Paramètres personnels", "Paramètres de l’organisation", "n’est pas encore validé", "est validé", "Bienvenue, ", "Profil"},
}

// TestBrowserSignupValidateLoginSettings walks the foundation's path in
// Chromium, by the names a person sees: sign up, open the validation link
// from the mail, log out, log in, profile picture, Personal settings.
func TestBrowserSignupValidateLoginSettings(t *testing.T) {
	for lang, w := range languages {
		t.Run(lang, func(t *testing.T) {
			env := apptest.Start(t)
			b := browsertest.New(t, w.accept)
			email := "zoe." + lang + "@example.com"

			b.Open(env.URL + "/signup")
			b.Fill(w.name, "Zoé Martin")
			b.Fill(w.email, email)
			b.Fill(w.password, "correct horse battery staple")
			b.Shot("signup-filled")
			b.Go("button", w.signUp)
			b.See(w.notValidated)
			b.Shot("signed-up")

			link := env.Mail.Wait(t, email).Link()
			b.Open(link)
			b.See(email + " " + w.validated)
			b.Shot("email-validated")

			b.Open(env.URL + "/")
			b.Click("button", w.accountMenu)
			b.Has("link", w.personalSettings)
			b.Has("link", w.organizationSettings)
			b.Shot("account-menu")
			b.Go("button", w.logOut)
			b.Has("button", loginWords[lang][1])
			b.Shot("logged-out")

			logIn(b, lang, email, "correct horse battery staple")
			b.See(w.welcome + "Zoé Martin")
			b.Shot("logged-in")

			b.Click("button", w.accountMenu) // the profile picture, showing "ZM"
			b.Go("link", w.personalSettings)
			b.See(w.personalSettings)
			b.Has("link", w.heading)
			if !strings.HasSuffix(b.Location(), "/settings/profile") {
				t.Fatalf("Personal settings led to %s", b.Location())
			}
			b.Shot("personal-settings")
		})
	}
}

// loginWords are the login page's, per language: email, continue,
// password, log in.
var loginWords = map[string][4]string{
	"en": {"Email", "Continue", "Password", "Log in"},
	"fr": {"E-mail", "Continuer", "Mot de passe", "Se connecter"},
}

// logIn logs in at the login page the browser shows, as a person does:
// the email and Continue, then the password and Log in.
func logIn(b *browsertest.Browser, lang, email, password string) {
	w := loginWords[lang]
	b.Fill(w[0], email)
	b.Go("button", w[1])
	b.Fill(w[2], password)
	b.Go("button", w[3])
}
