package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/sqlstore"
	"github.com/gardien/gardien/internal/testenv"
)

// eachStore runs fn on a fresh SQLite store and a fresh PostgreSQL store:
// one suite, both dialects.
func eachStore(t *testing.T, fn func(t *testing.T, s *sqlstore.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		s, err := sqlstore.Open(context.Background(), "", t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { keepQueries(s); s.Close() })
		fn(t, s)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		s, err := sqlstore.Open(context.Background(), testenv.PostgresURL(t), "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		fn(t, s)
	})
}

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func newUser(t *testing.T, s *sqlstore.Store, email string) *gardien.User {
	t.Helper()
	u := &gardien.User{Email: email, Name: "Ada Lovelace", CreatedAt: t0}
	if err := s.CreateUser(context.Background(), u, email, "hash-of-"+email); err != nil {
		t.Fatal(err)
	}
	return u
}

func hash(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

func TestMigrationsAreRecordedAndRunOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		list, err := s.Migrations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 0 {
			t.Fatal("no migrations listed")
		}
		for _, m := range list {
			if !m.Applied {
				t.Errorf("migration %s not applied", m.Name)
			}
		}
		if err := s.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestUsers(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		u := newUser(t, s, "ada@example.com")
		if u.ID == 0 {
			t.Fatal("no id given")
		}
		dup := &gardien.User{Email: "ada@example.com", CreatedAt: t0}
		if err := s.CreateUser(ctx, dup, "ada@example.com", "x"); !errors.Is(err, gardien.ErrDuplicate) {
			t.Fatalf("duplicate email: got %v, want ErrDuplicate", err)
		}
		got, hash, err := s.UserByEmail(ctx, "ada@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != u.ID || got.Name != "Ada Lovelace" || hash != "hash-of-ada@example.com" || got.EmailVerified || !got.CreatedAt.Equal(t0) {
			t.Fatalf("user by email: %+v %q", got, hash)
		}
		if _, _, err := s.UserByEmail(ctx, "nobody@example.com"); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("unknown email: %v", err)
		}
		if _, err := s.UserByID(ctx, 999999); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("unknown id: %v", err)
		}
		if err := s.SetEmailVerified(ctx, u.ID, t0); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateProfile(ctx, u.ID, "Ada King", "fr", t0); err != nil {
			t.Fatal(err)
		}
		got, err = s.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.EmailVerified || got.Name != "Ada King" || got.Locale != "fr" {
			t.Fatalf("after verify and profile: %+v", got)
		}
		if err := s.UpdateProfile(ctx, 999999, "x", "", t0); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("profile of unknown user: %v", err)
		}
	})
}

func TestTokensAreSingleUseAndExpire(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		u := newUser(t, s, "ada@example.com")
		if err := s.CreateToken(ctx, "verify_email", hash("tok"), u.ID, t0.Add(24*time.Hour), t0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConsumeToken(ctx, "reset_password", hash("tok"), t0); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("token of another kind: %v", err)
		}
		if id, err := s.TokenUser(ctx, "verify_email", hash("tok"), t0); err != nil || id != u.ID {
			t.Fatalf("token user: %d %v", id, err)
		}
		id, err := s.ConsumeToken(ctx, "verify_email", hash("tok"), t0.Add(time.Hour))
		if err != nil || id != u.ID {
			t.Fatalf("consume: %d %v", id, err)
		}
		if _, err := s.ConsumeToken(ctx, "verify_email", hash("tok"), t0.Add(time.Hour)); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("second use: %v", err)
		}
		s.CreateToken(ctx, "verify_email", hash("old"), u.ID, t0.Add(24*time.Hour), t0)
		if _, err := s.ConsumeToken(ctx, "verify_email", hash("old"), t0.Add(24*time.Hour)); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("expired token: %v", err)
		}
	})
}

func TestTokenRaceHasOneWinner(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		u := newUser(t, s, "ada@example.com")
		s.CreateToken(ctx, "reset_password", hash("race"), u.ID, t0.Add(time.Hour), t0)
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for range 20 {
			wg.Go(func() {
				if _, err := s.ConsumeToken(ctx, "reset_password", hash("race"), t0); err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				} else if !errors.Is(err, gardien.ErrNotFound) {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d of 20 concurrent uses of one token succeeded, want 1", wins)
		}
	})
}

