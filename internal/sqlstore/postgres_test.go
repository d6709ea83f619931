package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/sqlstore"
	"github.com/gardien/gardien/internal/testenv"
)

// TestAHungDatabaseFailsLookupsInTime: a lookup's context cannot be
// cancelled (it is cheaper so), so when PostgreSQL stops answering the
// pool must end it itself — whether the lookup finds a connection just
// used, one idle long enough to be pinged first, or none and dials.
func TestAHungDatabaseFailsLookupsInTime(t *testing.T) {
	t.Parallel()
	url, db := testenv.PostgresProxy(t)
	s, err := sqlstore.Open(context.Background(), url, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Restore(); s.Close() })
	const timeout = 300 * time.Millisecond
	s.SetTimeout(timeout)
	lookup := func(what string) error {
		t.Helper()
		done := make(chan error, 1)
		go func() {
			_, err := s.Memberships(context.Background(), 1)
			done <- err
		}()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * timeout):
			t.Fatalf("%s: the lookup still waits for the hung database", what)
			return nil
		}
	}
	wantUnavailable := func(what string) {
		t.Helper()
		if err := lookup(what); !errors.Is(err, gardien.ErrUnavailable) {
			t.Fatalf("%s: %v, want ErrUnavailable", what, err)
		}
	}
	u := &gardien.User{Email: "ada@example.com", CreatedAt: time.Now()}
	if err := s.CreateUser(context.Background(), u, u.Email, "-"); err != nil {
		t.Fatal(err)
	}
	// Twice: pgx pings a connection at its first reuse.
	for range 2 {
		if err := lookup("before"); err != nil {
			t.Fatal(err)
		}
	}
	// A lookup's deadline ends with it: a write on the same connection,
	// later, is not cut by it.
	time.Sleep(timeout + 100*time.Millisecond)
	if err := s.SetEmailVerified(context.Background(), u.ID, time.Now()); err != nil {
		t.Fatalf("a write on a healthy database, later than the last lookup's deadline: %v", err)
	}
	db.Freeze()
	wantUnavailable("on a connection just used")
	wantUnavailable("on a new connection")
	db.Restore()
	if err := lookup("after"); err != nil {
		t.Fatalf("after the database came back: %v", err)
	}
	// pgx pings a connection idle for over a second before using it.
	time.Sleep(1100 * time.Millisecond)
	db.Freeze()
	wantUnavailable("on a connection idle long enough to be pinged")
	db.Restore()
	if err := lookup("at last"); err != nil {
		t.Fatalf("after the database came back again: %v", err)
	}
}
