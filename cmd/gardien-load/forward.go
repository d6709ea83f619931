package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// runForward measures the question a reverse proxy asks at each request
// to a protected host (GET /authz/forward-auth with a pass), beside GET
// /me on the same server, and beside oauth2-proxy's /oauth2/auth (a
// stateless check of its own cookie) when its binary is given.
func runForward(bin, dbURL, profiles, o2pBin string, workers int, d time.Duration) error {
	s, err := start(bin, dbURL, profiles, false)
	if err != nil {
		return err
	}
	defer s.stop()
	email := fmt.Sprintf("forward-%d@example.com", time.Now().UnixNano())
	c, err := signedUp(s, email)
	if err != nil {
		return err
	}
	st, m, err := call(c, s.url, "POST", "/organizations", map[string]any{"name": "Load"})
	if err != nil || st != 201 {
		return callFailed("organization", st, m, err)
	}
	org := fmt.Sprint(m["organization"].(map[string]any)["id"])
	// The organization claims acme.test (through an OpenID Connect
	// connection to Gardien itself, off), and an operator verifies it.
	if st, m, err := call(c, s.url, "PUT", "/organizations/"+org+"/sso", map[string]any{"protocol": "oidc", "enabled": false,
		"domains": []string{"acme.test"}, "issuer": s.url, "client_id": "x", "client_secret": "x"}); err != nil || st != 200 {
		return callFailed("sso", st, m, err)
	}
	verify := exec.Command(bin, "sso", "verify-domain", org, "acme.test")
	verify.Env = s.cmd.Env
	if out, err := verify.CombinedOutput(); err != nil {
		return fmt.Errorf("verify-domain: %w: %s", err, out)
	}
	if st, m, err := call(c, s.url, "POST", "/organizations/"+org+"/apps", map[string]any{"name": "Wiki", "type": "proxy",
		"hosts": []string{"wiki.acme.test"}}); err != nil || st != 201 {
		return callFailed("proxy app", st, m, err)
	}
	stay := *c
	stay.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := stay.Get(s.url + "/authz/start?rd=" + url.QueryEscape("http://wiki.acme.test/"))
	if err != nil {
		return err
	}
	resp.Body.Close()
	pass := ""
	for _, ck := range resp.Cookies() {
		if ck.Name == "gardien_pass" {
			pass = ck.Value
		}
	}
	if pass == "" {
		return fmt.Errorf("no pass from /authz/start: %s", resp.Status)
	}
	fmt.Printf("gardien-load: a proxy's question on %d cores, %d workers, %s each\n\n", runtime.NumCPU(), workers, d)
	fmt.Printf("%-30s %8s %11s\n", "operation", "requests", "rate")
	check := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	drive(s, "gardien forward-auth", workers, d, func(int) (bool, bool) {
		req, _ := http.NewRequest(http.MethodGet, s.url+"/authz/forward-auth", nil)
		req.Header.Set("X-Forwarded-Proto", "http")
		req.Header.Set("X-Forwarded-Host", "wiki.acme.test")
		req.Header.Set("X-Forwarded-Uri", "/page")
		req.Header.Set("Cookie", "gardien_pass="+pass)
		return statusOf(check, req) == 200, true
	}).print(s)
	drive(s, "gardien GET /me", workers, d, func(int) (bool, bool) {
		st, _, err := call(c, s.url, "GET", "/me", nil)
		return err == nil && st == 200, true
	}).print(s)
	if o2pBin == "" {
		return nil
	}
	o, cookie, err := startOAuth2Proxy(o2pBin, s, c, org, email)
	if err != nil {
		return err
	}
	defer o.stop()
	drive(o, "oauth2-proxy /oauth2/auth", workers, d, func(int) (bool, bool) {
		req, _ := http.NewRequest(http.MethodGet, o.url+"/oauth2/auth", nil)
		req.Header.Set("Cookie", cookie)
		return statusOf(check, req) == http.StatusAccepted, true
	}).print(o)
	return nil
}

// signedUp makes a person with a validated email, logged in (no 2FA).
func signedUp(s *server, email string) (*http.Client, error) {
	c, err := validated(s, email)
	if err != nil {
		return nil, err
	}
	if st, m, err := call(c, s.url, "POST", "/login", map[string]any{"email": email, "password": pw}); err != nil || st != 200 {
		return nil, callFailed("login", st, m, err)
	}
	return c, nil
}

// validated signs a person up and validates their email (the token read
// from the server's terminal mail); its browser is returned.
func validated(s *server, email string) (*http.Client, error) {
	c := client()
	if st, m, err := call(c, s.url, "POST", "/signup", map[string]any{"email": email, "password": pw, "name": "Load Test"}); err != nil || st != 201 {
		return nil, callFailed("signup", st, m, err)
	}
	var tok string
	select {
	case tok = <-s.tokenFor(email):
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("no validation mail for %s", email)
	}
	if st, m, err := call(c, s.url, "POST", "/email/verify", map[string]any{"token": tok}); err != nil || st != 200 {
		return nil, callFailed("verify", st, m, err)
	}
	return c, nil
}

// startOAuth2Proxy runs oauth2-proxy with Gardien as its OpenID provider,
// signs the person of browser c in through it, and returns its cookie.
func startOAuth2Proxy(bin string, s *server, c *http.Client, org, email string) (*server, string, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	st, m, err := call(c, s.url, "POST", "/organizations/"+org+"/apps", map[string]any{"name": "oauth2-proxy", "type": "web",
		"redirect_uris": []string{"http://" + addr + "/oauth2/callback"}})
	if err != nil || st != 201 {
		return nil, "", callFailed("app", st, m, err)
	}
	app := m["app"].(map[string]any)
	secret := make([]byte, 32)
	rand.Read(secret)
	cmd := exec.Command(bin, "--http-address="+addr, "--provider=oidc", "--oidc-issuer-url="+s.url,
		"--client-id="+app["client_id"].(string), "--client-secret="+app["client_secret"].(string),
		"--redirect-url=http://"+addr+"/oauth2/callback", "--upstream=static://202", "--email-domain=*",
		"--cookie-secret="+base64.RawURLEncoding.EncodeToString(secret), "--cookie-secure=false", "--code-challenge-method=S256",
		"--skip-provider-button=true", "--scope=openid email profile", "--request-logging=false", "--auth-logging=false")
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	o := &server{cmd: cmd, url: "http://" + addr}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(o.url + "/ping"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			o.stop()
			return nil, "", errors.New("oauth2-proxy did not start within 20 s")
		}
	}
	// The person's browser, logged in at Gardien, signs in through it.
	u := o.url + "/page"
	for range 8 {
		resp, err := c.Get(u)
		if err != nil {
			o.stop()
			return nil, "", err
		}
		resp.Body.Close()
		if next, ok := strings.CutPrefix(resp.Header.Get("Refresh"), "0; url="); ok {
			ref, _ := resp.Request.URL.Parse(next)
			u = ref.String()
			continue
		}
		break
	}
	ou, _ := url.Parse(o.url)
	for _, ck := range c.Jar.Cookies(ou) {
		if ck.Name == "_oauth2_proxy" {
			return o, ck.Name + "=" + ck.Value, nil
		}
	}
	o.stop()
	return nil, "", fmt.Errorf("oauth2-proxy gave %s no cookie", email)
}
