package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/sqlstore"
)

// factorOf reads a person's factor in a transaction of its own.
func factorOf(t *testing.T, s *sqlstore.Store, userID int64) *auth.Factor {
	t.Helper()
	var f *auth.Factor
	if err := s.SecondFactor(context.Background(), func(tx auth.SecondFactorTx) (err error) {
		f, err = tx.FactorOf(context.Background(), userID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return f
}

func useRecoveryCode(s *sqlstore.Store, userID int64, code string) (left int, err error) {
	err = s.SecondFactor(context.Background(), func(tx auth.SecondFactorTx) error {
		left, err = tx.UseRecoveryCode(context.Background(), userID, hash(code), t0)
		return err
	})
	return left, err
}

var errUsed = errors.New("step used")

// pass is a login's second step by a right code of step, as auth runs it:
// the session and its factor read, the step used up, the tries written
// with the login, the session promoted with its event. errUsed, and
// nothing changed, when the step was used already.
func pass(s *sqlstore.Store, key auth.SessionKey, step int64, newSecret []byte, at time.Time) error {
	ctx := context.Background()
	return s.SecondFactor(ctx, func(tx auth.SecondFactorTx) error {
		sess, u, f, err := tx.StepOf(ctx, key)
		if err != nil {
			return err
		}
		if fresh, err := tx.UseStep(ctx, u.ID, step); err != nil || !fresh {
			return errors.Join(err, errUsed)
		}
		f.Tries.Failures = 0
		if err := tx.SetTries(ctx, u.ID, f.Tries, at); err != nil {
			return err
		}
		return tx.Promote(ctx, auth.Promotion{SessionID: sess.ID, Key: key, SecretHash: newSecret, Level: gardien.LevelFull,
			Expires: at.Add(12 * time.Hour), Event: &gardien.Event{Time: at, Type: "two_factor.passed", UserID: u.ID}})
	})
}

func TestTOTPStepIsAcceptedOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		u := newUser(t, s, "ada@example.com")
		enable(t, s, u, 100)
		use := func(step int64) bool {
			var fresh bool
			if err := s.SecondFactor(ctx, func(tx auth.SecondFactorTx) (err error) {
				fresh, err = tx.UseStep(ctx, u.ID, step)
				return err
			}); err != nil {
				t.Error(err)
			}
			return fresh
		}
		if use(100) {
			t.Fatal("the activation's step accepted again")
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				if use(101) {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d of 20 concurrent uses of one step accepted, want 1", wins.Load())
		}
		if use(100) {
			t.Fatal("an older step accepted after a newer one")
		}
		if !use(102) {
			t.Fatal("the next step refused")
		}
	})
}

// Of twenty sessions passing their second step with the code of one time
// step at once, one passes: its session promoted, the login recorded, one
// event. The others change nothing.
func TestASecondStepUsesItsCodeOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		u := newUser(t, s, "ada@example.com")
		enable(t, s, u, 100)
		try := func(i int, step int64) (*gardien.Session, error) {
			sess := &gardien.Session{UserID: u.ID, Level: gardien.LevelSecondFactor, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
			name := fmt.Sprint("second", step, i)
			if err := s.CreateSession(ctx, sess, hash(name)); err != nil {
				t.Error(err)
			}
			return sess, pass(s, auth.SessionKey{ID: sess.ID, Hash: hash(name)}, step, hash(fmt.Sprint("full", step, i)), t0.Add(time.Minute))
		}
		if _, err := try(0, 100); !errors.Is(err, errUsed) {
			t.Fatalf("the activation's step passes a login: %v", err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				sess, err := try(i, 101)
				got, _ := s.SessionByKey(ctx, auth.SessionKey{ID: sess.ID, Hash: hash(fmt.Sprint("full", 101, i))})
				switch {
				case err == nil && got != nil && got.ID == sess.ID && got.Level == gardien.LevelFull:
					wins.Add(1)
				case errors.Is(err, errUsed) && got == nil:
				default:
					t.Errorf("pass %d: %v, session %+v", i, err, got)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d of 20 second steps with one code passed, want 1", wins.Load())
		}
		if ev, _ := s.UserEvents(ctx, u.ID, 50); len(ev) != 2 || ev[0].Type != "two_factor.passed" {
			t.Fatalf("events: %+v", ev)
		}
		if rows, _ := s.ListUsers(ctx, "ada", 1); len(rows) != 1 || !rows[0].LastLogin.Equal(t0.Add(time.Minute)) {
			t.Fatalf("last login %+v, want %v", rows, t0.Add(time.Minute))
		}
		if _, err := try(0, 102); err != nil {
			t.Fatalf("the next step: %v", err)
		}
	})
}

// TestAPersonsProofsAreJudgedOneAfterAnother: the person's row is locked
// from the read of their factor to the commit, so that twenty proofs at
// once each see the counts the one before wrote — none is lost, on either
// database — and what one writes is read back as written.
func TestAPersonsProofsAreJudgedOneAfterAnother(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		u := newUser(t, s, "ada@example.com")
		enable(t, s, u, 100)
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				err := s.SecondFactor(ctx, func(tx auth.SecondFactorTx) error {
					f, err := tx.FactorOf(ctx, u.ID)
					if err != nil {
						return err
					}
					tr := f.Tries
					tr.Failures++
					tr.DayFailures++
					tr.LastFailure = t0.Add(time.Duration(i) * time.Second)
					return tx.SetTries(ctx, u.ID, tr, time.Time{})
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if f := factorOf(t, s, u.ID); f.Tries.Failures != 20 || f.Tries.DayFailures != 20 {
			t.Fatalf("after 20 proofs at once: %+v, want 20 failures counted", f.Tries)
		}
		want := auth.Tries{Failures: 1, LockLevel: 2, DayFailures: 3, DayStart: t0, LastFailure: t0.Add(time.Minute), LockedUntil: t0.Add(time.Hour)}
		if err := s.SecondFactor(ctx, func(tx auth.SecondFactorTx) error { return tx.SetTries(ctx, u.ID, want, time.Time{}) }); err != nil {
			t.Fatal(err)
		}
		if f := factorOf(t, s, u.ID); f.Tries != want {
			t.Fatalf("tries read back %+v, want %+v", f.Tries, want)
		}
	})
}

// TestAProofIsOneTransaction: what fn wrote is undone when it fails (a
// step used, tries written, an event recorded); StepOf finds a session by
// its cookie's key only, with its person and their factor (no secret
// without 2FA).
func TestAProofIsOneTransaction(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		u := newUser(t, s, "ada@example.com")
		enable(t, s, u, 100, "a")
		sess := &gardien.Session{UserID: u.ID, Level: gardien.LevelSecondFactor, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if err := s.CreateSession(ctx, sess, hash("ada")); err != nil {
			t.Fatal(err)
		}
		key := auth.SessionKey{ID: sess.ID, Hash: hash("ada")}
		events := func() int {
			ev, err := s.UserEvents(ctx, u.ID, 50)
			if err != nil {
				t.Fatal(err)
			}
			return len(ev)
		}
		before := events()
		refusal := errors.New("refused")
		err := s.SecondFactor(ctx, func(tx auth.SecondFactorTx) error {
			got, gotUser, f, err := tx.StepOf(ctx, key)
			if err != nil {
				return err
			}
			if got.ID != sess.ID || gotUser.ID != u.ID || string(f.Sealed) != "sealed" {
				t.Errorf("read session %d of %d with secret %q", got.ID, gotUser.ID, f.Sealed)
			}
			if _, err := tx.UseStep(ctx, u.ID, 101); err != nil {
				return err
			}
			if _, err := tx.UseRecoveryCode(ctx, u.ID, hash("a"), t0); err != nil {
				return err
			}
			if err := tx.SetTries(ctx, u.ID, auth.Tries{Failures: 3, LastFailure: t0}, t0); err != nil {
				return err
			}
			if err := tx.Record(ctx, &gardien.Event{Time: t0, Type: "two_factor.code_failed", UserID: u.ID}); err != nil {
				return err
			}
			return refusal
		})
		if !errors.Is(err, refusal) {
			t.Fatalf("fn's error: %v, want it returned", err)
		}
		if f := factorOf(t, s, u.ID); f.Tries.Failures != 0 {
			t.Fatalf("tries kept from a proof rolled back: %+v", f.Tries)
		}
		if n := events(); n != before {
			t.Fatalf("%d events kept from a proof rolled back", n-before)
		}
		if left, err := useRecoveryCode(s, u.ID, "a"); err != nil || left != 0 {
			t.Fatalf("the recovery code after a proof rolled back: %d left, %v", left, err)
		}
		if err := pass(s, key, 101, hash("ada full"), t0); err != nil {
			t.Fatalf("step 101 after a proof rolled back: %v", err)
		}

		bea := newUser(t, s, "bea@example.com")
		beas := &gardien.Session{UserID: bea.ID, Level: gardien.LevelSecondFactor, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if err := s.CreateSession(ctx, beas, hash("bea")); err != nil {
			t.Fatal(err)
		}
		if err := s.SecondFactor(ctx, func(tx auth.SecondFactorTx) error {
			_, _, f, err := tx.StepOf(ctx, auth.SessionKey{ID: beas.ID, Hash: hash("bea")})
			if err == nil && f.Sealed != nil {
				t.Errorf("a person without 2FA has a secret: %q", f.Sealed)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, k := range []auth.SessionKey{{ID: beas.ID, Hash: hash("another")}, {ID: beas.ID + 1000, Hash: hash("bea")}, key} {
			err := s.SecondFactor(ctx, func(tx auth.SecondFactorTx) error {
				_, _, _, err := tx.StepOf(ctx, k)
				return err
			})
			if !errors.Is(err, gardien.ErrNotFound) {
				t.Fatalf("key %+v, which opens no session: %v, want not found", k, err)
			}
		}
	})
}

// TestASessionIsPromotedOnlyWhileItsCookieOpensIt: a second step promotes
// its session only while the cookie's key it was read with still opens it.
// Two requests of one cookie with two of the person's codes (the step
// before and the current one) can both pass their checks; the one whose
// session another promoted first says not found — its cookie opens nothing
// now — and, failing, is rolled back whole: no step used, no event.
func TestASessionIsPromotedOnlyWhileItsCookieOpensIt(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		u := newUser(t, s, "ada@example.com")
		enable(t, s, u, 100)
		at := t0.Add(time.Hour)
		sess := &gardien.Session{UserID: u.ID, Level: gardien.LevelSecondFactor, CreatedAt: at, LastSeenAt: at, ExpiresAt: at.Add(10 * time.Minute)}
		if err := s.CreateSession(ctx, sess, hash("a")); err != nil {
			t.Fatal(err)
		}
		key := auth.SessionKey{ID: sess.ID, Hash: hash("a")}
		ev, _ := s.UserEvents(ctx, u.ID, 50)
		err := s.SecondFactor(ctx, func(tx auth.SecondFactorTx) error {
			if _, _, _, err := tx.StepOf(ctx, key); err != nil {
				return err
			}
			if _, err := tx.UseStep(ctx, u.ID, 101); err != nil {
				return err
			}
			// A promotion with the key first (as another request's
			// would be): this one's key opens the session no more.
			other := key
			other.Hash = hash("promoted by another")
			if err := tx.Promote(ctx, auth.Promotion{SessionID: sess.ID, Key: key, SecretHash: other.Hash, Level: gardien.LevelFull,
				Expires: at.Add(12 * time.Hour), Event: &gardien.Event{Time: at, Type: "two_factor.passed", UserID: u.ID}}); err != nil {
				return err
			}
			return tx.Promote(ctx, auth.Promotion{SessionID: sess.ID, Key: key, SecretHash: hash("mine"), Level: gardien.LevelFull,
				Expires: at.Add(12 * time.Hour), Event: &gardien.Event{Time: at, Type: "two_factor.passed", UserID: u.ID}})
		})
		if !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("a pass of a session promoted meanwhile: %v, want not found", err)
		}
		if after, _ := s.UserEvents(ctx, u.ID, 50); len(after) != len(ev) {
			t.Fatalf("%d events kept from a refused pass", len(after)-len(ev))
		}
		if err := pass(s, key, 101, hash("full"), at); err != nil {
			t.Fatalf("step 101 after the refused pass: %v", err)
		}
		if err := pass(s, key, 102, hash("again"), at); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("a promoted session's old cookie: %v, want not found", err)
		}

		// Ten requests of one cookie at once, each with a code of its own
		// step: one promotes the session; the others find it promoted (or
		// their step passed by a later one) and change nothing.
		sess = &gardien.Session{UserID: u.ID, Level: gardien.LevelSecondFactor, CreatedAt: at, LastSeenAt: at, ExpiresAt: at.Add(10 * time.Minute)}
		if err := s.CreateSession(ctx, sess, hash("b")); err != nil {
			t.Fatal(err)
		}
		key = auth.SessionKey{ID: sess.ID, Hash: hash("b")}
		var wins atomic.Int32
		var winner atomic.Int64
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Go(func() {
				err := pass(s, key, int64(200+i), hash(fmt.Sprint("b", i)), at)
				switch {
				case err == nil:
					wins.Add(1)
					winner.Store(int64(i))
				case errors.Is(err, gardien.ErrNotFound) || errors.Is(err, errUsed):
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d of 10 requests of one cookie promoted its session, want 1", wins.Load())
		}
		if got, _ := s.SessionByKey(ctx, auth.SessionKey{ID: sess.ID, Hash: hash(fmt.Sprint("b", winner.Load()))}); got == nil || got.Level != gardien.LevelFull {
			t.Fatalf("the winner's secret does not open the session: %+v", got)
		}
	})
}