func TestSessions(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		u := newUser(t, s, "ada@example.com")
		mk := func(secret string) *gardien.Session {
			sess := &gardien.Session{UserID: u.ID, Level: gardien.LevelFull, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(12 * time.Hour), IP: "127.0.0.1", UserAgent: "test"}
			if err := s.CreateSession(ctx, sess, hash(secret)); err != nil {
				t.Fatal(err)
			}
			return sess
		}
		key := func(sess *gardien.Session, secret string) auth.SessionKey {
			return auth.SessionKey{ID: sess.ID, Hash: hash(secret)}
		}
		a, b := mk("a"), mk("b")
		c := mk("c")
		got, err := s.SessionByKey(ctx, key(a, "a"))
		if err != nil || got.ID != a.ID || got.UserID != u.ID || got.Level != gardien.LevelFull || !got.ExpiresAt.Equal(t0.Add(12*time.Hour)) || got.IP != "127.0.0.1" {
			t.Fatalf("session a: %+v %v", got, err)
		}
		for name, k := range map[string]auth.SessionKey{
			"a's ID with b's secret":    key(a, "b"),
			"a's ID with no secret":     {ID: a.ID},
			"an ID of no session":       key(&gardien.Session{ID: c.ID + 1000}, "a"),
			"a's secret as a old token": {Hash: hash("a")},
		} {
			if _, err := s.SessionByKey(ctx, k); !errors.Is(err, gardien.ErrNotFound) {
				t.Errorf("%s: %v, want not found", name, err)
			}
			if _, _, err := s.SessionUser(ctx, k); !errors.Is(err, gardien.ErrNotFound) {
				t.Errorf("%s, with its person: %v, want not found", name, err)
			}
		}
		if err := s.RotateSession(ctx, a.ID, hash("a2"), gardien.LevelSecondFactor, t0.Add(time.Hour), t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByKey(ctx, key(a, "a")); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("old secret after rotation: %v", err)
		}
		got, err = s.SessionByKey(ctx, key(a, "a2"))
		if err != nil || got.ID != a.ID || got.Level != gardien.LevelSecondFactor || !got.LastSeenAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("rotated session: %+v %v", got, err)
		}
		if err := s.RotateSession(ctx, c.ID+1000, hash("x"), gardien.LevelFull, t0, t0); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("rotating no session: %v, want not found", err)
		}
		if err := s.SetPassword(ctx, u.ID, "new-hash", b.ID, t0); err != nil {
			t.Fatal(err)
		}
		if h, _ := s.PasswordHash(ctx, u.ID); h != "new-hash" {
			t.Fatalf("password hash after change: %q", h)
		}
		for _, k := range []struct {
			name string
			key  auth.SessionKey
			want bool
		}{{"a2", key(a, "a2"), false}, {"b", key(b, "b"), true}, {"c", key(c, "c"), false}} {
			_, err := s.SessionByKey(ctx, k.key)
			if (err == nil) != k.want {
				t.Errorf("after password change, session %s alive=%v, want %v", k.name, err == nil, k.want)
			}
		}
		if err := s.DeleteSession(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByKey(ctx, key(b, "b")); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("deleted session: %v", err)
		}
		d := mk("d")
		mk("e")
		s.TouchSession(ctx, d.ID, t0.Add(3*time.Hour))
		n, err := s.DeleteExpiredSessions(ctx, t0.Add(4*time.Hour), t0.Add(2*time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("idle sessions removed: %d %v, want 1", n, err)
		}
		if _, err := s.SessionByKey(ctx, key(d, "d")); err != nil {
			t.Fatalf("recently used session removed: %v", err)
		}
		n, _ = s.DeleteExpiredSessions(ctx, t0.Add(12*time.Hour), t0)
		if n != 1 {
			t.Fatalf("expired sessions removed: %d, want 1", n)
		}
	})
}

