// Command gardien-load measures a Gardien server over HTTP on loopback: it
// starts `gardien serve` (SQLite in a temporary directory, or the given
// PostgreSQL), creates its own people with 2FA (reading their validation
// links from the server's terminal mails), then drives each operation with
// a fixed number of workers for a fixed time and prints, per operation:
// requests per second, p50, p99, errors, and the server's CPU time per
// request and memory, read from /proc/PID. It also times one argon2id hash
// here and prints the hashing bound beside the login figure.
//
//	go build -o /tmp/gardien ./cmd/gardien
//	go run ./cmd/gardien-load -gardien /tmp/gardien -workers 8 -duration 10s
//
// With -profile DIR it also saves the server's CPU profile of each
// operation (DIR/second.pprof …), taken through its admin listener's
// net/http/pprof: go tool pprof -top DIR/second.pprof.
//
// Results, with the machine and the command: docs/benchmarks.md.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base32"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pquerna/otp"

	"github.com/gardien/gardien/internal/password"
	"github.com/gardien/gardien/internal/totp"
)

const pw = "load test password 1234"

func main() {
	bin := flag.String("gardien", "", "path of the gardien binary to start (go build -o /tmp/gardien ./cmd/gardien)")
	dbURL := flag.String("database-url", "", "PostgreSQL URL (empty: SQLite in a temporary directory)")
	workers := flag.Int("workers", 8, "concurrent clients per operation")
	duration := flag.Duration("duration", 10*time.Second, "how long each operation runs")
	people := flag.Int("people", 200, "people with 2FA to create (each gives two second steps; half of them when full logins run too)")
	flood := flag.Int("flood", 500, "password logins sent at once in the flood")
	office := flag.Int("office", 500, "people of one office (one address) logging in at once, against a server with the default guessing limits")
	ops := flag.String("ops", "me,password,second,full,flood,office", "the operations (also: oidc, sign-ins to an app; forward, a proxy's question; passkey, logins with a passkey alone; token, a program's call with an API token) to run, in this order (fewer: a quicker run, or a profile of one)")
	profile := flag.String("profile", "", "a directory where to save the server's CPU profile of each operation (OP.pprof)")
	oauth2Proxy := flag.String("oauth2-proxy", "", "with -ops forward: also measure oauth2-proxy's /oauth2/auth (the binary: go build -o /tmp/oauth2-proxy github.com/oauth2-proxy/oauth2-proxy/v7), side by side")
	oidcProvider := flag.String("oidc-provider", "", "with -ops oidc: also measure oidc-provider (npm), installed in this directory (cmd/gardien-load/oidcprovider, after npm ci there), side by side")
	flag.Parse()
	want := map[string]bool{}
	for _, op := range strings.Split(*ops, ",") {
		if !slices.Contains(allOps, op) {
			fmt.Fprintf(os.Stderr, "gardien-load: unknown operation %q in -ops (known: %s)\n", op, strings.Join(allOps, ","))
			os.Exit(2)
		}
		want[op] = true
	}
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "gardien-load: -gardien is required (go build -o /tmp/gardien ./cmd/gardien)")
		os.Exit(2)
	}
	if *profile != "" {
		if err := os.MkdirAll(*profile, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "gardien-load:", err)
			os.Exit(1)
		}
	}
	oidc, forward, passkey, token := want["oidc"], want["forward"], want["passkey"], want["token"]
	delete(want, "token")
	delete(want, "oidc")
	delete(want, "forward")
	delete(want, "passkey")
	if len(want) > 0 {
		if err := run(*bin, *dbURL, *profile, *workers, *duration, *people, *flood, *office, want); err != nil {
			fmt.Fprintln(os.Stderr, "gardien-load:", err)
			os.Exit(1)
		}
	}
	if forward {
		if err := runForward(*bin, *dbURL, *profile, *oauth2Proxy, *workers, *duration); err != nil {
			fmt.Fprintln(os.Stderr, "gardien-load:", err)
			os.Exit(1)
		}
	}
	if token {
		if err := runToken(*bin, *dbURL, *profile, *workers, *duration); err != nil {
			fmt.Fprintln(os.Stderr, "gardien-load:", err)
			os.Exit(1)
		}
	}
	if passkey {
		if err := runPasskey(*bin, *dbURL, *profile, *workers, *duration); err != nil {
			fmt.Fprintln(os.Stderr, "gardien-load:", err)
			os.Exit(1)
		}
	}
	if oidc {
		if err := runOIDC(*bin, *dbURL, *profile, *oidcProvider, *workers, *duration); err != nil {
			fmt.Fprintln(os.Stderr, "gardien-load:", err)
			os.Exit(1)
		}
	}
}

