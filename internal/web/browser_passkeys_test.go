package web_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/descope/virtualwebauthn"

	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/browsertest"
	"github.com/gardien/gardien/internal/webauthn/webauthntest"
)

type keyWords struct {
	accept, email, password, logIn, accountMenu, logOut string
	keyName, addKey, keyIsOn, saved, useKey, replayed   string
	cloned                                              string
}

var keyLanguages = map[string]keyWords{
	"en": {"en-US", "Email", "Password", "Log in", "Account menu", "Log out",
		"Key name", "Add a security key or passkey", "Two-factor authentication is on, with your key.", "I have saved them", "Use your security key",
		"This request to your key has expired or was answered already", "This key’s answer shows it was copied"},
	"fr": {"fr-FR", "E-mail", "Mot de passe", "Se connecter", "Menu du compte", "Se déconnecter",
		"Nom de la clé", "Ajouter une clé de sécurité ou une clé d’accès", "L’authentification à deux facteurs est activée, avec votre clé.", "Je les ai enregistrés", "Utiliser votre clé de sécurité",
		"Cette demande à votre clé a expiré ou a déjà reçu sa réponse", "La réponse de cette clé montre qu’elle a été copiée"},
}

// keepAnswers makes the page keep, in its tab's sessionStorage, the key's
// answer its form sends (an attacker's copy of it, for a replay).
const keepAnswers = `(() => { const submit = HTMLFormElement.prototype.submit;
	HTMLFormElement.prototype.submit = function () {
		const a = this.querySelector("input[name=assertion]");
		if (a) sessionStorage.setItem("answer", a.value);
		return submit.call(this);
	}; return true })()`

// replay sends the kept answer again, with the key page's form.
const replay = `(() => { const f = document.querySelector("form[data-passkey=get]");
	f.querySelector("input[name=assertion]").value = sessionStorage.getItem("answer");
	HTMLFormElement.prototype.submit.call(f); return true })()`

// TestBrowserASecurityKey walks a key's life in Chromium with its virtual
// authenticator (CTAP2, resident keys, user verification): Personal
// settings → Two-factor authentication → Add a security key or passkey →
// the recovery codes; a login whose second step is the key; its answer
// replayed in another login, refused; a copy of the key (its counter
// behind), refused.
func TestBrowserASecurityKey(t *testing.T) {
	for lang, w := range keyLanguages {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			env := apptest.Start(t, apptest.BaseHost("localhost"))
			base := env.BaseURL()
			email := "zoe." + lang + "@example.com"
			env.NewPerson(t, email)
			b := browsertest.New(t, w.accept)
			key := b.AddAuthenticator(false) // a security key: no passkey to offer at the login page
			logIn := func() {
				t.Helper()
				b.Open(base + "/login")
				logIn(b, lang, email, apptest.Password)
			}
			logIn()
			b.Open(base + "/settings/two-factor")
			b.Fill(w.keyName, "Laptop")
			b.Shot("key-name")
			b.Go("button", w.addKey)
			b.See(w.keyIsOn)
			b.Shot("key-recovery-codes")
			b.Go("link", w.saved)
			if name := b.Attr(`table.keys input[name=key_name]`, "value"); name != "Laptop" {
				t.Fatalf("the key listed as %q", name)
			}
			b.ShotPage("key-listed")

			b.Click("button", w.accountMenu)
			b.Go("button", w.logOut)
			logIn()
			b.Has("button", w.useKey)
			b.Shot("key-second-step")
			if _, err := chromedp.Run(b.Context(), chromedp.Evaluate[bool](keepAnswers)); err != nil {
				t.Fatal(err)
			}
			b.Go("button", w.useKey)
			if loc := b.Location(); !strings.HasSuffix(loc, "/") {
				t.Fatalf("after the key: at %s", loc)
			}

			// Its answer again, in another login.
			b.Click("button", w.accountMenu)
			b.Go("button", w.logOut)
			logIn()
			b.Has("button", w.useKey)
			if _, err := chromedp.Run(b.Context(), chromedp.Evaluate[bool](replay)); err != nil {
				t.Fatal(err)
			}
			b.See(w.replayed)
			b.Shot("key-replayed")

			// A copy of the key, its counter behind the original's.
			creds := key.Credentials()
			if len(creds) != 1 || creds[0].SignCount < 1 {
				t.Fatalf("the key: %+v", creds)
			}
			key.Remove()
			c := creds[0]
			b.AddAuthenticator(false).AddCredential(&webauthn.Credential{CredentialID: c.CredentialID, IsResidentCredential: c.IsResidentCredential,
				RpID: c.RpID, PrivateKey: c.PrivateKey, UserHandle: c.UserHandle, SignCount: 0})
			b.Go("button", w.useKey)
			b.See(w.cloned)
			b.Shot("key-copied")
		})
	}
}