// A session opened before sessions had secrets (or by a node still on that
// version during an upgrade) is found by its whole token's hash; its first
// rotation gives it a secret, and the token it was found by stops working —
// also inside a second step's transaction.
func TestASessionOpenedBeforeSecretsIsFoundUntilItsRotation(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		u := newUser(t, s, "ada@example.com")
		enable(t, s, u, 1)
		old := func(tok string) *gardien.Session {
			sess := &gardien.Session{UserID: u.ID, Level: gardien.LevelSecondFactor, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)}
			if err := s.CreateOldSession(ctx, sess, hash(tok)); err != nil {
				t.Fatal(err)
			}
			return sess
		}
		a, b := old("token a"), old("token b")
		for _, sess := range []*gardien.Session{a, b} {
			tok := map[int64]string{a.ID: "token a", b.ID: "token b"}[sess.ID]
			got, gotUser, err := s.SessionUser(ctx, auth.SessionKey{Hash: hash(tok)})
			if err != nil || got.ID != sess.ID || gotUser.ID != u.ID {
				t.Fatalf("old session by its token: %+v %v", got, err)
			}
			if _, err := s.SessionByKey(ctx, auth.SessionKey{ID: sess.ID, Hash: hash(tok)}); !errors.Is(err, gardien.ErrNotFound) {
				t.Fatalf("old session by its ID, without a secret: %v, want not found", err)
			}
		}
		if err := s.RotateSession(ctx, a.ID, hash("secret a"), gardien.LevelFull, t0.Add(time.Hour), t0); err != nil {
			t.Fatal(err)
		}
		if err := pass(s, auth.SessionKey{Hash: hash("token b")}, 5, hash("secret b"), t0); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			sess        *gardien.Session
			tok, secret string
		}{{a, "token a", "secret a"}, {b, "token b", "secret b"}} {
			if _, err := s.SessionByKey(ctx, auth.SessionKey{Hash: hash(c.tok)}); !errors.Is(err, gardien.ErrNotFound) {
				t.Errorf("session %d by its old token after its rotation: %v, want not found", c.sess.ID, err)
			}
			got, err := s.SessionByKey(ctx, auth.SessionKey{ID: c.sess.ID, Hash: hash(c.secret)})
			if err != nil || got.Level != gardien.LevelFull {
				t.Errorf("session %d by its ID and new secret: %+v %v", c.sess.ID, got, err)
			}
		}
	})
}

func TestSetPasswordVoidsResetLinks(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		u := newUser(t, s, "ada@example.com")
		s.CreateToken(ctx, "reset_password", hash("r"), u.ID, t0.Add(time.Hour), t0)
		if err := s.SetPassword(ctx, u.ID, "h2", 0, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConsumeToken(ctx, "reset_password", hash("r"), t0); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("reset link after password change: %v", err)
		}
	})
}

func TestEvents(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		u := newUser(t, s, "ada@example.com")
		for i := range 3 {
			e := &gardien.Event{Time: t0.Add(time.Duration(i) * time.Second), Type: fmt.Sprintf("t%d", i), UserID: u.ID, IP: "10.0.0.1", UserAgent: "ua",
				Data: gardien.EventData{"role": "admin", "email": "bob@example.com"}}
			if err := s.AddEvent(ctx, e); err != nil || e.ID == 0 {
				t.Fatal(err)
			}
		}
		s.AddEvent(ctx, &gardien.Event{Time: t0, Type: "other"})
		got, err := s.UserEvents(ctx, u.ID, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Type != "t2" || got[1].Type != "t1" || got[0].IP != "10.0.0.1" || !got[0].Time.Equal(t0.Add(2*time.Second)) {
			t.Fatalf("events: %+v", got)
		}
		if got[0].Data["role"] != "admin" || got[0].Data["email"] != "bob@example.com" || len(got[0].Data) != 2 {
			t.Fatalf("event data: %v", got[0].Data)
		}
	})
}

func TestStaleTokensAreDeleted(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		u := newUser(t, s, "ada@example.com")
		s.CreateToken(ctx, "verify_email", hash("old"), u.ID, t0, t0.Add(-time.Hour))
		s.CreateToken(ctx, "verify_email", hash("new"), u.ID, t0.Add(time.Hour), t0)
		n, err := s.DeleteStaleTokens(ctx, t0.Add(time.Minute))
		if err != nil || n != 1 {
			t.Fatalf("deleted %d (%v), want 1", n, err)
		}
		if _, err := s.TokenUser(ctx, "verify_email", hash("new"), t0); err != nil {
			t.Fatalf("live token deleted: %v", err)
		}
	})
}

