package auth_test

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/i18n"
	"github.com/gardien/gardien/internal/mail"
	"github.com/gardien/gardien/internal/password"
	"github.com/gardien/gardien/internal/secretbox"
	"github.com/gardien/gardien/internal/sqlstore"
	"github.com/gardien/gardien/internal/web"
	"github.com/gardien/gardien/internal/webauthn"
)

const pw = "correct horse battery staple"

// mails records what the service would send.
type mails struct {
	mu   sync.Mutex
	sent []mail.Message
}

func (m *mails) Send(_ context.Context, msg mail.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, msg)
	return nil
}

func (m *mails) to(addr string) []mail.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []mail.Message
	for _, msg := range m.sent {
		if msg.To == addr {
			out = append(out, msg)
		}
	}
	return out
}

// titled is the mails to addr whose subject is subject.
func (m *mails) titled(addr, subject string) []mail.Message {
	var out []mail.Message
	for _, msg := range m.to(addr) {
		if msg.Subject == subject {
			out = append(out, msg)
		}
	}
	return out
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	svc   *auth.Service
	store *sqlstore.Store
	mails *mails
	clock *clock
}

// cheap hashes: the rules are tested here, not argon2's cost.
var cheap = password.Params{Memory: 64, Time: 1, Threads: 1}

// newService returns the rules over a real SQLite store in a temporary
// directory, with a settable clock and a mail recorder. storeWrap, when
// given, stands between the service and the store.
func newService(t testing.TB, storeWrap ...func(auth.Store) auth.Store) *fixture {
	t.Helper()
	store, err := sqlstore.Open(context.Background(), "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	composer, err := mail.NewComposer(cat)
	if err != nil {
		t.Fatal(err)
	}
	box, err := secretbox.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: store, mails: &mails{}, clock: &clock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}}
	var st auth.Store = store
	for _, w := range storeWrap {
		st = w(st)
	}
	base, _ := url.Parse("http://gardien.test")
	passkeys, err := webauthn.New("Gardien", base, "")
	if err != nil {
		t.Fatal(err)
	}
	f.svc = auth.New(auth.Config{Passkeys: passkeys, Store: st, Hasher: password.NewHasher(cheap, 2), Mailer: f.mails, Composer: composer,
		Box: box, RecoveryKey: make([]byte, 32), Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Links: web.Links{Base: base},
		Now: f.clock.Now, SessionMax: 12 * time.Hour, SessionIdle: 2 * time.Hour})
	t.Cleanup(func() { f.svc.Wait(context.Background()) })
	return f
}

// withProviders gives the service a real DNS server to ask.
func (f *fixture) withProviders(p auth.SSOProtocols) { f.svc.Providers = p }

var client = gardien.Client{IP: "203.0.113.9", UserAgent: "test"}

// signup makes an account, its email validated when verified.
func (f *fixture) signup(t testing.TB, email string, verified bool) *gardien.User {
	t.Helper()
	su, err := f.svc.SignUp(context.Background(), auth.SignupInput{Email: email, Password: pw, Name: "Ada Lovelace"}, "", client)
	if err != nil {
		t.Fatal(err)
	}
	u := su.User
	if verified {
		if u, err = f.svc.MarkEmailVerified(context.Background(), email); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

var tokenRE = regexp.MustCompile(`token=([A-Za-z0-9_-]+)`)

func tokenOf(t testing.TB, text string) string {
	t.Helper()
	m := tokenRE.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no token in:\n%s", text)
	}
	return m[1]
}

// login logs a person in with the right password.
func (f *fixture) login(t testing.TB, email string) *auth.Login {
	t.Helper()
	l, err := f.svc.LogIn(context.Background(), email, pw, "", client)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func wantCode(t testing.TB, err error, code gardien.Code) {
	t.Helper()
	if got := gardien.ErrorCode(err); got != code {
		t.Fatalf("error %v (code %s), want code %s", err, got, code)
	}
}
