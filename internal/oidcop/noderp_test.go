package oidcop_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/testenv"
)

// nodeRP is an app written with openid-client (npm), run by node: the
// tests drive it a command at a time (noderp/rp.mjs).
type nodeRP struct {
	t        testing.TB
	in       io.WriteCloser
	out      *bufio.Scanner
	callback string
	bye      string
}

func newNodeRP(t testing.TB, env *apptest.Env, owner *apptest.Person, org string, settings map[string]any) *nodeRP {
	t.Helper()
	node, dir := testenv.NodeModule(t, "internal/oidcop/noderp")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("app")) }))
	t.Cleanup(srv.Close)
	body := map[string]any{"name": "Node app", "type": "web", "redirect_uris": []string{srv.URL + "/cb"},
		"post_logout_redirect_uris": []string{srv.URL + "/bye"}}
	for k, v := range settings {
		body[k] = v
	}
	app := apptest.MustAPI(t, owner.C, "POST", org+"/apps", body)["app"].(map[string]any)
	secret, _ := app["client_secret"].(string)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "rp.mjs"))
	cmd.Env = append(os.Environ(), "ISSUER="+env.URL, "CLIENT_ID="+app["client_id"].(string), "CLIENT_SECRET="+secret, "REDIRECT_URI="+srv.URL+"/cb")
	cmd.Stderr = testWriter{t}
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); cancel(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	return &nodeRP{t: t, in: in, out: sc, callback: srv.URL + "/cb", bye: srv.URL + "/bye"}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) { w.t.Logf("node: %s", b); return len(b), nil }

// do sends a command and returns its answer; an error answer fails the test
// unless refused is set.
func (n *nodeRP) do(cmd string, refused bool) map[string]any {
	n.t.Helper()
	fmt.Fprintln(n.in, cmd)
	done := make(chan bool, 1)
	go func() { done <- n.out.Scan() }()
	select {
	case ok := <-done:
		if !ok {
			n.t.Fatalf("openid-client stopped: %v", n.out.Err())
		}
	case <-time.After(20 * time.Second):
		n.t.Fatalf("openid-client did not answer %q", cmd)
	}
	var m map[string]any
	if err := json.Unmarshal(n.out.Bytes(), &m); err != nil {
		n.t.Fatalf("openid-client said %q", n.out.Text())
	}
	if _, isErr := m["error"]; isErr != refused {
		n.t.Fatalf("%s: %v", strings.Fields(cmd)[0], m)
	}
	return m
}

// login walks a browser through Gardien's pages from the app's
// authorization URL to its redirect URI (password, then the code when asked).
func login(t testing.TB, c *apptest.Client, start, email string, code func() string) *url.URL {
	t.Helper()
	u, _ := url.Parse(start)
	r, to := follow(t, c, u.RequestURI())
	for i := 0; to == nil && i < 4; i++ {
		next := r.Request.URL.Query().Get("next")
		switch r.Request.URL.Path {
		case "/login":
			r = c.Form("/login", map[string]string{"email": email, "password": apptest.Password, "next": next})
		case "/login/two-factor":
			r = c.Form("/login/two-factor", map[string]string{"code": code(), "next": next})
		default:
			t.Fatalf("stuck at %s: %d %.300s", r.Request.URL, r.StatusCode, r.Body)
		}
		r, to = follow(t, c, onward(t, r).RequestURI())
	}
	return to
}

func TestOpenIDClientSignsInRefreshesAndLogsOut(t *testing.T) {
	t.Parallel()
	env, clock, owner, org := setup(t)
	rp := newNodeRP(t, env, owner, org, map[string]any{"require_two_factor": true})
	browser := env.Client(t)
	start := rp.do("start", false)["url"].(string)
	to := login(t, browser, start, owner.Email, func() string { return owner.Code(clock) })
	if to == nil || !strings.HasPrefix(to.String(), rp.callback) {
		t.Fatalf("the browser did not come back to the app: %v", to)
	}
	got := rp.do("callback "+to.String(), false)
	claims := got["claims"].(map[string]any)
	if got["sub"] != owner.ID || claims["email"] != owner.Email || claims["acr"] != "mfa" || got["refresh"] != true {
		t.Fatalf("openid-client's sign-in: %v", got)
	}
	if info := rp.do("userinfo", false); info["sub"] != owner.ID || info["email"] != owner.Email {
		t.Fatalf("userinfo: %v", info)
	}
	if again := rp.do("refresh", false); again["sub"] != owner.ID || again["refresh"] != true {
		t.Fatalf("refresh: %v", again)
	}
	// The code again: openid-client is refused.
	rp.do("callback "+to.String(), true)
	// RP-initiated logout: the browser's Gardien session ends, it goes back to the app.
	logout := rp.do("logout "+rp.bye, false)["url"].(string)
	lu, _ := url.Parse(logout)
	r := browser.Get(lu.RequestURI())
	if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, rp.bye) || !strings.Contains(loc, "state=bye") {
		t.Fatalf("after logout: %d %q", r.StatusCode, loc)
	}
	if r := browser.API("GET", "/me", nil); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the session lives on: %d", r.StatusCode)
	}
}

func TestOpenIDClientSignsInAnSSOPerson(t *testing.T) {
	t.Parallel()
	env, _, owner, org, _ := ssoSetup(t)
	rp := newNodeRP(t, env, owner, org, nil)
	b := ssoBrowser()
	to := ssoSignIn(t, env, b, rp.do("start", false)["url"].(string))
	got := rp.do("callback "+to.String(), false)
	claims := got["claims"].(map[string]any)
	if claims["email"] != "ada@acme.test" || claims["acr"] != "sso" || got["refresh"] != true {
		t.Fatalf("openid-client's SSO sign-in: %v", got)
	}
	if again := rp.do("refresh", false); again["sub"] != got["sub"] {
		t.Fatalf("refresh: %v", again)
	}
	logout := rp.do("logout "+rp.bye, false)["url"].(string)
	resp, err := b.Get(logout)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc, _ := resp.Location(); loc == nil || !strings.HasPrefix(loc.String(), rp.bye) {
		t.Fatalf("after logout: %d %v", resp.StatusCode, loc)
	}
}