func TestReserveTryHoldsUnderConcurrency(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		key := hash("account")
		var mu sync.Mutex
		ok := 0
		var wg sync.WaitGroup
		for range 40 {
			wg.Go(func() {
				got, _, err := s.ReserveTry(ctx, key, 10, 15*time.Minute, t0)
				if err != nil {
					t.Error(err)
				}
				if got {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if ok != 10 {
			t.Fatalf("%d of 40 concurrent tries reserved, want 10", ok)
		}
		got, until, err := s.ReserveTry(ctx, key, 10, 15*time.Minute, t0.Add(time.Minute))
		if err != nil || got || !until.Equal(t0.Add(15*time.Minute)) {
			t.Fatalf("11th try: ok %v until %v err %v; want refused until the window ends", got, until, err)
		}
		if err := s.ReleaseTry(ctx, key); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := s.ReserveTry(ctx, key, 10, 15*time.Minute, t0.Add(time.Minute)); !got {
			t.Fatal("a try given back is not available again")
		}
		if got, _, _ := s.ReserveTry(ctx, key, 10, 15*time.Minute, t0.Add(15*time.Minute)); !got {
			t.Fatal("a new window does not start once the old one ended")
		}
	})
}

func TestTheSQLiteFilesAreTheOwnersOnly(t *testing.T) {
	dir := t.TempDir()
	s, err := sqlstore.Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, name := range []string{"gardien.db", "gardien.db-wal"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, st.Mode().Perm())
		}
	}
}

// Nodes starting together on a fresh PostgreSQL database migrate it once,
// without colliding on the bookkeeping table.
func TestNodesStartingTogetherMigrateOnce(t *testing.T) {
	url := testenv.PostgresURL(t)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			s, err := sqlstore.Open(context.Background(), url, "")
			if err == nil {
				s.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a node failed to start: %v", err)
		}
	}
}

func TestAVerifiedDomainBelongsToOneOrganization(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		var orgs []int64
		for i := range 2 {
			u := newUser(t, s, fmt.Sprintf("owner%d@example.com", i))
			o := &gardien.Organization{Name: "Org", CreatedAt: t0}
			if err := s.CreateOrganization(ctx, o, u.ID, &gardien.Event{Time: t0, Type: "org.created"}); err != nil {
				t.Fatal(err)
			}
			c := &gardien.SSOConnection{OrgID: o.ID, Protocol: "oidc", ClientSecretSealed: []byte{1, 2}, UpdatedAt: t0,
				Domains: []gardien.SSODomain{{Domain: "example.com", Token: fmt.Sprint("t", i)}}}
			if err := s.SaveSSOConnection(ctx, c, &gardien.Event{Time: t0, Type: "sso.changed"}); err != nil {
				t.Fatal(err)
			}
			orgs = append(orgs, o.ID)
		}
		ev := &gardien.Event{Time: t0, Type: "sso.domain_verified"}
		if err := s.VerifySSODomain(ctx, orgs[0], "example.com", t0, ev); err != nil {
			t.Fatal(err)
		}
		if err := s.VerifySSODomain(ctx, orgs[1], "example.com", t0, ev); !errors.Is(err, gardien.ErrDuplicate) {
			t.Fatalf("second organization verifying the domain: %v, want ErrDuplicate", err)
		}
		if err := s.VerifySSODomain(ctx, orgs[0], "example.com", t0, ev); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("verifying twice: %v, want ErrNotFound", err)
		}
		c, err := s.SSOConnection(ctx, orgs[0])
		if err != nil || !c.Domains[0].Verified() || string(c.ClientSecretSealed) != "\x01\x02" {
			t.Fatalf("connection read back: %+v %v", c, err)
		}
		// Dropping a domain from the list removes it; the connection goes whole.
		c.Domains = []gardien.SSODomain{{Domain: "other.example", Token: "x"}}
		if err := s.SaveSSOConnection(ctx, c, &gardien.Event{Time: t0, Type: "sso.changed"}); err != nil {
			t.Fatal(err)
		}
		if c, _ = s.SSOConnection(ctx, orgs[0]); len(c.Domains) != 1 || c.Domains[0].Domain != "other.example" {
			t.Fatalf("domains after saving a new list: %+v", c.Domains)
		}
		if err := s.DeleteSSOConnection(ctx, orgs[0], &gardien.Event{Time: t0, Type: "sso.deleted"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SSOConnection(ctx, orgs[0]); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("after delete: %v", err)
		}
		// Once the first organization let go, the second may verify it.
		if err := s.VerifySSODomain(ctx, orgs[1], "example.com", t0, ev); err != nil {
			t.Fatalf("after the first let go: %v", err)
		}
	})
}

