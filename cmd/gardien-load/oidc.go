package main

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"
)

// provider is an OpenID Provider measured: Gardien, or oidc-provider.
type provider struct {
	name     string
	s        *server
	authURL  string
	tokenURL string
	redirect string
	clients  map[string][2]string // algorithm → client id, secret
	// browser returns a browser with a live session at the provider, whose
	// consent to the apps is given (both providers then sign in without a
	// page, as Gardien does for an organization's apps).
	browser func() (*http.Client, error)
}

// codeBatch is how many codes are made before they are exchanged.
const codeBatch = 400

// redirectURI is where the apps' sign-ins return: never contacted, the
// browsers stop at it.
const redirectURI = "http://127.0.0.1:9/cb"

// noFollow is a browser that stops at the app's redirect URI.
func noFollow() *http.Client {
	c := client()
	c.CheckRedirect = func(r *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(r.URL.String(), redirectURI) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return c
}

// randomString is 43 characters: a PKCE verifier's shortest (RFC 7636).
func randomString() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authorize starts a sign-in to the app of alg in browser c and returns its
// code and PKCE verifier: the provider's pages are followed (the login
// pages of oidc-provider's first sign-in included, through login).
func (p *provider) authorize(c *http.Client, alg string, login func(*http.Response) (*http.Response, error)) (string, string, error) {
	verifier := randomString()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {p.clients[alg][0]}, "redirect_uri": {p.redirect},
		"scope": {"openid email profile"}, "state": {randomString()}, "nonce": {randomString()},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	resp, err := c.Get(p.authURL + "?" + q.Encode())
	if err != nil {
		return "", "", err
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK && login != nil {
		if resp, err = login(resp); err != nil {
			return "", "", err
		}
		resp.Body.Close()
	}
	loc, err := resp.Location()
	if err != nil || !strings.HasPrefix(loc.String(), p.redirect) {
		return "", "", fmt.Errorf("%s: authorize: %d at %s, not sent to the app", p.name, resp.StatusCode, resp.Request.URL)
	}
	code := loc.Query().Get("code")
	if code == "" {
		return "", "", fmt.Errorf("%s: authorize: no code: %s", p.name, loc.RawQuery)
	}
	return code, verifier, nil
}

// exchange trades a code for tokens, as a web app does (client_secret_basic).
func (p *provider) exchange(hc *http.Client, alg, code, verifier string) error {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {p.redirect}, "code_verifier": {verifier}}
	req, _ := http.NewRequest(http.MethodPost, p.tokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(p.clients[alg][0]), url.QueryEscape(p.clients[alg][1]))
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var tok struct {
		IDToken string `json:"id_token"`
		Error   string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		return fmt.Errorf("%s: token: %d: %w", p.name, resp.StatusCode, err)
	}
	if resp.StatusCode != 200 || tok.IDToken == "" {
		return fmt.Errorf("%s: token: %d %s", p.name, resp.StatusCode, tok.Error)
	}
	return nil
}

// measureOIDC runs, for each provider and algorithm, full sign-ins (the
// authorization request with a live session → the code → the token) and
// then code → token exchanges alone, and prints each.
func measureOIDC(providers []*provider, workers int, d time.Duration) error {
	fmt.Printf("\n%-30s %8s %11s  %13s  %13s  %12s  %s\n", "sign-ins to an app", "requests", "rate", "", "", "", "")
	for _, alg := range []string{"RS256", "ES256"} {
		for _, p := range providers {
			browsers := make([]*http.Client, workers)
			for w := range browsers {
				c, err := p.browser()
				if err != nil {
					return err
				}
				browsers[w] = c
			}
			tokens := &http.Client{Timeout: 30 * time.Second}
			var once sync.Once
			failed := func(err error) bool {
				if err != nil {
					once.Do(func() { fmt.Fprintf(os.Stderr, "gardien-load: %s %s: %v\n", p.name, alg, err) })
				}
				return err != nil
			}
			drive(p.s, fmt.Sprintf("%s %s round trip", p.name, alg), workers, d, func(w int) (bool, bool) {
				code, v, err := p.authorize(browsers[w], alg, nil)
				if failed(err) {
					return false, true
				}
				return !failed(p.exchange(tokens, alg, code, v)), true
			}).print(p.s)
			// Codes made first (not counted), then only their exchange, in
			// batches (oidc-provider's memory adapter keeps its last 1000
			// objects: a code waits among them).
			exchanges := result{name: fmt.Sprintf("%s %s code→token", p.name, alg)}
			for exchanges.elapsed < d {
				type pending struct{ code, verifier string }
				codes := make(chan pending, codeBatch)
				var made sync.WaitGroup
				for w := range workers {
					made.Add(1)
					go func() {
						defer made.Done()
						for range codeBatch / workers {
							code, v, err := p.authorize(browsers[w], alg, nil)
							if !failed(err) {
								codes <- pending{code, v}
							}
						}
					}()
				}
				made.Wait()
				close(codes)
				r := drive(p.s, "", workers, time.Minute, func(int) (bool, bool) {
					c, ok := <-codes
					if !ok {
						return false, false
					}
					return !failed(p.exchange(tokens, alg, c.code, c.verifier)), true
				})
				exchanges.n, exchanges.errors, exchanges.lat = exchanges.n+r.n, exchanges.errors+r.errors, append(exchanges.lat, r.lat...)
				exchanges.elapsed, exchanges.cpu = exchanges.elapsed+r.elapsed, exchanges.cpu+r.cpu
			}
			exchanges.print(p.s)
		}
	}
	return nil
}

// gardienProvider sets Gardien up as the provider: a person (no 2FA, as
// oidc-provider's have none) with an organization and two web apps.
func gardienProvider(s *server) (*provider, error) {
	email := fmt.Sprintf("oidc-%d@example.com", time.Now().UnixNano())
	c, err := signedUp(s, email)
	if err != nil {
		return nil, err
	}
	st, m, err := call(c, s.url, "POST", "/organizations", map[string]any{"name": "Load"})
	if err != nil || st != 201 {
		return nil, callFailed("organization", st, m, err)
	}
	org := fmt.Sprint(m["organization"].(map[string]any)["id"])
	p := &provider{name: "gardien", s: s, authURL: s.url + "/oauth/authorize", tokenURL: s.url + "/oauth/token", redirect: redirectURI,
		clients: map[string][2]string{}}
	for _, alg := range []string{"RS256", "ES256"} {
		st, m, err := call(c, s.url, "POST", "/organizations/"+org+"/apps", map[string]any{"name": "Load " + alg, "type": "web",
			"redirect_uris": []string{redirectURI}, "signing_alg": alg})
		if err != nil || st != 201 {
			return nil, callFailed("app", st, m, err)
		}
		app := m["app"].(map[string]any)
		p.clients[alg] = [2]string{app["client_id"].(string), app["client_secret"].(string)}
	}
	p.browser = func() (*http.Client, error) {
		b := noFollow()
		if st, m, err := call(b, s.url, "POST", "/login", map[string]any{"email": email, "password": pw}); err != nil || st != 200 {
			return nil, callFailed("login", st, m, err)
		}
		return b, nil
	}
	return p, nil
}

var formAction = regexp.MustCompile(`<form[^>]*action="([^"]+)"`)

// startOIDCProvider runs oidc-provider (dir: cmd/gardien-load/oidcprovider,
// npm ci done) on a free port.
func startOIDCProvider(dir string) (*provider, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, errors.New("oidc-provider needs node (Debian package nodejs)")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider")); err != nil {
		return nil, fmt.Errorf("oidc-provider is not installed in %s: npm ci --prefix %s", dir, dir)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	cmd := exec.Command(node, filepath.Join(dir, "server.mjs"))
	cmd.Env = append(os.Environ(), "PORT="+port, "REDIRECT_URI="+redirectURI, "NODE_ENV=production")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := servingOn.FindStringSubmatch(sc.Text()); m != nil {
				ready <- m[1]
			}
		}
	}()
	select {
	case s.url = <-ready:
	case <-time.After(30 * time.Second):
		s.stop()
		return nil, errors.New("oidc-provider did not start within 30 s")
	}
	p := &provider{name: "oidc-provider", s: s, authURL: s.url + "/auth", tokenURL: s.url + "/token", redirect: redirectURI,
		clients: map[string][2]string{"RS256": {"rs256", "load-test-secret-rs256"}, "ES256": {"es256", "load-test-secret-es256"}}}
	// A browser logs in once at the development login page (and consents);
	// later sign-ins need no page.
	var n int
	var mu sync.Mutex
	p.browser = func() (*http.Client, error) {
		mu.Lock()
		n++
		who := fmt.Sprintf("person%d", n)
		mu.Unlock()
		b := noFollow()
		// The login page's form, posted: then on to the app.
		login := func(page *http.Response) (*http.Response, error) {
			page, err := b.Get(page.Request.URL.String())
			if err != nil {
				return nil, err
			}
			body, _ := io.ReadAll(io.LimitReader(page.Body, 64<<10))
			page.Body.Close()
			m := formAction.FindSubmatch(body)
			if m == nil {
				return nil, fmt.Errorf("oidc-provider: no login form at %s", page.Request.URL)
			}
			return b.PostForm(string(m[1]), url.Values{"prompt": {"login"}, "login": {who}, "password": {"x"}})
		}
		for _, alg := range []string{"RS256", "ES256"} {
			if _, _, err := p.authorize(b, alg, login); err != nil {
				return nil, fmt.Errorf("oidc-provider's first sign-in: %w", err)
			}
		}
		return b, nil
	}
	return p, nil
}

// runOIDC measures Gardien as an OpenID Provider, and oidc-provider beside
// it when its directory is given.
func runOIDC(bin, dbURL, profiles, opDir string, workers int, d time.Duration) error {
	s, err := start(bin, dbURL, profiles, false)
	if err != nil {
		return err
	}
	defer s.stop()
	g, err := gardienProvider(s)
	if err != nil {
		return err
	}
	providers := []*provider{g}
	if opDir != "" {
		o, err := startOIDCProvider(opDir)
		if err != nil {
			return err
		}
		defer o.s.stop()
		providers = append(providers, o)
	}
	fmt.Printf("gardien-load: OpenID Providers on %d cores, %d workers, %s per operation; Gardien at %s\n", runtime.NumCPU(), workers, d, s.url)
	return measureOIDC(providers, workers, d)
}
