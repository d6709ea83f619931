package server_test

import (
	"bytes"
	"encoding/base32"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"

	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/totp"
)

// lockedBuffer is a buffer the server's goroutines may write at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestEveryRequestHasAnID: each answer carries X-Request-ID — the proxy's
// when it is a sane one, a new one otherwise — every problem body names it,
// and every log line written for the request carries it.
func TestEveryRequestHasAnID(t *testing.T) {
	var logs lockedBuffer
	env := apptest.Start(t, apptest.WithLogs(&logs))
	c := env.Client(t)

	r := c.API("POST", "/login", map[string]any{"email": "nobody@example.com", "password": "wrong password!"})
	made := r.Header.Get("X-Request-ID")
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(made) || r.JSON()["request_id"] != made {
		t.Fatalf("made id %q, problem %s", made, r.Body)
	}

	for id, kept := range map[string]bool{"edge-7f3a.9_b": true, "": false, "a b": false, strings.Repeat("z", 65): false} {
		c.Header.Set("X-Request-ID", id)
		r := c.API("GET", "/me", nil)
		got := r.Header.Get("X-Request-ID")
		if kept != (got == id) || got == "" || r.JSON()["request_id"] != got {
			t.Errorf("X-Request-ID %q: answered %q, problem %s", id, got, r.Body)
		}
	}

	c.Header.Set("X-Request-ID", "trace-42")
	if r := c.Get("/login"); r.StatusCode != http.StatusOK || r.Header.Get("X-Request-ID") != "trace-42" {
		t.Fatalf("page: %d %q", r.StatusCode, r.Header.Get("X-Request-ID"))
	}
	// A code used twice: the refusal is logged inside the request.
	c.Header.Del("X-Request-ID")
	c.API("POST", "/signup", map[string]any{"email": "ada@example.com", "password": pw, "name": "Ada"})
	c.API("POST", "/email/verify", map[string]any{"token": env.Mail.Wait(t, "ada@example.com").Token()})
	setup := c.API("POST", "/me/two-factor/setup", nil).JSON()
	secret, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(setup["secret"].(string))
	code := totp.Code(secret, totp.Step(time.Now()), otp.DigitsSix)
	c.API("POST", "/me/two-factor/activate", map[string]any{"code": code})
	d := env.Client(t)
	d.API("POST", "/login", map[string]any{"email": "ada@example.com", "password": pw})
	d.Header.Set("X-Request-ID", "trace-43")
	if r := d.API("POST", "/login/two-factor", map[string]any{"code": code}); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a code used twice: %d %s", r.StatusCode, r.Body)
	}
	var lines []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "request_id=trace-43") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 2 || !strings.Contains(lines[0], `msg="replayed code refused"`) || !strings.Contains(lines[1], "msg=request") {
		t.Fatalf("log lines of the request (want the refusal and the request line):\n%s\nall:\n%s", strings.Join(lines, "\n"), logs.String())
	}
}

// A page's assets are logged at debug: at info, the terminal of a first run
// shows the requests that matter (and the validation mail), not every
// stylesheet and favicon.
func TestAssetsAreNotLoggedAtInfo(t *testing.T) {
	var logs lockedBuffer
	env := apptest.Start(t, apptest.WithLogs(&logs))
	c := env.Client(t)
	c.Get("/static/style.css")
	c.Get("/favicon.ico")
	c.Get("/login")
	out := logs.String()
	if strings.Contains(out, "path=/static/") || strings.Contains(out, "path=/favicon.ico") {
		t.Errorf("assets logged at info:\n%s", out)
	}
	if !strings.Contains(out, "path=/login") {
		t.Errorf("the page's request not logged:\n%s", out)
	}
}