// TestSQLiteReadersStayOpen: under concurrent reads no reader connection
// is closed for want of an idle slot (each reopening reads the schema and
// prepares statements again).
func TestSQLiteReadersStayOpen(t *testing.T) {
	s, err := sqlstore.Open(context.Background(), "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if err := s.Ping(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if st := s.PoolStats()["reader"]; st.MaxIdleClosed != 0 {
		t.Fatalf("%d reader connections closed for want of an idle slot (%d open)", st.MaxIdleClosed, st.OpenConnections)
	}
}

// TestAPersonsOrganizationsComeByName: the request lookups (session and
// person, memberships) of the first account, whose id is 1, and of the
// next; the organizations by name, each with the person's role.
func TestAPersonsOrganizationsComeByName(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		first, second := newUser(t, s, "ada@example.com"), newUser(t, s, "bob@example.com")
		for _, name := range []string{"Zeta", "Acme"} {
			o := &gardien.Organization{Name: name, CreatedAt: t0}
			if err := s.CreateOrganization(ctx, o, first.ID, &gardien.Event{Time: t0, Type: "org.created"}); err != nil {
				t.Fatal(err)
			}
		}
		for _, u := range []*gardien.User{first, second, first} {
			ms, err := s.Memberships(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range ms {
				got = append(got, m.Name+" "+string(m.Role))
			}
			want := "[Acme owner Zeta owner]"
			if u == second {
				want = "[]"
			}
			if fmt.Sprint(got) != want {
				t.Fatalf("%s: %v, want %s", u.Email, got, want)
			}
		}
	})
}

func TestSSOLoginsAndAnswersKeepTheirBrowserAndAreTakenOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		u := newUser(t, s, "owner@example.com")
		o := &gardien.Organization{Name: "Org", CreatedAt: t0}
		if err := s.CreateOrganization(ctx, o, u.ID, &gardien.Event{Time: t0, Type: "org.created"}); err != nil {
			t.Fatal(err)
		}
		l := &gardien.SSOLogin{OrgID: o.ID, Nonce: "n", VerifierSealed: []byte{1}, ReturnTo: "/x", BrowserHash: hash("browser"), ExpiresAt: t0.Add(time.Minute)}
		if err := s.CreateSSOLogin(ctx, l, hash("state")); err != nil {
			t.Fatal(err)
		}
		got, err := s.ConsumeSSOLogin(ctx, hash("state"), t0)
		if err != nil || string(got.BrowserHash) != string(hash("browser")) || got.ReturnTo != "/x" {
			t.Fatalf("login read back: %+v %v", got, err)
		}
		if _, err := s.ConsumeSSOLogin(ctx, hash("state"), t0); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("a login taken twice: %v", err)
		}
		id := gardien.SSOIdentity{Subject: "s", Email: "ada@example.com", EmailVerified: true, Name: "Ada", Context: "saml"}
		for i, b := range [][]byte{hash("browser"), nil} { // nil: a login the provider started
			tok := hash(fmt.Sprint("answer", i))
			if err := s.CreateSSOAnswer(ctx, tok, &gardien.SSOAnswer{OrgID: o.ID, BrowserHash: b, Identity: id, ReturnTo: "/y", ExpiresAt: t0.Add(time.Minute)}); err != nil {
				t.Fatal(err)
			}
			a, err := s.ConsumeSSOAnswer(ctx, tok, t0)
			if err != nil || a.Identity != id || a.OrgID != o.ID || a.ReturnTo != "/y" || string(a.BrowserHash) != string(b) {
				t.Fatalf("answer read back: %+v %v", a, err)
			}
			if _, err := s.ConsumeSSOAnswer(ctx, tok, t0); !errors.Is(err, gardien.ErrNotFound) {
				t.Fatalf("an answer taken twice: %v", err)
			}
		}
		late := &gardien.SSOAnswer{OrgID: o.ID, Identity: id, ExpiresAt: t0.Add(time.Minute)}
		s.CreateSSOAnswer(ctx, hash("late"), late)
		if _, err := s.ConsumeSSOAnswer(ctx, hash("late"), t0.Add(time.Minute)); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("a late answer: %v", err)
		}
		s.CreateSSOAnswer(ctx, hash("stale"), late)
		// An IdP-initiated assertion is taken once, per organization.
		if err := s.UseSAMLAssertion(ctx, o.ID, "id-1", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.UseSAMLAssertion(ctx, o.ID, "id-1", t0.Add(time.Minute)); !errors.Is(err, gardien.ErrDuplicate) {
			t.Fatalf("an assertion used twice: %v", err)
		}
		if err := s.DeleteStaleSSOLogins(ctx, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.UseSAMLAssertion(ctx, o.ID, "id-1", t0.Add(2*time.Hour)); err != nil {
			t.Fatalf("an expired assertion's ID is let go: %v", err)
		}
		if _, err := s.ConsumeSSOAnswer(ctx, hash("stale"), t0); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("a stale answer left: %v", err)
		}
	})
}

