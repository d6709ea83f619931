package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pquerna/otp"

	"github.com/gardien/gardien/internal/mail/mailtest"
	"github.com/gardien/gardien/internal/testenv"
	"github.com/gardien/gardien/internal/totp"
)

// syncBuffer is an io.Writer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls out until re matches, and returns the first group.
func waitFor(t *testing.T, out interface{ String() string }, re string) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := rx.FindStringSubmatch(out.String()); m != nil {
			if len(m) > 1 {
				return m[1]
			}
			return m[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("output never matched %q:\n%s", re, out.String())
	return ""
}

// outputs reads as several outputs one after the other.
type outputs []interface{ String() string }

func (o outputs) String() string {
	var b strings.Builder
	for _, out := range o {
		b.WriteString(out.String())
	}
	return b.String()
}

func post(t *testing.T, url string, body any) (int, map[string]any) {
	t.Helper()
	return postWith(t, http.DefaultClient, url, body)
}

// postWith posts JSON with a client of the test's (its cookies).
func postWith(t *testing.T, c *http.Client, url string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := c.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

type running struct {
	url    string
	stdout *syncBuffer
	stderr *syncBuffer
	stop   func() error
}

func start(t *testing.T, env map[string]string, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, func(k string) string { return env[k] }, r.stdout, r.stderr) }()
	r.stop = func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(40 * time.Second):
			t.Fatal("run did not return after its context ended")
			return nil
		}
	}
	t.Cleanup(func() { cancel() })
	r.url = waitFor(t, r.stdout, `serving on (http://\S+)`)
	return r
}

func TestServeWithDefaultsPrintsMails(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not", "yet", "there")
	r := start(t, map[string]string{"GARDIEN_DATA_DIR": dir, "GARDIEN_ADDR": "127.0.0.1:0"})
	out := r.stdout.String()
	if !strings.Contains(out, "mails:    printed here") || !strings.Contains(out, "database: SQLite at "+filepath.Join(dir, "gardien.db")) {
		t.Fatalf("start-up lines:\n%s", out)
	}
	if e := r.stderr.String(); !strings.Contains(e, "level=INFO msg=\"first start: generated the secret key") ||
		!strings.Contains(e, "path="+filepath.Join(dir, "secret.key")) || strings.Contains(e, "level=WARN") {
		t.Fatalf("the first start does not say, as information, where the key is:\n%s", e)
	}
	st, err := os.Stat(filepath.Join(dir, "secret.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secret key file: %v %v", st, err)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(r.url + p)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", p, resp, err)
		}
		resp.Body.Close()
	}
	code, _ := post(t, r.url+"/api/v1/signup", map[string]string{"email": "ada@example.com", "password": "correct horse battery staple", "name": "Ada"})
	if code != 201 {
		t.Fatalf("signup: %d", code)
	}
	tok := waitFor(t, r.stdout, regexp.QuoteMeta(r.url)+`/verify-email\?token=([A-Za-z0-9_-]+)`)
	if !strings.Contains(r.stdout.String(), "Mail to: ada@example.com") {
		t.Fatalf("mail not printed whole:\n%s", r.stdout.String())
	}
	if code, m := post(t, r.url+"/api/v1/email/verify", map[string]string{"token": tok}); code != 200 || m["user"].(map[string]any)["email_verified"] != true {
		t.Fatalf("verify with the printed link: %d %v", code, m)
	}
	if err := r.stop(); err != nil {
		t.Fatalf("run after shutdown: %v", err)
	}

	// The same data directory again: nothing to migrate, the key is kept.
	var out2 bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "-data-dir", dir}, func(string) string { return "" }, &out2, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out2.String(), "0001_accounts.sql") || !strings.Contains(out2.String(), "already applied") {
		t.Fatalf("migrate:\n%s", out2.String())
	}
	var errOut bytes.Buffer
	out2.Reset()
	if err := run(context.Background(), []string{"user", "verify-email", "ADA@example.com", "-data-dir", dir}, func(string) string { return "" }, &out2, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out2.String(), "email ada@example.com") || strings.Contains(errOut.String(), "generated the secret key") {
		t.Fatalf("verify-email: %s / %s", out2.String(), errOut.String())
	}
	if err := run(context.Background(), []string{"user", "verify-email", "nobody@example.com", "-data-dir", dir}, func(string) string { return "" }, io.Discard, io.Discard); err == nil {
		t.Fatal("verify-email of an unknown person succeeded")
	}
}