// TestBrowserSignInWithAPasskey: a passkey made in Personal settings signs
// its person in from the login page alone — no email, no password, no
// code — and the email box offers it (autocomplete "username webauthn").
func TestBrowserSignInWithAPasskey(t *testing.T) {
	words := map[string][7]string{ // accept, key name label, sign in with a passkey, new email, password, send the link, sent
		"en": {"en-US", "Key name", "Sign in with a passkey", "New email", "Password", "Send the link", "We sent a link to"},
		"fr": {"fr-FR", "Nom de la clé", "Se connecter avec une clé d’accès", "Nouvel e-mail", "Mot de passe", "Envoyer le lien", "Nous avons envoyé un lien"},
	}
	for lang, w := range words {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			env := apptest.Start(t, apptest.BaseHost("localhost"))
			base := env.BaseURL()
			email := "zoe." + lang + "@example.com"
			p := env.NewPerson(t, email)
			b := browsertest.New(t, w[0])
			key := b.AddAuthenticator(true)
			b.UseCookies(base, p.C.Jar.Cookies(mustURL(env.URL)))
			b.Open(base + "/settings/two-factor")
			b.Fill(w[1], "Laptop")
			b.Go("button", keyLanguages[lang].addKey)
			b.Go("link", keyLanguages[lang].saved)

			// A browser logged out, its passkey kept. The login page asks
			// for it as it opens (the email box offers it): the person
			// picks it (the virtual authenticator at once), and is in.
			b.UseCookies(base, nil)
			b.Open(base + "/login")
			for deadline := time.Now().Add(10 * time.Second); !strings.HasSuffix(b.Location(), "/"); time.Sleep(100 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the passkey offered in the email box did not sign in: at %s", b.Location())
				}
			}
			b.Has("button", keyLanguages[lang].accountMenu)

			// Or with the button: the request of the email box waits (no
			// one picks it), the button's replaces it.
			b.UseCookies(base, nil)
			key.Present(false)
			b.Open(base + "/login")
			if ac := b.Attr("input[name=email]", "autocomplete"); ac != "username webauthn" {
				t.Fatalf("the email box's autocomplete: %q", ac)
			}
			b.Shot("passkey-login")
			key.Present(true)
			b.Go("button", w[2])
			b.Has("button", keyLanguages[lang].accountMenu)
			if loc := b.Location(); !strings.HasSuffix(loc, "/") {
				t.Fatalf("after the passkey: at %s", loc)
			}

			// A new email, proved with the key (no app, no code typed).
			b.Open(base + "/settings/profile")
			b.Fill(w[3], "zoe.new@example.com")
			b.Fill(w[4], apptest.Password)
			b.Go("button", w[5])
			b.See(w[6])
			env.Mail.Wait(t, "zoe.new@example.com")
		})
	}
}

