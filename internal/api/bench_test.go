package api_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pquerna/otp"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/totp"
)

// stepper is a person with 2FA on and a session at its second step.
type stepper struct {
	secret []byte
	token  string
	userID int64
}

// steppers makes n people with 2FA on, each with a session waiting for its
// second step. They are made through auth and the store directly: a
// login's password check (argon2id) is not what the benchmarks measure.
func steppers(b *testing.B, env *apptest.Env, n int) []stepper {
	b.Helper()
	ctx := b.Context()
	out := make([]stepper, n)
	for i := range out {
		now := time.Now()
		u := &gardien.User{Email: fmt.Sprintf("p%d@example.com", i), Name: "P", CreatedAt: now}
		if err := env.App.Store.CreateUser(ctx, u, u.Email, "-"); err != nil {
			b.Fatal(err)
		}
		env.App.Store.SetEmailVerified(ctx, u.ID, now)
		u.EmailVerified = true
		e, err := env.App.Auth.BeginTwoFactor(ctx, u)
		if err != nil {
			b.Fatal(err)
		}
		secret, _ := totp.DecodeSecret(e.Secret)
		full := &gardien.Session{UserID: u.ID, Level: gardien.LevelFull, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
		env.App.Store.CreateSession(ctx, full, sha256Of(fmt.Sprint("full", i)))
		// Activation uses up its step: activate with the previous one, so
		// that the current code is still fresh for the benchmark (once more
		// if a step ended in between).
		for try := 0; ; try++ {
			prev := totp.Code(secret, totp.Step(time.Now())-1, otp.DigitsSix)
			_, err := env.App.Auth.ActivateTwoFactor(ctx, full, u, prev, gardien.Client{})
			if err == nil {
				break
			}
			if try > 0 {
				b.Fatalf("person %d: activate: %v", i, err)
			}
		}
		raw := make([]byte, 32)
		rand.Read(raw)
		tok := base64.RawURLEncoding.EncodeToString(raw)
		s := &gardien.Session{UserID: u.ID, Level: gardien.LevelSecondFactor, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(10 * time.Minute)}
		if err := env.App.Store.CreateSession(ctx, s, sha256Of(tok)); err != nil {
			b.Fatal(err)
		}
		out[i] = stepper{secret: secret, token: fmt.Sprint(s.ID, ".", tok), userID: u.ID}
	}
	return out
}

// BenchmarkSecondStep measures the whole second step of a login over HTTP,
// client included: session lookup, the try counted in the database, the
// secret unsealed, the code checked, its step consumed (the replay guard),
// the session promoted with a new token and the audit line written. Every
// code is accepted once, as in production. "parallel" runs GOMAXPROCS×4
// clients at once.
func BenchmarkSecondStep(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		for _, mode := range []string{"sequential", "parallel"} {
			b.Run(db+"/"+mode, func(b *testing.B) {
				var opts []apptest.Option
				if db == "postgres" {
					opts = append(opts, apptest.Postgres(b))
				}
				env := apptest.Start(b, opts...)
				people := steppers(b, env, b.N)
				base := mustURL(env.URL)
				step := func(c *apptest.Client, p stepper) {
					c.Jar.SetCookies(base, []*http.Cookie{{Name: "gardien_session", Value: p.token, Path: "/"}})
					r := c.API("POST", "/login/two-factor", map[string]any{"code": totp.Code(p.secret, totp.Step(time.Now()), otp.DigitsSix)})
					if r.StatusCode != 200 {
						b.Fatalf("%d %s", r.StatusCode, r.Body)
					}
				}
				b.ResetTimer()
				cpu0 := cpuTime()
				if mode == "sequential" {
					c := env.Client(b)
					for i := range b.N {
						step(c, people[i])
					}
				} else {
					var next atomic.Int64
					b.SetParallelism(4)
					b.RunParallel(func(pb *testing.PB) {
						c := env.Client(b)
						for pb.Next() {
							step(c, people[next.Add(1)-1])
						}
					})
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
				// Client and server are one process here: both are counted.
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/step")
			})
		}
	}
}

// bulkAccounts adds n accounts (a third with 2FA, each with a session)
// straight into the database, as a large installation has them. No
// ANALYZE: Gardien never runs it, so its SQLite databases have no
// statistics (with them, SQLite's plans were slower: docs/benchmarks.md).
func bulkAccounts(b *testing.B, env *apptest.Env, n int) {
	b.Helper()
	ctx := b.Context()
	for i, q := range []string{
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		 INSERT INTO users (email, email_key, name, password_hash, created_at, updated_at)
		 SELECT 'a' || i || '@million.example', 'a' || i || '@million.example', 'Account ' || i, '-', 0, 0 FROM n`,
		`INSERT INTO two_factor (user_id, secret, created_at, enabled_at, last_step)
		 SELECT id, ?, 0, 0, 0 FROM users WHERE email_key LIKE '%@million.example' AND id % 3 = 0`,
		`INSERT INTO sessions (token_hash, user_id, level, created_at, last_seen_at, expires_at, ip, user_agent)
		 SELECT ` + map[bool]string{true: `sha256(('s' || id)::bytea)`, false: `randomblob(32)`}[env.App.Store.Dialect() == "postgres"] + `,
		 id, 'full', 0, 0, 0, '', '' FROM users WHERE email_key LIKE '%@million.example'`,
	} {
		args := [][]any{{n}, {[]byte("sealed")}, nil}[i]
		if _, err := env.DB.ExecContext(ctx, env.Q(q), args...); err != nil {
			b.Fatalf("bulk step %d: %v", i, err)
		}
	}
}

// BenchmarkMillionAccounts compares, over HTTP, the second step and
// GET /me on an empty database and on one of 1,000,000 accounts (each
// with a session, a third with 2FA): every lookup is by an index, so the
// figures should stay within 20 % of each other.
func BenchmarkMillionAccounts(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		for _, size := range []int{0, 1_000_000} {
			b.Run(fmt.Sprintf("%s/%d", db, size), func(b *testing.B) {
				var opts []apptest.Option
				if db == "postgres" {
					opts = append(opts, apptest.Postgres(b))
				}
				env := apptest.Start(b, opts...)
				if size > 0 {
					bulkAccounts(b, env, size)
				}
				people := steppers(b, env, 1000)
				base := mustURL(env.URL)
				c := env.Client(b)
				b.Run("second_step", func(b *testing.B) {
					i := 0
					for b.Loop() {
						p := people[i%len(people)]
						i++
						if i > len(people) {
							b.Fatal("more iterations than people with a fresh code: use -benchtime 1000x or less")
						}
						c.Jar.SetCookies(base, []*http.Cookie{{Name: "gardien_session", Value: p.token, Path: "/"}})
						if r := c.API("POST", "/login/two-factor", map[string]any{"code": totp.Code(p.secret, totp.Step(time.Now()), otp.DigitsSix)}); r.StatusCode != 200 {
							b.Fatalf("%d %s", r.StatusCode, r.Body)
						}
					}
				})
				b.Run("me", func(b *testing.B) {
					now := time.Now()
					// A person with 2FA, as in both sizes alike (no deadline to look up).
					s := &gardien.Session{UserID: people[0].userID, Level: gardien.LevelFull, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
					if err := env.App.Store.CreateSession(b.Context(), s, sha256Of("me")); err != nil {
						b.Fatal(err)
					}
					c.Jar.SetCookies(base, []*http.Cookie{{Name: "gardien_session", Value: fmt.Sprint(s.ID, ".me"), Path: "/"}})
					for b.Loop() {
						if r := c.API("GET", "/me", nil); r.StatusCode != 200 {
							b.Fatalf("%d %s", r.StatusCode, r.Body)
						}
					}
				})
			})
		}
	}
}

// BenchmarkMeHandler measures GET /api/v1/me in the server's handler alone
// (no sockets, no client): every middleware, the session lookup, the
// memberships and the answer. allocs/op are the server's own; cpu-µs/op is
// the process's CPU (PostgreSQL's is its own process). Each request has a
// context that can be cancelled, as net/http's server gives: what a
// database driver does for such a context is part of the cost.
func BenchmarkMeHandler(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			var opts []apptest.Option
			if db == "postgres" {
				opts = append(opts, apptest.Postgres(b))
			}
			env := apptest.Start(b, opts...)
			p := verified(b, env, "ada@example.com")
			cookies := p.c.Jar.Cookies(mustURL(env.URL))
			h, err := env.App.Handler()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				ctx, cancel := context.WithCancel(b.Context())
				req := httptest.NewRequestWithContext(ctx, "GET", "/api/v1/me", nil)
				for _, c := range cookies {
					req.AddCookie(c)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				cancel()
				if rec.Code != 200 {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// cpuTime is the process's CPU time so far (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