func TestServeOnPostgres(t *testing.T) {
	url := testenv.PostgresURL(t)
	// Without a shared key, nodes would each make their own: refused, saying how to make one.
	err := run(context.Background(), nil, func(k string) string {
		return map[string]string{"GARDIEN_DATA_DIR": t.TempDir(), "GARDIEN_ADDR": "127.0.0.1:0", "GARDIEN_DATABASE_URL": url}[k]
	}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "GARDIEN_SECRET_KEY") || !strings.Contains(err.Error(), "openssl rand -base64 32") {
		t.Fatalf("PostgreSQL without GARDIEN_SECRET_KEY: %v", err)
	}
	r := start(t, map[string]string{"GARDIEN_DATA_DIR": t.TempDir(), "GARDIEN_ADDR": "127.0.0.1:0", "GARDIEN_DATABASE_URL": url,
		"GARDIEN_SECRET_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="})
	if !strings.Contains(r.stdout.String(), "database: PostgreSQL") {
		t.Fatalf("start-up lines:\n%s", r.stdout.String())
	}
	if code, _ := post(t, r.url+"/api/v1/signup", map[string]string{"email": "ada@example.com", "password": "correct horse battery staple", "name": "Ada"}); code != 201 {
		t.Fatalf("signup on PostgreSQL: %d", code)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
}

func TestCommandLine(t *testing.T) {
	env := func(string) string { return "" }
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, env, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "gardien ") {
		t.Fatalf("version: %q %v", out.String(), err)
	}
	for args, want := range map[string]string{
		"-addr nope":            "-addr: want host:port",
		"frobnicate":            `unknown command "frobnicate"`,
		"user":                  "usage: gardien user list [MATCH] | verify-email|reset-2fa|disable|enable|end-sessions|delete EMAIL",
		"serve -no-such-flag x": "flag provided but not defined",
	} {
		err := run(context.Background(), strings.Fields(args), env, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", args, err, want)
		}
	}
	err := run(context.Background(), nil, func(k string) string {
		return map[string]string{"GARDIEN_SESSION_MAX": "soon"}[k]
	}, io.Discard, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "GARDIEN_SESSION_MAX: ") {
		t.Fatalf("bad variable: %v", err)
	}
}

