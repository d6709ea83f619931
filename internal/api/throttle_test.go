package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/auth"
)

// eachDB runs fn against a server on SQLite and one on PostgreSQL.
func eachDB(t *testing.T, fn func(t *testing.T, opts ...apptest.Option)) {
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); fn(t) })
	t.Run("postgres", func(t *testing.T) { t.Parallel(); fn(t, apptest.Postgres(t)) })
}

func TestConcurrentPasswordGuessesStopAtTheLimit(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...apptest.Option) {
		env := apptest.Start(t, opts...)
		c := env.Client(t)
		signup(t, env, c, "ada@example.com")
		// 60 wrong passwords at once: every try is counted before its hash,
		// so exactly the limit (10) is heard, and the rest wait.
		var mu sync.Mutex
		status := map[int]int{}
		var wg sync.WaitGroup
		for i := range 60 {
			wg.Go(func() {
				r := env.Client(t).API("POST", "/login", map[string]any{"email": "ada@example.com", "password": fmt.Sprintf("wrong guess %d", i)})
				mu.Lock()
				status[r.StatusCode]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if status[http.StatusUnauthorized] != 10 || status[http.StatusTooManyRequests] != 50 {
			t.Fatalf("60 concurrent wrong passwords answered %v, want 10 × 401 and 50 × 429", status)
		}
		// The right password, coming after the burst, waits too.
		wantProblem(t, login(t, env.Client(t), "ada@example.com", pw), 429, "rate_limited")

		// An office at nine: more people than the address's limit (100) log
		// in at once from that same address with their right passwords —
		// none is refused for the others in flight.
		const people = 120
		for i := range people {
			if _, err := env.App.Auth.SignUp(context.Background(), auth.SignupInput{Email: fmt.Sprintf("p%d@office.example", i), Password: pw, Name: "P"}, "", gardien.Client{}); err != nil {
				t.Fatal(err)
			}
		}
		status = map[int]int{}
		for i := range people {
			wg.Go(func() {
				r := login(t, env.Client(t), fmt.Sprintf("p%d@office.example", i), pw)
				mu.Lock()
				status[r.StatusCode]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if status[http.StatusOK] != people {
			t.Fatalf("%d concurrent right passwords from one address answered %v, want all 200", people, status)
		}
	})
}

func TestReauthenticationSharesThePasswordLimits(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Setting("GARDIEN_PASSWORD_TRIES_PER_ACCOUNT", "3"))
	c := env.Client(t)
	signup(t, env, c, "ada@example.com")
	if r := login(t, c, "ada@example.com", pw); r.StatusCode != 200 {
		t.Fatalf("login: %d %s", r.StatusCode, r.Body)
	}
	// Someone with Ada's open session guesses her password through the
	// password change, then the disable and recovery-code forms.
	for i := range 3 {
		r := c.API("POST", "/me/password", map[string]any{"current_password": fmt.Sprintf("guess %d", i), "new_password": "a brand new passphrase"})
		wantProblem(t, r, 422, "validation_failed")
	}
	r := c.API("POST", "/me/password", map[string]any{"current_password": pw, "new_password": "a brand new passphrase"})
	wantProblem(t, r, 429, "rate_limited")
	if r.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After on a refused re-authentication")
	}
	// The login of the same account from the same address waits as well.
	wantProblem(t, login(t, env.Client(t), "ada@example.com", pw), 429, "rate_limited")
}

func TestLongUserAgentIsCutBetweenCharacters(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...apptest.Option) {
		env := apptest.Start(t, opts...)
		c := env.Client(t)
		// 1 + 2×300 bytes: a cut at 512 bytes would fall inside an "é".
		c.Header.Set("User-Agent", "a"+strings.Repeat("é", 300))
		signup(t, env, c, "ada@example.com")
		if r := login(t, c, "ada@example.com", pw); r.StatusCode != 200 {
			t.Fatalf("login with a long User-Agent: %d %s", r.StatusCode, r.Body)
		}
		if r := c.API("POST", "/organizations", map[string]any{"name": "Acme"}); r.StatusCode != 201 {
			t.Fatalf("organization with a long User-Agent: %d %s", r.StatusCode, r.Body)
		}
		var ua string
		if err := env.DB.QueryRow(`SELECT user_agent FROM events WHERE type = 'user.login'`).Scan(&ua); err != nil {
			t.Fatal(err)
		}
		if len(ua) != 511 || !utf8.ValidString(ua) {
			t.Fatalf("stored User-Agent: %d bytes, valid UTF-8 %v", len(ua), utf8.ValidString(ua))
		}
	})
}

func TestAnEventThatCannotBeWrittenFailsTheRequest(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.Client(t)
	signup(t, env, c, "ada@example.com")
	if _, err := env.DB.Exec(`ALTER TABLE events RENAME TO events_gone`); err != nil {
		t.Fatal(err)
	}
	// A wrong password whose trail line cannot be written is not answered
	// as an ordinary failure: the guess would leave no trace.
	r := login(t, c, "ada@example.com", "a wrong password")
	if r.StatusCode < 500 {
		t.Fatalf("wrong password without its audit line: %d %s", r.StatusCode, r.Body)
	}
}