// allOps are the operations the tool drives.
var allOps = []string{"me", "password", "second", "full", "flood", "office", "oidc", "forward", "passkey", "token"}

// server is the running gardien and what it printed.
type server struct {
	cmd      *exec.Cmd
	dir      string // its data (SQLite), removed by stop
	url      string
	admin    string        // its admin listener, when profiles are taken
	profiles string        // where they go
	ready    time.Duration // from the process's start to its "serving on" line
	mu       sync.Mutex
	tokens   map[string]chan string // email → its validation token
}

// start runs a server; limits keeps the default guessing limits (every
// client is 127.0.0.1: otherwise they are lifted, or they would stop the
// other operations); env are more GARDIEN_* settings.
func start(bin, dbURL, profiles string, limits bool, env ...string) (*server, error) {
	dir, err := os.MkdirTemp("", "gardien-load")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "GARDIEN_ADDR=127.0.0.1:0", "GARDIEN_DATA_DIR="+dir, "GARDIEN_LOG_LEVEL=warn",
		// The forward-auth measure connects its organization to Gardien itself.
		"GARDIEN_SSO_ALLOW_PRIVATE=true")
	if !limits {
		cmd.Env = append(cmd.Env, "GARDIEN_PASSWORD_TRIES_PER_ADDRESS=1000000", "GARDIEN_PASSWORD_TRIES_PER_ACCOUNT=1000000")
	}
	admin := ""
	if profiles != "" {
		if admin, err = freeAddr(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		cmd.Env = append(cmd.Env, "GARDIEN_ADMIN_ADDR="+admin)
	}
	if dbURL != "" {
		cmd.Env = append(cmd.Env, "GARDIEN_DATABASE_URL="+dbURL, "GARDIEN_SECRET_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	}
	cmd.Env = append(cmd.Env, env...) // the last value of a variable wins
	out, err := cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cmd.Stderr = os.Stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &server{cmd: cmd, dir: dir, admin: admin, profiles: profiles, tokens: map[string]chan string{}}
	ready := make(chan string, 1)
	go s.read(out, ready)
	select {
	case s.url = <-ready:
		s.ready = time.Since(began)
	case <-time.After(30 * time.Second):
		s.stop()
		return nil, errors.New("the server did not say where it serves within 30 s")
	}
	return s, nil
}

// freeAddr is a loopback address free a moment ago, for the admin listener
// (which the server does not print).
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// profile saves the server's CPU profile of the next d (at least a second)
// as the file named; the returned function waits for it and says how it
// went.
func (s *server) profile(name string, d time.Duration) func() {
	if s.admin == "" {
		return func() {}
	}
	done := make(chan error, 1)
	go func() {
		sec := max(1, int((d+time.Second-1)/time.Second))
		resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", s.admin, sec))
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			done <- fmt.Errorf("profile: %s", resp.Status)
			return
		}
		f, err := os.Create(filepath.Join(s.profiles, name+".pprof"))
		if err != nil {
			done <- err
			return
		}
		_, err = io.Copy(f, resp.Body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	return func() {
		if err := <-done; err != nil {
			fmt.Fprintf(os.Stderr, "gardien-load: profile of %s: %v\n", name, err)
		}
	}
}

// stop ends the server and removes its data.
func (s *server) stop() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait() // "killed": what was asked
	os.RemoveAll(s.dir)
}

var (
	servingOn = regexp.MustCompile(`serving on (http://\S+)`)
	mailTo    = regexp.MustCompile(`^Mail to: (\S+)`)
	tokenIn   = regexp.MustCompile(`verify-email\?token=([A-Za-z0-9_-]+)`)
)

// read follows the server's terminal: where it serves, and the token of
// each validation mail.
func (s *server) read(r io.Reader, ready chan<- string) {
	sc := bufio.NewScanner(r)
	to := ""
	for sc.Scan() {
		line := sc.Text()
		if m := servingOn.FindStringSubmatch(line); m != nil {
			ready <- m[1]
		}
		if m := mailTo.FindStringSubmatch(line); m != nil {
			to = m[1]
		}
		if m := tokenIn.FindStringSubmatch(line); m != nil && to != "" {
			s.tokenFor(to) <- m[1]
		}
	}
}

func (s *server) tokenFor(email string) chan string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.tokens[email]
	if !ok {
		c = make(chan string, 1)
		s.tokens[email] = c
	}
	return c
}

// cpu is the server's CPU time so far (user + system), from /proc.
func (s *server) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // clock ticks (USER_HZ = 100 on Linux)
}