// No id a URL, a foreign key or an audit line names is handed out again:
// the newest organization, person or session deleted, the next one gets
// another id.
func TestIdsAreNeverHandedOutAgain(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		owner := newUser(t, s, "owner@example.com")
		ev := func(typ string) *gardien.Event { return &gardien.Event{Time: t0, Type: typ} }
		first := &gardien.Organization{Name: "First", CreatedAt: t0}
		if err := s.CreateOrganization(ctx, first, owner.ID, ev("org.created")); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteOrganization(ctx, first.ID, ev("org.deleted")); err != nil {
			t.Fatal(err)
		}
		next := &gardien.Organization{Name: "Next", CreatedAt: t0}
		if err := s.CreateOrganization(ctx, next, owner.ID, ev("org.created")); err != nil {
			t.Fatal(err)
		}
		if next.ID == first.ID {
			t.Errorf("a deleted organization's id %d was given to the next one", first.ID)
		}
		gone := newUser(t, s, "gone@example.com")
		if err := s.DeleteUser(ctx, gone.ID, ev("account.deleted")); err != nil {
			t.Fatal(err)
		}
		if again := newUser(t, s, "again@example.com"); again.ID == gone.ID {
			t.Errorf("a deleted person's id %d was given to the next one", gone.ID)
		}
		sess := &gardien.Session{UserID: owner.ID, Level: gardien.LevelFull, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if err := s.CreateSession(ctx, sess, hash("s1")); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSession(ctx, sess.ID); err != nil {
			t.Fatal(err)
		}
		sess2 := &gardien.Session{UserID: owner.ID, Level: gardien.LevelFull, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if err := s.CreateSession(ctx, sess2, hash("s2")); err != nil {
			t.Fatal(err)
		}
		if sess2.ID == sess.ID {
			t.Errorf("an ended session's id %d was given to the next one", sess.ID)
		}
	})
}

// Known browsers: a new one after a first tells once, even from requests
// at once; a person who turned alerts off is not told; an account keeps
// its most recent browsers, so one long unused is new again.
func TestKnownBrowsers(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		u := newUser(t, s, "ada@example.com")
		if tell, err := s.SeeBrowser(ctx, u.ID, hash("first"), t0); err != nil || tell {
			t.Fatalf("the first browser: tell %v, %v", tell, err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		tells := 0
		for range 10 {
			wg.Go(func() {
				tell, err := s.SeeBrowser(ctx, u.ID, hash("second"), t0)
				if err != nil {
					t.Error(err)
				}
				if tell {
					mu.Lock()
					tells++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if tells != 1 {
			t.Fatalf("%d of 10 concurrent logins of a new browser told, want 1", tells)
		}
		for i := range 25 {
			if _, err := s.SeeBrowser(ctx, u.ID, hash(fmt.Sprint("b", i)), t0.Add(time.Duration(i+1)*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		if tell, _ := s.SeeBrowser(ctx, u.ID, hash("first"), t0.Add(30*time.Hour)); !tell {
			t.Fatal("a browser pushed out by 25 newer ones is still known")
		}
		if err := s.SetSignInAlerts(ctx, u.ID, false); err != nil {
			t.Fatal(err)
		}
		if tell, _ := s.SeeBrowser(ctx, u.ID, hash("third"), t0.Add(31*time.Hour)); tell {
			t.Fatal("told with the alerts off")
		}
		if on, err := s.SignInAlerts(ctx, u.ID); err != nil || on {
			t.Fatalf("alerts %v, %v", on, err)
		}
	})
}
