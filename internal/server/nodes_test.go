package server_test

import (
	"encoding/base32"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"

	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/testenv"
	"github.com/gardien/gardien/internal/totp"
)

// node marks the answers of one node, for the test to see which answered.
func node(name string) apptest.Option {
	return apptest.Around(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Test-Node", name)
			h.ServeHTTP(w, r)
		})
	})
}

// startNginx runs nginx with deploy/nginx/gardien.conf in front of the
// nodes, listening on listen, until the test ends.
func startNginx(t *testing.T, listen string, nodes ...string) {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	site, err := os.ReadFile(filepath.Join(root, "deploy", "nginx", "gardien.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.NewReplacer("127.0.0.1:8081", nodes[0], "127.0.0.1:8082", nodes[1], "listen 127.0.0.1:8080", "listen "+listen).Replace(string(site))
	testenv.StartNginx(t, conf, listen)
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestTwoNodesBehindNginx: two nodes on one PostgreSQL behind nginx (round
// robin, deploy/nginx/gardien.conf) act as one: a login's password step on
// one node finishes on the other; 2FA enrolled through one logs in through
// the other; one valid code sent 50 times at once across both is taken
// once; a lockout holds whichever node answers; a mail leaves once.
func TestTwoNodesBehindNginx(t *testing.T) {
	listen := freeAddr(t)
	base := "http://" + listen
	clock := apptest.NewClock() // both nodes read it: codes of new steps without waiting
	a := apptest.Start(t, apptest.Postgres(t), apptest.Setting("GARDIEN_BASE_URL", base), apptest.WithClock(clock), node("a"))
	b := apptest.Start(t, apptest.NodeOf(a), apptest.WithClock(clock), node("b"))
	startNginx(t, listen, strings.TrimPrefix(a.URL, "http://"), strings.TrimPrefix(b.URL, "http://"))
	client := func() *apptest.Client {
		c := a.Client(t)
		c.Base = base
		return c
	}
	call := func(c *apptest.Client, method, path string, body any) (*apptest.Response, string) {
		t.Helper()
		r := c.API(method, path, body)
		return r, r.Header.Get("X-Test-Node")
	}

	c := client()
	call(c, "POST", "/signup", map[string]any{"email": "ada@example.com", "password": pw, "name": "Ada"})
	call(c, "POST", "/email/verify", map[string]any{"token": a.Mail.Wait(t, "ada@example.com").Token()})
	setup, n1 := call(c, "POST", "/me/two-factor/setup", nil)
	secret, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(setup.JSON()["secret"].(string))
	code := func() string {
		clock.Advance(30 * time.Second) // a new step: each code works once
		return totp.Code(secret, totp.Step(clock.Now()), otp.DigitsSix)
	}
	act, n2 := call(c, "POST", "/me/two-factor/activate", map[string]any{"code": code()})
	if act.StatusCode != 200 || n1 == n2 {
		t.Fatalf("2FA set up on node %s, activated on node %s: %d %s", n1, n2, act.StatusCode, act.Body)
	}

	// A login: the password on one node, the code on the other.
	c = client()
	r, n1 := call(c, "POST", "/login", map[string]any{"email": "ada@example.com", "password": pw})
	r2, n2 := call(c, "POST", "/login/two-factor", map[string]any{"code": code()})
	if r.JSON()["status"] != "two_factor_required" || r2.StatusCode != 200 || n1 == n2 {
		t.Fatalf("password on %s (%s), code on %s (%d %s)", n1, r.Body, n2, r2.StatusCode, r2.Body)
	}

	// One valid code, 50 times at once, across both nodes: taken once.
	c = client()
	call(c, "POST", "/login", map[string]any{"email": "ada@example.com", "password": pw})
	same := code()
	var mu sync.Mutex
	statuses, nodes := map[int]int{}, map[string]bool{}
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, n := call(c, "POST", "/login/two-factor", map[string]any{"code": same})
			mu.Lock()
			statuses[r.StatusCode]++
			nodes[n] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	if statuses[200] != 1 || !nodes["a"] || !nodes["b"] {
		t.Fatalf("one code 50 times at once: %v, nodes %v", statuses, nodes)
	}

	// Wrong codes until the lock; then every node refuses, even the right code.
	c = client()
	call(c, "POST", "/login", map[string]any{"email": "ada@example.com", "password": pw})
	right := code() // the clock stays on its step from here: the lock does not run out
	locked := false
	for i := 0; i < 30 && !locked; i++ {
		r, _ := call(c, "POST", "/login/two-factor", map[string]any{"code": "000000"})
		locked = r.StatusCode == http.StatusTooManyRequests
	}
	if !locked {
		t.Fatal("no lock after 30 wrong codes")
	}
	refusedBy := map[string]bool{}
	for range 4 {
		r, n := call(c, "POST", "/login/two-factor", map[string]any{"code": right})
		if r.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("node %s after the lock: %d %s", n, r.StatusCode, r.Body)
		}
		refusedBy[n] = true
	}
	if !refusedBy["a"] || !refusedBy["b"] {
		t.Fatalf("the lock was tried on %v only", refusedBy)
	}

	// A mail queued through one node leaves once, though both send mails.
	call(client(), "POST", "/password/forgot", map[string]any{"email": "ada@example.com"})
	a.Mail.WaitSubject(t, "ada@example.com", "Reset your password")
	time.Sleep(2 * time.Second) // both outboxes had time to send it again, if they could
	if n := a.Mail.Count("ada@example.com", "Reset your password"); n != 0 {
		t.Fatalf("the reset mail left %d more times", n)
	}
}