// memory is the server's resident memory now and at its peak, in MiB.
func (s *server) memory() (rss, peak float64) {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 {
			kb, _ := strconv.ParseFloat(f[1], 64)
			switch f[0] {
			case "VmRSS:":
				rss = kb / 1024
			case "VmHWM:":
				peak = kb / 1024
			}
		}
	}
	return rss, peak
}

// person is someone with 2FA, and the time steps of their codes used.
type person struct {
	email    string
	secret   []byte
	lastStep int64
	browser  []*http.Cookie // the cookies of the browser they signed up in
	base     *url.URL
}

// client is one browser: its own cookies.
func client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 60 * time.Second}
}

// desk is a new session in the person's own browser: its cookies but the
// session's, so Gardien knows the browser (no new sign-in alert: people
// log in where they always do).
func (p *person) desk() *http.Client {
	c := client()
	var keep []*http.Cookie
	for _, ck := range p.browser {
		if !strings.Contains(ck.Name, "gardien_session") {
			keep = append(keep, ck)
		}
	}
	if p.base != nil {
		c.Jar.SetCookies(p.base, keep)
	}
	return c
}

// statusOf sends req with c and returns its answer's status (0 when none
// came), the body read and dropped so that the connection is reused.
func statusOf(c *http.Client, req *http.Request) int {
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func call(c *http.Client, base, method, path string, body any) (int, map[string]any, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+"/api/v1"+path, r)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil && !errors.Is(err, io.EOF) {
		return resp.StatusCode, nil, fmt.Errorf("%s %s: the answer is not JSON: %w", method, path, err)
	}
	return resp.StatusCode, m, nil
}

// code is a code of p's app at a step after the last one used: this
// step's or the next (the server takes one step either side of its now,
// so the next stays good while sessions are prepared); false when none.
func (p *person) code() (string, bool) {
	now := totp.Step(time.Now())
	for step := now; step <= now+1; step++ {
		if step > p.lastStep {
			p.lastStep = step
			return totp.Code(p.secret, step, otp.DigitsSix), true
		}
	}
	return "", false
}

// makePeople signs people up, validates them and turns their 2FA on, with
// a few workers.
func makePeople(s *server, n int) ([]*person, error) {
	out := make([]*person, n)
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range runtime.NumCPU() * 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				p, err := makePerson(s, i)
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				out[i] = p
			}
		}()
	}
	wg.Wait()
	return out, firstErr
}

func makePerson(s *server, i int) (*person, error) {
	email := fmt.Sprintf("load-%d-%d@example.com", time.Now().UnixNano(), i)
	c, err := validated(s, email)
	if err != nil {
		return nil, err
	}
	st, m, err := call(c, s.url, "POST", "/me/two-factor/setup", map[string]any{})
	if err == nil && st == http.StatusUnauthorized {
		// Versions before sign-up opened a session (older binaries measured
		// side by side): log in first.
		if st, m, err := call(c, s.url, "POST", "/login", map[string]any{"email": email, "password": pw}); err != nil || st != 200 {
			return nil, callFailed("login", st, m, err)
		}
		st, m, err = call(c, s.url, "POST", "/me/two-factor/setup", map[string]any{})
	}
	if err != nil || st != 200 {
		return nil, callFailed("2FA setup", st, m, err)
	}
	secret, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(m["secret"].(string))
	base, _ := url.Parse(s.url)
	p := &person{email: email, secret: secret, base: base, browser: c.Jar.Cookies(base)}
	code, _ := p.code()
	if st, m, err := call(c, s.url, "POST", "/me/two-factor/activate", map[string]any{"code": code}); err != nil || st != 200 {
		return nil, callFailed("2FA activate", st, m, err)
	}
	return p, nil
}

// result is what one operation measured.
type result struct {
	name      string
	n, errors int
	elapsed   time.Duration
	lat       []time.Duration
	cpu       time.Duration
}

func (r result) print(s *server) {
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	pct := func(p float64) time.Duration {
		if len(r.lat) == 0 {
			return 0
		}
		return r.lat[min(len(r.lat)-1, int(float64(len(r.lat))*p))]
	}
	per := time.Duration(0)
	if r.n > 0 {
		per = r.cpu / time.Duration(r.n)
	}
	rss, peak := s.memory()
	fmt.Printf("%-14s %8d %9.0f/s  p50 %9s  p99 %9s  errors %5d  server CPU/op %9s  RSS %5.1f MiB (peak %5.1f)\n",
		r.name, r.n, float64(r.n)/r.elapsed.Seconds(), pct(.5).Round(time.Microsecond), pct(.99).Round(time.Microsecond),
		r.errors, per.Round(time.Microsecond), rss, peak)
}

