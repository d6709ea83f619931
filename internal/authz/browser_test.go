package authz_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/browsertest"
)

// TestBrowserThroughNginx: in Chromium, a protected site behind nginx
// (deploy/nginx/forward-auth.conf) sends a logged-out person to Gardien's
// login and code pages, in their language, and back to the site.
func TestBrowserThroughNginx(t *testing.T) {
	words := map[string][5]string{
		"en": {"en-US", "Email", "Password", "Log in", "Authentication code"},
		"fr": {"fr-FR", "E-mail", "Mot de passe", "Se connecter", "Code d’authentification"},
	}
	verify := map[string]string{"en": "Verify", "fr": "Vérifier"}
	next := map[string]string{"en": "Continue", "fr": "Continuer"}
	for lang, w := range words {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			env, clock, owner, _ := acme(t, apptest.BaseHost("gardien.acme.test"), apptest.Setting("GARDIEN_COOKIE_DOMAIN", "acme.test"))
			port := nginxSite(t, env)

			b := browsertest.New(t, w[0], chromedp.Flag("host-resolver-rules", "MAP *.acme.test 127.0.0.1"))
			b.Open("http://wiki.acme.test:" + port + "/notes")
			b.Fill(w[1], owner.Email)
			b.Go("button", next[lang])
			b.Fill(w[2], apptest.Password)
			b.Shot("login-for-the-site")
			b.Go("button", w[3])
			b.Fill(w[4], owner.Code(clock))
			b.Go("button", verify[lang])
			b.See("hello owner@example.com (owner) at /notes")
			b.Shot("on-the-site")
			if loc := b.Location(); !strings.HasPrefix(loc, "http://wiki.acme.test:"+port+"/notes") {
				t.Fatalf("the browser is at %s", loc)
			}
		})
	}
}