// TestSIGTERMFinishesRequestsInFlight runs the real binary, starts a request,
// sends SIGTERM while it is half sent, and checks that it is answered and
// kept, and that the process exits cleanly.
func TestSIGTERMFinishesRequestsInFlight(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "gardien")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-data-dir", dir)
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	base := waitFor(t, stdout, `serving on (http://\S+)`)

	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"email":"late@example.com","password":"correct horse battery staple","name":"Late"}`
	fmt.Fprintf(conn, "POST /api/v1/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:10])
	time.Sleep(200 * time.Millisecond) // the server has read the headers
	cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	io.WriteString(conn, body[10:])
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("request in flight at SIGTERM got no answer: %v\n%s", err, stderr.String())
	}
	if resp.StatusCode != 201 {
		t.Fatalf("request in flight at SIGTERM: %d", resp.StatusCode)
	}
	conn.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "stopped") {
		t.Fatalf("log lacks the shutdown:\n%s", stderr.String())
	}
	// The account made during shutdown is there.
	var out bytes.Buffer
	if err := run(context.Background(), []string{"user", "verify-email", "late@example.com", "-data-dir", dir}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatalf("account written during shutdown: %v", err)
	}
}

func TestOperatorResetsTwoFactor(t *testing.T) {
	dir := t.TempDir()
	r := start(t, map[string]string{"GARDIEN_DATA_DIR": dir, "GARDIEN_ADDR": "127.0.0.1:0"})
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	call := func(method, path string, body any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, r.url+"/api/v1"+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, m)
		}
		return m
	}
	call("POST", "/signup", map[string]string{"email": "ada@example.com", "password": "correct horse battery staple", "name": "Ada"})
	tok := waitFor(t, r.stdout, `token=([A-Za-z0-9_-]+)`)
	call("POST", "/email/verify", map[string]string{"token": tok})
	call("POST", "/login", map[string]string{"email": "ada@example.com", "password": "correct horse battery staple"})
	secret, _ := totp.DecodeSecret(call("POST", "/me/two-factor/setup", nil)["secret"].(string))
	call("POST", "/me/two-factor/activate", map[string]string{"code": totp.Code(secret, totp.Step(time.Now()), otp.DigitsSix)})

	var out bytes.Buffer
	env := func(k string) string { return map[string]string{"USER": "alice"}[k] }
	if err := run(context.Background(), []string{"user", "reset-2fa", "ada@example.com", "-data-dir", dir}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "two-factor authentication of ada@example.com removed") {
		t.Fatalf("reset-2fa output:\n%s", out.String())
	}
	// The mail goes out from whichever claims it first from the outbox: the
	// command as it ends, or the server beside it.
	waitFor(t, outputs{&out, r.stdout}, "Your two-factor authentication was reset")
	// A second one is refused in words, not a catalog key.
	if err := run(context.Background(), []string{"user", "reset-2fa", "ada@example.com", "-data-dir", dir}, env, io.Discard, io.Discard); err == nil ||
		strings.Contains(err.Error(), "err.") || !strings.Contains(strings.ToLower(err.Error()), "two-factor") {
		t.Fatalf("second reset-2fa: %v", err)
	}
	// The session ended; a password alone logs in now.
	req, _ := http.NewRequest("GET", r.url+"/api/v1/me", nil)
	if resp, _ := c.Do(req); resp.StatusCode != 401 {
		t.Fatalf("session after reset: %d", resp.StatusCode)
	}
	if m := call("POST", "/login", map[string]string{"email": "ada@example.com", "password": "correct horse battery staple"}); m["status"] != "ok" {
		t.Fatalf("login after reset: %v", m)
	}
	found := false
	for _, e := range call("GET", "/me/events", nil)["events"].([]any) {
		ev := e.(map[string]any)
		if ev["type"] == "two_factor.reset" {
			found = true
		}
	}
	if !found {
		t.Fatal("no two_factor.reset event")
	}
	r.stop()
}

// TestHealthcheck: exit 0 while the server of the same settings answers
// ready, an error (exit 1) once it is gone.
func TestHealthcheck(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := map[string]string{"GARDIEN_DATA_DIR": dir, "GARDIEN_ADDR": addr}
	r := start(t, env)
	var out bytes.Buffer
	getenv := func(k string) string { return env[k] }
	if err := run(context.Background(), []string{"healthcheck"}, getenv, &out, io.Discard); err != nil || !strings.Contains(out.String(), "ready: http://"+addr+"/readyz") {
		t.Fatalf("healthcheck of a running server: %v %q", err, out.String())
	}
	if err := run(context.Background(), []string{"healthcheck", "-url", r.url}, getenv, io.Discard, io.Discard); err != nil {
		t.Fatalf("healthcheck -url: %v", err)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"healthcheck"}, getenv, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "/readyz") {
		t.Fatalf("healthcheck of a stopped server: %v", err)
	}
	if got := localAddr("0.0.0.0:8080"); got != "127.0.0.1:8080" {
		t.Fatalf("local address of 0.0.0.0:8080: %s", got)
	}
}

// TestMetricsOnTheAdminListener: with GARDIEN_ADMIN_ADDR, /metrics counts
// a login by its outcome and times the request under its route pattern;
// pprof answers there; the public listener serves neither.
func TestMetricsOnTheAdminListener(t *testing.T) {
	r := start(t, map[string]string{"GARDIEN_DATA_DIR": t.TempDir(), "GARDIEN_ADDR": "127.0.0.1:0", "GARDIEN_ADMIN_ADDR": "127.0.0.1:0"})
	admin := waitFor(t, r.stdout, `admin:\s+(http://\S+)/metrics`)
	if code, _ := post(t, r.url+"/api/v1/login", map[string]string{"email": "nobody@example.com", "password": "wrong password!"}); code != 401 {
		t.Fatalf("login: %d", code)
	}
	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get(admin + "/metrics")
	for _, want := range []string{
		`gardien_logins_total{outcome="wrong_password"} 1`,
		`gardien_http_request_duration_seconds_count{method="POST",route="POST /api/v1/login",status="4xx"} 1`,
		`gardien_password_hash_wait_seconds_count 1`,
		`gardien_outbox_pending 0`,
		`gardien_db_connections_open{pool="writer"}`,
		`go_goroutines`,
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", body)
	}
	if code, _ := get(admin + "/debug/pprof/"); code != 200 {
		t.Fatalf("pprof: %d", code)
	}
	if code, body := get(admin + "/debug/pprof/mutex?debug=1"); code != 200 || !strings.Contains(body, "sampling period=100") {
		t.Fatalf("the mutex profile is not recorded: %d\n%.200s", code, body)
	}
	for _, p := range []string{"/metrics", "/debug/pprof/"} {
		if code, _ := get(r.url + p); code != 404 {
			t.Fatalf("public %s: %d", p, code)
		}
	}
}