// drive runs op with workers until the duration ends or op says it is out
// of work (more false), and measures it; a call that did nothing (skip:
// waiting for codes) is not counted.
func drive(s *server, name string, workers int, d time.Duration, op func(w int) (ok, more bool)) result {
	return driveSkipping(s, name, workers, d, func(w int) (bool, bool, bool) { ok, more := op(w); return ok, more, false })
}

func driveSkipping(s *server, name string, workers int, d time.Duration, op func(w int) (ok, more, skip bool)) result {
	var mu sync.Mutex
	r := result{name: name}
	profiled := func() {}
	if name != "" { // unnamed: a part of an operation, measured by its caller
		profiled = s.profile(strings.ReplaceAll(strings.Join(strings.Fields(strings.ToLower(name)), "-"), "/", ""), min(d, 30*time.Second))
	}
	cpu0, start := s.cpu(), time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				t := time.Now()
				ok, more, skip := op(w)
				if !more {
					return
				}
				if skip {
					continue
				}
				lat := time.Since(t)
				mu.Lock()
				r.n++
				r.lat = append(r.lat, lat)
				if !ok {
					r.errors++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	r.elapsed, r.cpu = time.Since(start), s.cpu()-cpu0
	profiled()
	return r
}

func run(bin, dbURL, profiles string, workers int, d time.Duration, n, flood, office int, want map[string]bool) error {
	// One argon2id hash here: the bound on password logins.
	h := password.NewHasher(password.DefaultParams, 1)
	t0 := time.Now()
	const hashes = 5
	for range hashes {
		if _, err := h.Hash(context.Background(), pw); err != nil {
			return err
		}
	}
	hash := time.Since(t0) / hashes

	s, err := start(bin, dbURL, profiles, false)
	if err != nil {
		return err
	}
	defer s.stop()
	time.Sleep(time.Second)
	idle, _ := s.memory()
	fmt.Printf("gardien-load: %s, %d cores, %d workers, %s per operation\n", s.url, runtime.NumCPU(), workers, d)
	fmt.Printf("ready %s after start (database opened and migrated); idle RSS %.1f MiB\n", s.ready.Round(time.Millisecond), idle)
	fmt.Printf("one argon2id hash %s here: %d cores bound password logins to %.0f/s\n",
		hash.Round(time.Millisecond), runtime.NumCPU(), float64(runtime.NumCPU())/hash.Seconds())

	people, err := makePeople(s, n)
	if err != nil {
		return err
	}
	fmt.Printf("%d people with 2FA made\n\n", len(people))
	fmt.Printf("%-14s %8s %11s  %13s  %13s  %12s  %s\n", "operation", "requests", "rate", "", "", "", "")

	var i atomic.Int64 // who logs in next
	if want["me"] {
		// GET /me: a full session per worker.
		sessions := make([]*http.Client, workers)
		for w := range workers {
			p := people[w%len(people)]
			c := p.desk()
			if st, m, err := call(c, s.url, "POST", "/login", map[string]any{"email": p.email, "password": pw}); err != nil || st != 200 {
				return callFailed("login", st, m, err)
			}
			code, _ := p.code()
			if st, m, err := call(c, s.url, "POST", "/login/two-factor", map[string]any{"code": code}); err != nil || st != 200 {
				return callFailed("second step", st, m, err)
			}
			sessions[w] = c
		}
		drive(s, "GET /me", workers, d, func(w int) (bool, bool) {
			st, _, err := call(sessions[w], s.url, "GET", "/me", nil)
			return err == nil && st == 200, true
		}).print(s)
	}

	if want["password"] {
		// The password step alone.
		drive(s, "password", workers, d, func(int) (bool, bool) {
			p := people[int(i.Add(1))%len(people)]
			st, _, err := call(p.desk(), s.url, "POST", "/login", map[string]any{"email": p.email, "password": pw})
			return err == nil && st == 200, true
		}).print(s)
	}

	if want["second"] {
		// The second step alone: sessions at the second step made first (each
		// costs a hash, not counted), then one code each.
		type pending struct {
			c    *http.Client
			code string
		}
		// With full logins to run after, half the people keep their codes
		// for them: this takes each one's codes of this step and the next.
		steppers := people
		if want["full"] && len(people) > 1 {
			steppers = people[:len(people)/2]
		}
		var sessions []pending
		for range 2 {
			for _, p := range steppers {
				sessions = append(sessions, pending{c: p.desk()})
			}
		}
		for i, q := range sessions {
			p := steppers[i%len(steppers)]
			if st, m, err := call(q.c, s.url, "POST", "/login", map[string]any{"email": p.email, "password": pw}); err != nil || st != 200 {
				return callFailed("login", st, m, err)
			}
		}
		// The codes once the sessions are made (which takes a hash each: a
		// minute for a thousand people, longer than a code lives); everyone's
		// first code, then everyone's second: a person's later code is never
		// taken before the earlier one (the server would refuse the earlier
		// step as used).
		queue := make(chan pending, len(sessions))
		for i, q := range sessions {
			var ok bool
			if q.code, ok = steppers[i%len(steppers)].code(); ok {
				queue <- q
			}
		}
		close(queue)
		drive(s, "second step", workers, d, func(int) (bool, bool) {
			q, ok := <-queue
			if !ok {
				return false, false
			}
			st, _, err := call(q.c, s.url, "POST", "/login/two-factor", map[string]any{"code": q.code})
			return err == nil && st == 200, true
		}).print(s)
	}

	if want["full"] {
		// Full logins: password then code; people wait for their next step.
		loggers := people
		if want["second"] && len(people) > 1 {
			loggers = people[len(people)/2:] // the other half's codes are used
		}
		var pmu sync.Mutex
		driveSkipping(s, "full login", workers, d, func(int) (bool, bool, bool) {
			pmu.Lock()
			var p *person
			var code string
			for range len(loggers) {
				c := loggers[int(i.Add(1))%len(loggers)]
				if k, ok := c.code(); ok {
					p, code = c, k
					break
				}
			}
			pmu.Unlock()
			if p == nil {
				time.Sleep(100 * time.Millisecond) // every code of this step used: wait for the next
				return true, true, true
			}
			c := p.desk()
			if st, _, err := call(c, s.url, "POST", "/login", map[string]any{"email": p.email, "password": pw}); err != nil || st != 200 {
				return false, true, false
			}
			st, _, err := call(c, s.url, "POST", "/login/two-factor", map[string]any{"code": code})
			return err == nil && st == 200, true, false
		}).print(s)
	}

	if want["flood"] {
		// The flood: many password logins at once.
		var done atomic.Int64
		r := drive(s, fmt.Sprintf("flood %d", flood), flood, time.Hour, func(int) (bool, bool) {
			if done.Add(1) > int64(flood) {
				return false, false
			}
			p := people[int(i.Add(1))%len(people)]
			st, _, err := call(p.desk(), s.url, "POST", "/login", map[string]any{"email": p.email, "password": pw})
			return err == nil && st == 200, true
		})
		r.print(s)
	}

	if want["office"] {
		if err := officeBurst(bin, dbURL, profiles, office); err != nil {
			return err
		}
	}
	return nil
}

// officeBurst has n people of one office (all from 127.0.0.1) log in at
// once with their right passwords, against a server of its own with the
// default guessing limits: none may be refused (errors counts the 429s).
func officeBurst(bin, dbURL, profiles string, n int) error {
	s, err := start(bin, dbURL, profiles, true)
	if err != nil {
		return err
	}
	defer s.stop()
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	emails := make([]string, n)
	// Each person logs in at their own desk: the browser they signed up
	// in, which Gardien knows (no new sign-in alert).
	browsers := make([]*http.Client, n)
	for range runtime.NumCPU() * 2 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				emails[i] = fmt.Sprintf("office-%d-%d@example.com", time.Now().UnixNano(), i)
				browsers[i] = client()
				if st, m, err := call(browsers[i], s.url, "POST", "/signup", map[string]any{"email": emails[i], "password": pw, "name": "Office"}); err != nil || st != 201 {
					once.Do(func() { firstErr = callFailed("signup", st, m, err) })
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	var done atomic.Int64
	drive(s, fmt.Sprintf("office %d", n), n, time.Hour, func(int) (bool, bool) {
		i := int(done.Add(1)) - 1
		if i >= n {
			return false, false
		}
		st, _, err := call(browsers[i], s.url, "POST", "/login", map[string]any{"email": emails[i], "password": pw})
		return err == nil && st == 200, true
	}).print(s)
	return nil
}

// callFailed says why a call of what did not give the answer expected: its
// error, or its status and body.
func callFailed(what string, st int, m any, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %d %v", what, st, m)
}
