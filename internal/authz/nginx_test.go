package authz_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gardien/gardien/internal/apptest"
)

// acmeBrowser is a browser for the hosts of acme.test, all on this
// machine: each name is dialed at 127.0.0.1, on the URL's port.
func acmeBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Jar: jar, Timeout: 20 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, _ := net.SplitHostPort(addr)
			return dialer.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
		}}}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// get fetches u with b, following redirects and the pages that move on by
// themselves (Refresh), and returns the last answer's body and URL.
func get(t testing.TB, b *http.Client, u string) (string, *url.URL, int) {
	t.Helper()
	for range 5 {
		resp, err := b.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		next, ok := strings.CutPrefix(resp.Header.Get("Refresh"), "0; url=")
		if !ok {
			return string(body), resp.Request.URL, resp.StatusCode
		}
		ref, _ := resp.Request.URL.Parse(next)
		u = ref.String()
	}
	t.Fatal("too many pages that move on")
	return "", nil, 0
}

// TestNginxAsksGardien: deploy/nginx/forward-auth.conf, as shipped, in
// front of an app that says who it sees (throughProxy).
func TestNginxAsksGardien(t *testing.T) {
	t.Parallel()
	env, clock, owner, _ := acme(t, apptest.BaseHost("gardien.acme.test"), apptest.Setting("GARDIEN_COOKIE_DOMAIN", "acme.test"))
	port := nginxSite(t, env)
	throughProxy(t, env, clock, owner, "http://wiki.acme.test:"+port+"/page?x=1&y=2")
}

// throughProxy walks a browser to wiki (behind a proxy that asks Gardien)
// while logged out: Gardien's login and code page as the owner, then back
// on the app, which sees the owner; after logout at Gardien the next
// request goes to the login again.
func throughProxy(t *testing.T, env *apptest.Env, clock *apptest.Clock, owner *apptest.Person, wiki string) {
	t.Helper()
	b := acmeBrowser()
	body, at, _ := get(t, b, wiki)
	if at.Hostname() != "gardien.acme.test" || at.Path != "/login" {
		t.Fatalf("logged out: at %s: %.200s", at, body)
	}
	next := at.Query().Get("next")
	resp, err := b.PostForm(strings.Replace(env.URL, "127.0.0.1", "gardien.acme.test", 1)+"/login",
		url.Values{"email": {owner.Email}, "password": {apptest.Password}, "next": {next}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// The owner has 2FA: the code page, then on.
	if resp.Request.URL.Path != "/login/two-factor" {
		t.Fatalf("after the password: at %s", resp.Request.URL)
	}
	resp, err = b.PostForm(resp.Request.URL.Scheme+"://"+resp.Request.URL.Host+"/login/two-factor",
		url.Values{"code": {owner.Code(clock)}, "next": {resp.Request.URL.Query().Get("next")}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	next, _ = strings.CutPrefix(resp.Header.Get("Refresh"), "0; url=")
	ref, _ := resp.Request.URL.Parse(next)
	body, at, _ = get(t, b, ref.String())
	if want := "hello owner@example.com (owner) at /page?x=1&y=2"; body != want || at.Hostname() != "wiki.acme.test" {
		t.Fatalf("back on the app: at %s: %q, want %q", at, body, want)
	}
	// Logged out at Gardien: the pass ends with the session, at once.
	c := env.Client(t)
	c.Client = b
	c.Base = strings.Replace(env.URL, "127.0.0.1", "gardien.acme.test", 1)
	if r := c.Form("/logout", nil); r.StatusCode >= 400 {
		t.Fatalf("logout: %d", r.StatusCode)
	}
	if _, at, _ = get(t, b, wiki); at.Path != "/login" {
		t.Fatalf("after logout: at %s", at)
	}
	// Someone outside the organization logs in, and is told they may not enter.
	outsider := env.NewPerson(t, fmt.Sprintf("outsider-%d@example.com", time.Now().UnixNano()))
	b2 := acmeBrowser()
	_, at, _ = get(t, b2, wiki)
	resp, err = b2.PostForm(strings.Replace(env.URL, "127.0.0.1", "gardien.acme.test", 1)+"/login",
		url.Values{"email": {outsider.Email}, "password": {apptest.Password}, "next": {at.Query().Get("next")}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	next, _ = strings.CutPrefix(resp.Header.Get("Refresh"), "0; url=")
	ref, _ = resp.Request.URL.Parse(next)
	if body, at, status := get(t, b2, ref.String()); status != http.StatusForbidden || !strings.Contains(body, "not a member") {
		t.Fatalf("an outsider: %d at %s", status, at)
	}
}

// whoApp is a protected site's app: it says whom the proxy says it sees
// (Gardien's forward-auth: Remote-*; oauth2-proxy: X-Forwarded-Email).
func whoApp(t *testing.T) string {
	t.Helper()
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		email := r.Header.Get("Remote-Email")
		if email == "" {
			email = r.Header.Get("X-Forwarded-Email")
		}
		fmt.Fprintf(w, "hello %s (%s) at %s", email, r.Header.Get("Remote-Groups"), r.URL.RequestURI())
	}))
	t.Cleanup(app.Close)
	return strings.TrimPrefix(app.URL, "http://")
}