// TestBackupAndRestoreDrill: a backup taken while the server serves,
// restored with the secret key into a new data directory, serves the same
// logins (2FA included); on PostgreSQL the command says to use pg_dump.
func TestBackupAndRestoreDrill(t *testing.T) {
	dir := t.TempDir()
	r := start(t, map[string]string{"GARDIEN_DATA_DIR": dir, "GARDIEN_ADDR": "127.0.0.1:0"})
	c := &http.Client{}
	jar, _ := cookiejar.New(nil)
	c.Jar = jar
	call := func(base, path string, body any) (int, map[string]any) {
		t.Helper()
		return postWith(t, c, base+path, body)
	}
	const pw = "correct horse battery staple"
	call(r.url, "/api/v1/signup", map[string]string{"email": "ada@example.com", "password": pw, "name": "Ada"})
	tok := waitFor(t, r.stdout, `/verify-email\?token=([A-Za-z0-9_-]+)`)
	call(r.url, "/api/v1/email/verify", map[string]string{"token": tok})
	_, setup := call(r.url, "/api/v1/me/two-factor/setup", map[string]any{})
	secret, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(setup["secret"].(string))
	code := func() string { return totp.Code(secret, totp.Step(time.Now()), otp.DigitsSix) }
	st, act := call(r.url, "/api/v1/me/two-factor/activate", map[string]string{"code": code()})
	if st != 200 {
		t.Fatalf("activate: %d %v", st, act)
	}
	recovery := act["recovery_codes"].([]any)[0].(string)

	copyPath := filepath.Join(t.TempDir(), "gardien.db")
	var out bytes.Buffer
	env := func(k string) string { return map[string]string{"GARDIEN_DATA_DIR": dir}[k] }
	if err := run(context.Background(), []string{"backup", copyPath}, env, &out, io.Discard); err != nil {
		t.Fatalf("backup while serving: %v", err)
	}
	if !strings.Contains(out.String(), filepath.Join(dir, "secret.key")) {
		t.Fatalf("backup does not say to keep the key: %s", out.String())
	}
	if err := run(context.Background(), []string{"backup", copyPath}, env, io.Discard, io.Discard); err == nil {
		t.Fatal("a backup over an existing file succeeded")
	}
	r.stop()

	// The drill: a new machine, the copy and the key.
	restored := t.TempDir()
	data, _ := os.ReadFile(copyPath)
	key, _ := os.ReadFile(filepath.Join(dir, "secret.key"))
	os.WriteFile(filepath.Join(restored, "gardien.db"), data, 0o600)
	os.WriteFile(filepath.Join(restored, "secret.key"), key, 0o600)
	r2 := start(t, map[string]string{"GARDIEN_DATA_DIR": restored, "GARDIEN_ADDR": "127.0.0.1:0"})
	jar2, _ := cookiejar.New(nil)
	c.Jar = jar2
	if st, m := call(r2.url, "/api/v1/login", map[string]string{"email": "ada@example.com", "password": pw}); st != 200 || m["status"] != "two_factor_required" {
		t.Fatalf("login on the restored copy: %d %v", st, m)
	}
	// A recovery code kept in the copy (the app's code of this time step
	// was used at activation: each works once, in the copy too).
	if st, m := call(r2.url, "/api/v1/login/two-factor", map[string]string{"recovery_code": recovery}); st != 200 || m["status"] != "ok" {
		t.Fatalf("second step on the restored copy: %d %v", st, m)
	}

	pg := testenv.PostgresURL(t)
	err := run(context.Background(), []string{"backup", copyPath + ".pg"}, func(k string) string {
		return map[string]string{"GARDIEN_DATABASE_URL": pg, "GARDIEN_SECRET_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}[k]
	}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Fatalf("backup of PostgreSQL: %v", err)
	}
}

// TestOperatorAccountCommands: list, disable/enable, end-sessions and
// throttle clear act on a running server's database.
func TestOperatorAccountCommands(t *testing.T) {
	dir := t.TempDir()
	r := start(t, map[string]string{"GARDIEN_DATA_DIR": dir, "GARDIEN_ADDR": "127.0.0.1:0"})
	env := func(k string) string { return map[string]string{"GARDIEN_DATA_DIR": dir, "USER": "root"}[k] }
	op := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(context.Background(), args, env, &out, io.Discard); err != nil {
			t.Fatalf("gardien %v: %v", args, err)
		}
		return out.String()
	}
	const pw = "correct horse battery staple"
	post(t, r.url+"/api/v1/signup", map[string]string{"email": "ada@example.com", "password": pw, "name": "Ada Lovelace"})
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	login := func() int {
		st, _ := postWith(t, c, r.url+"/api/v1/login", map[string]string{"email": "ada@example.com", "password": pw})
		return st
	}
	me := func() int {
		resp, err := c.Get(r.url + "/api/v1/me")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if out := op("user", "list", "lovelace"); !strings.Contains(out, "ada@example.com") || !strings.Contains(out, "active") {
		t.Fatalf("user list:\n%s", out)
	}
	if login() != 200 {
		t.Fatal("login")
	}
	op("user", "disable", "ada@example.com")
	if me() != 401 || login() != 403 {
		t.Fatal("a disabled account still reaches its session or logs in")
	}
	if out := op("user", "list"); !strings.Contains(out, "disabled") {
		t.Fatalf("user list after disable:\n%s", out)
	}
	op("user", "enable", "ada@example.com")
	if login() != 200 || me() != 200 {
		t.Fatal("enabled again, the login fails")
	}
	if out := op("user", "end-sessions", "ada@example.com"); !strings.Contains(out, "1 session(s)") || me() != 401 {
		t.Fatalf("end-sessions: %s", out)
	}
	bad, _ := json.Marshal(map[string]string{"email": "ada@example.com", "password": "wrong password!!"})
	for i := 0; i < 12; i++ {
		resp, _ := c.Post(r.url+"/api/v1/login", "application/json", bytes.NewReader(bad))
		resp.Body.Close()
	}
	if login() != 429 {
		t.Fatal("no throttle after 12 wrong passwords")
	}
	op("throttle", "clear", "ada@example.com", "127.0.0.1")
	if login() != 200 {
		t.Fatal("the throttle was not cleared")
	}
	if out := op("mail", "given-up"); !strings.HasPrefix(out, "ID") {
		t.Fatalf("mail given-up:\n%s", out)
	}
}

// TestOperatorRetriesGivenUpMails: a mail given up while the mail server
// was down leaves with `gardien mail retry` once the settings are fixed,
// once, and its link works.
func TestOperatorRetriesGivenUpMails(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"GARDIEN_DATA_DIR": dir, "GARDIEN_ADDR": "127.0.0.1:0", "GARDIEN_SMTP_URL": "smtp+insecure://127.0.0.1:1", "USER": "root"}
	op := func(args ...string) (string, error) {
		var out, errs bytes.Buffer
		err := run(context.Background(), args, func(k string) string { return env[k] }, &out, &errs)
		return out.String() + errs.String(), err
	}
	r := start(t, env)
	if code, _ := post(t, r.url+"/api/v1/signup", map[string]string{"email": "ada@example.com", "password": "correct horse battery staple", "name": "Ada"}); code != 201 {
		t.Fatalf("signup: %d", code)
	}
	// Every try fails: the test brings the eighth to now.
	db, err := sql.Open("sqlite", filepath.Join(dir, "gardien.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out, err := op("mail", "given-up")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out, "ada@example.com") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the mail was not given up:\n%s", out)
		}
		db.Exec(`UPDATE outbox SET attempts = 7, next_attempt_at = 0 WHERE next_attempt_at < ?`, int64(1)<<40)
	}
	r.stop()

	// The operator fixes the mail settings, starts the server again and
	// sends the mail again.
	srv := mailtest.Start(t, mailtest.Plain)
	env["GARDIEN_SMTP_URL"] = srv.URL("smtp+insecure")
	r = start(t, env)
	list, _ := op("mail", "given-up")
	m := regexp.MustCompile(`(?m)^(\d+)\s+ada@example\.com\s+\S+ \S+\s+8\s+(\d{4}-\d\d-\d\d \d\d:\d\d)`).FindStringSubmatch(list)
	if m == nil {
		t.Fatalf("given-up list without the mail, its 8 tries and until when it can be sent:\n%s", list)
	}
	if out, err := op("mail", "retry", m[1]); err != nil || !strings.Contains(out, "mail "+m[1]+" queued again") {
		t.Fatalf("mail retry: %v\n%s", err, out)
	}
	mail := srv.Wait(t, "ada@example.com")
	if code, body := post(t, r.url+"/api/v1/email/verify", map[string]string{"token": mail.Token()}); code != 200 {
		t.Fatalf("the link of the mail sent again: %d %v", code, body)
	}
	if out, err := op("mail", "retry", m[1]); err == nil || !strings.Contains(out, "no given-up mail has that id") {
		t.Fatalf("a second retry of a sent mail: %v\n%s", err, out)
	}
	if out, err := op("mail", "retry", "all"); err != nil || !strings.Contains(out, "no given-up mail can be sent again") {
		t.Fatalf("mail retry all: %v\n%s", err, out)
	}
	if _, err := op("mail", "retry", "seven"); err == nil || !strings.Contains(err.Error(), `"seven" is not a mail id`) {
		t.Fatalf("mail retry seven: %v", err)
	}
	srv.None(t, "ada@example.com", 300*time.Millisecond) // sent once: no second copy
	r.stop()
}

