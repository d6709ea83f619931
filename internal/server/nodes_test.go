package server_test

import (
	"encoding/base32"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
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
	bin := testenv.Nginx(t)
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	site, err := os.ReadFile(filepath.Join(root, "deploy", "nginx", "gardien.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.NewReplacer("127.0.0.1:8081", nodes[0], "127.0.0.1:8082", nodes[1], "listen 127.0.0.1:8080", "listen "+listen).Replace(string(site))
	dir := t.TempDir()
	main := fmt.Sprintf(`daemon off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 512; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
%[2]s
}
`, dir, conf)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", path, "-e", filepath.Join(dir, "error.log"))
	// Its own process group, so that its workers end with it; its output
	// to a file, which no worker can hold open past the end.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := os.Create(filepath.Join(dir, "out.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("nginx: %v", err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		out.Close()
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", listen); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			said, _ := os.ReadFile(out.Name())
			t.Fatalf("nginx did not listen on %s:\n%s\n%s", listen, said, log)
		}
	}
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
