package web_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/browsertest"
	"github.com/gardien/gardien/internal/sso/ssotest"
)

type ssoWords struct {
	accept, email, password, logIn, logOut, accountMenu, orgSettings, security string
	issuer, clientID, clientSecret, metadataURL, on, save, saved, verify       string
	welcome, saml                                                              string
}

var ssoLanguages = map[string]ssoWords{
	"en": {"en-US", "Email", "Password", "Log in", "Log out", "Account menu", "Organization settings", "Security & SSO",
		"Issuer URL", "Client ID", "Client secret", "Identity provider's metadata URL",
		"On: people of the verified domains can log in through the identity provider", "Save single sign-on", "Single sign-on saved.", "Verify",
		"Welcome, ", "SAML 2.0"},
	"fr": {"fr-FR", "E-mail", "Mot de passe", "Se connecter", "Se déconnecter", "Menu du compte", "Paramètres de l’organisation", "Sécurité & SSO",
		"URL de l’émetteur", "Identifiant client", "Secret client", "URL des métadonnées du fournisseur d’identité",
		"Activée : les personnes des domaines vérifiés peuvent se connecter par le fournisseur d’identité", "Enregistrer l’authentification unique",
		"Authentification unique enregistrée.", "Vérifier", "Bienvenue, ", "SAML 2.0"},
}

var txtRecord = regexp.MustCompile(`gardien-verification=[a-z0-9]+`)

// TestBrowserSSO walks, in both languages, the owner's path to connect an
// identity provider — profile picture → Organization settings → Security &
// SSO → Single sign-on — then a person's "Log in with SSO", once with
// OpenID Connect and once with SAML 2.0 (crewjam's IdP; and, in English,
// Debian's SimpleSAMLphp).
func TestBrowserSSO(t *testing.T) {
	for lang, w := range ssoLanguages {
		protocols := []string{"oidc", "saml"}
		if lang == "en" {
			protocols = append(protocols, "simplesamlphp")
		}
		for _, protocol := range protocols {
			t.Run(lang+"/"+protocol, func(t *testing.T) {
				dns := ssotest.StartDNS(t)
				env := apptest.Start(t, apptest.Setting("GARDIEN_DNS_RESOLVER", dns.Addr))
				owner := "owner@acme.test"
				c := verifiedClient(t, env, owner)
				c.Form("/organizations", map[string]string{"name": "Acme"})
				person := ssotest.OPUser{Username: "ada", Password: "idp-password", Email: "ada@acme.test", EmailVerified: true, Name: "Ada Lovelace"}

				b := browsertest.New(t, w.accept)
				b.Open(env.URL + "/login")
				logIn(b, lang, owner, pw)
				b.Click("button", w.accountMenu)
				b.Go("link", w.orgSettings)
				b.Go("link", w.security)
				// Only the chosen protocol's fields show.
				shown := func(css string) bool {
					t.Helper()
					v, err := chromedp.Run(b.Context(), chromedp.Evaluate[bool](`document.querySelector(`+strconv.Quote(css)+`).offsetParent !== null`))
					if err != nil {
						t.Fatal(err)
					}
					return v
				}
				if !shown("#f-issuer") || shown("#f-idp_metadata_url") {
					t.Error("OpenID Connect chosen: the SAML fields show, or the OIDC ones do not")
				}
				var trust func(spMetadata []byte)
				switch protocol {
				case "oidc":
					issuer := ssotest.StartOP(t, []ssotest.Client{{ID: "gardien", Secret: "idp-secret", RedirectURI: env.URL + "/sso/oidc/callback"}}, person)
					b.Fill(w.issuer, issuer)
					b.Fill(w.clientID, "gardien")
					b.Fill(w.clientSecret, "idp-secret")
				case "saml":
					idp := ssotest.StartSAMLIdP(t, person)
					trust = func(md []byte) { idp.Trust(t, "gardien", md) }
					b.Click("radio", w.saml)
					if shown("#f-issuer") || !shown("#f-idp_metadata_url") {
						t.Error("SAML chosen: the OIDC fields show, or the SAML ones do not")
					}
					b.Fill(w.metadataURL, idp.MetadataURL)
				case "simplesamlphp":
					idp := ssotest.StartSimpleSAMLphp(t, person)
					trust = func(md []byte) { idp.Trust(t, md) }
					b.Click("radio", w.saml)
					b.Fill(w.metadataURL, idp.MetadataURL)
				}
				b.Run("type the domain", chromedp.SendKeys(chromedp.CSS(`#f-domains`), "acme.test"))
				b.Click("checkbox", w.on)
				b.Shot("sso-form-" + protocol)
				b.Go("button", w.save)
				b.See(w.saved)
				dns.SetTXT("acme.test", txtRecord.FindString(b.Text()))
				b.Go("button", w.verify)
				b.Shot("sso-verified-" + protocol)
				if trust != nil {
					orgPath := strings.TrimSuffix(b.Location(), "/security#sso")
					orgID := orgPath[strings.LastIndex(orgPath, "/")+1:]
					trust(env.Client(t).Get("/sso/saml/" + orgID + "/metadata").Body)
				}
				b.Click("button", w.accountMenu)
				b.Go("button", w.logOut)

				// Ada logs in through her organization's provider.
				b.Fill(w.email, "ada@acme.test")
				b.Go("button", loginWords[lang][1])
				b.Shot("provider-" + protocol)
				switch protocol {
				case "oidc":
					b.Fill("Username:", "ada")
					b.Fill("Password:", "idp-password")
					b.Go("button", "Login")
				case "saml":
					b.Run("log in at the IdP", chromedp.SendKeys(chromedp.CSS(`input[name="user"]`), "ada"),
						chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "idp-password"))
					b.Go("button", "Log In")
				case "simplesamlphp":
					// Its answer page posts itself to Gardien's ACS (JavaScript).
					b.Run("log in at SimpleSAMLphp", chromedp.SendKeys(chromedp.CSS(`#username`), "ada"),
						chromedp.SendKeys(chromedp.CSS(`#password`), "idp-password"), chromedp.Click(`#submit_button`))
				}
				b.See(w.welcome + "Ada Lovelace")
				b.Has("button", w.accountMenu)
				b.Shot("logged-in-" + protocol)
			})
		}
	}
}
