package authz_test

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/testenv"
)

// TestOAuth2ProxySignsInThroughGardien: oauth2-proxy in front of an app,
// with Gardien as its OpenID provider (a web app with PKCE): the other
// common way teams put a proxy in front of their tools. Logged out → Gardien's
// login and code page → back on the app, which sees the owner's email.
func TestOAuth2ProxySignsInThroughGardien(t *testing.T) {
	t.Parallel()
	bin := testenv.OAuth2Proxy(t)
	env, clock, owner, org := acme(t)
	listen := freeAddr(t)
	app := apptest.MustAPI(t, owner.C, "POST", org+"/apps", map[string]any{"name": "oauth2-proxy", "type": "web",
		"redirect_uris": []string{"http://" + listen + "/oauth2/callback"}})["app"].(map[string]any)
	who := whoApp(t)
	secret := make([]byte, 32)
	rand.Read(secret)
	testenv.StartProcess(t, listen, bin, "--http-address="+listen, "--provider=oidc", "--oidc-issuer-url="+env.URL,
		"--client-id="+app["client_id"].(string), "--client-secret="+app["client_secret"].(string),
		"--redirect-url=http://"+listen+"/oauth2/callback", "--upstream=http://"+who, "--email-domain=*",
		"--cookie-secret="+base64.RawURLEncoding.EncodeToString(secret), "--cookie-secure=false", "--code-challenge-method=S256",
		"--skip-provider-button=true", "--scope=openid email profile")
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	_, at, _ := get(t, b, "http://"+listen+"/page?x=1")
	if at.Path != "/login" {
		t.Fatalf("logged out: at %s", at)
	}
	resp, err := b.PostForm(env.URL+"/login", url.Values{"email": {owner.Email}, "password": {apptest.Password}, "next": {at.Query().Get("next")}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = b.PostForm(env.URL+"/login/two-factor", url.Values{"code": {owner.Code(clock)}, "next": {resp.Request.URL.Query().Get("next")}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	next, _ := strings.CutPrefix(resp.Header.Get("Refresh"), "0; url=")
	ref, _ := resp.Request.URL.Parse(next)
	body, at, status := get(t, b, ref.String())
	if want := "hello " + owner.Email + " () at /page?x=1"; status != 200 || at.Host != listen || body != want {
		t.Fatalf("back through oauth2-proxy: %d at %s: %q", status, at, body)
	}
}