// TestBrowserAnOrganizationAsksForAKey: the owner (an app and a key of
// their own) turns on "Require a phishing-resistant method" under the 2FA
// requirement; a member whose only method is an app passes their code,
// lands on the set-up asking for a key, adds one in Chromium, and is in;
// the Members page shows their methods.
func TestBrowserAnOrganizationAsksForAKey(t *testing.T) {
	words := map[string][8]string{ // accept, keys start, keys now on, verify, set-up asks, key name, add key, app and key
		"en": {"en-US", "Require a passkey or security key", "Only passkeys and security keys meet the requirement now.", "Verify",
			"requires a passkey or security key", "Key name", "Add a security key or passkey", "App and key"},
		"fr": {"fr-FR", "Exiger une clé d’accès ou de sécurité", "Seules les clés d’accès et de sécurité satisfont désormais l’exigence.", "Vérifier",
			"exige une clé d’accès ou une clé de sécurité", "Nom de la clé", "Ajouter une clé de sécurité ou une clé d’accès", "Application et clé"},
	}
	for lang, w := range words {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			clock := apptest.NewClock()
			env := apptest.Start(t, apptest.BaseHost("localhost"), apptest.WithClock(clock))
			base := env.BaseURL()
			owner := env.NewPerson(t, "owner@example.com")
			owner.Enable(t, clock)
			ownerKey(t, env, owner)
			org := fmt.Sprint(apptest.MustAPI(t, owner.C, "POST", "/organizations", map[string]any{"name": "Acme"})["organization"].(map[string]any)["id"])
			ada := env.NewPerson(t, "ada@example.com")
			apptest.MustAPI(t, owner.C, "POST", "/organizations/"+org+"/invitations", map[string]any{"email": "ada@example.com", "role": "member"})
			apptest.MustAPI(t, ada.C, "POST", "/invitations/accept", map[string]any{"token": env.Mail.Wait(t, "ada@example.com").Token()})
			ada.Enable(t, clock)
			apptest.MustAPI(t, owner.C, "PUT", "/organizations/"+org+"/security", map[string]any{"require_two_factor": true})

			o := browsertest.New(t, w[0])
			o.UseCookies(base, owner.C.Jar.Cookies(mustURL(env.URL)))
			o.Open(base + "/organizations/" + org + "/security")
			o.Go("button", w[1])
			o.See(w[2])
			o.ShotPage("keys-required")

			b := browsertest.New(t, w[0])
			b.AddAuthenticator(false)
			b.Open(base + "/login")
			logIn(b, lang, "ada@example.com", apptest.Password)
			b.Fill(tfaLanguages[lang].authCode, ada.Code(clock))
			b.Go("button", w[3])
			b.See(w[4])
			b.Shot("key-set-up")
			b.Fill(w[5], "Ada's laptop")
			b.Go("button", w[6])
			b.Has("button", keyLanguages[lang].accountMenu)
			if loc := b.Location(); !strings.HasSuffix(loc, "/") {
				t.Fatalf("after the key: at %s", loc)
			}

			o.Open(base + "/organizations/" + org + "/members")
			o.See(w[7])
		})
	}
}

// ownerKey registers a key (a software authenticator's) for p, through the API.
func ownerKey(t *testing.T, env *apptest.Env, p *apptest.Person) {
	t.Helper()
	rp := virtualwebauthn.RelyingParty{Name: "Gardien", ID: "localhost", Origin: env.BaseURL()}
	r := p.C.API("POST", "/me/passkeys/register", nil)
	parsed, err := virtualwebauthn.ParseAttestationOptions(string(r.Body))
	if err != nil {
		t.Fatalf("options %d %s: %v", r.StatusCode, r.Body, err)
	}
	answer := virtualwebauthn.CreateAttestationResponse(rp, virtualwebauthn.NewAuthenticator(), webauthntest.NewCredential(), *parsed)
	apptest.MustAPI(t, p.C, "POST", "/me/passkeys/register/finish", map[string]any{"name": "Owner's key", "credential": json.RawMessage(answer)})
}

// TestBrowserAnotherPersonsKeyDoesNotAnswer: at Ada's second step, a key
// that is Eve's (made in Eve's browser, then held by Ada's authenticator)
// is not among the keys Gardien asks for: nothing reaches the server, and
// the page says the key did not answer; Ada's own key then lets her in.
func TestBrowserAnotherPersonsKeyDoesNotAnswer(t *testing.T) {
	didNotAnswer := map[string]string{"en": "Your key did not answer", "fr": "Votre clé n’a pas répondu"}
	for lang, w := range keyLanguages {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			env := apptest.Start(t, apptest.BaseHost("localhost"))
			base := env.BaseURL()
			addKey := func(p *apptest.Person, b *browsertest.Browser) {
				t.Helper()
				b.UseCookies(base, p.C.Jar.Cookies(mustURL(env.URL)))
				b.Open(base + "/settings/two-factor")
				b.Fill(w.keyName, "Key of "+p.Email)
				b.Go("button", w.addKey)
				b.Go("link", w.saved)
			}
			eve := browsertest.New(t, w.accept)
			eveKey := eve.AddAuthenticator(false)
			addKey(env.NewPerson(t, "eve@example.com"), eve)

			b := browsertest.New(t, w.accept)
			adaKey := b.AddAuthenticator(false)
			addKey(env.NewPerson(t, "ada@example.com"), b)
			b.UseCookies(base, nil)
			b.Open(base + "/login")
			logIn(b, lang, "ada@example.com", apptest.Password)
			b.Has("button", w.useKey)

			// Eve's key, in Ada's hand.
			own := adaKey.Credentials()
			adaKey.Remove()
			stranger := b.AddAuthenticator(false)
			stranger.AddCredential(eveKey.Credentials()[0])
			b.Click("button", w.useKey)
			b.See(didNotAnswer[lang])
			b.Shot("another-persons-key")
			stranger.Remove()
			b.AddAuthenticator(false).AddCredential(own[0])
			b.Go("button", w.useKey)
			b.Has("button", w.accountMenu)
		})
	}
}