// The README's list of commands is the usage the program prints.
func TestTheREADMEListsTheCommands(t *testing.T) {
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, _ := strings.Cut(string(readme), "## Commands\n\n```\n")
	listed, _, _ := strings.Cut(after, "```")
	lines, _, _ := strings.Cut(strings.TrimPrefix(usage, "Usage:\n"), "Run \"gardien serve -h\"")
	want := strings.ReplaceAll("\n"+lines, "\n  ", "\n")[1:]
	if listed != want {
		t.Errorf("README.md's commands are not the usage; put there:\n%s", want)
	}
}

// An operator's command run where no deployment is refuses, naming where
// it looked, and creates nothing (only serve and migrate make one).
func TestOperatorCommandsCreateNoDeployment(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nothing-here")
	env := func(k string) string { return map[string]string{"USER": "alice"}[k] }
	for _, args := range [][]string{
		{"user", "list", "-data-dir", dir},
		{"user", "reset-2fa", "ada@example.com", "-data-dir", dir},
		{"sso", "verify-domain", "1", "example.com", "-data-dir", dir},
	} {
		err := run(context.Background(), args, env, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "gardien.db")) {
			t.Errorf("%v: %v, want a refusal naming the database's path", args, err)
		}
		if _, serr := os.Stat(dir); !errors.Is(serr, os.ErrNotExist) {
			t.Fatalf("%v created %s", args, dir)
		}
	}
}
