package auth_test

import (
	"testing"
	"time"

	"github.com/gardien/gardien/internal/auth"
)

var (
	t0     = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	limits = auth.TryLimits{Consecutive: 5, Daily: 10, Day: 24 * time.Hour, LockFor: func(level int) time.Duration { return time.Minute << level }}
)

// fail counts n failures at at, checking that each was heard, and says
// until when the last one locked (zero: none).
func fail(t *testing.T, tr auth.Tries, n int, at time.Time) (auth.Tries, time.Time) {
	t.Helper()
	var locked bool
	for i := range n {
		if until := limits.RefusedUntil(tr, at); !until.IsZero() {
			t.Fatalf("failure %d of %d at %v refused until %v", i+1, n, at, until)
		}
		tr, locked = limits.Failed(tr, at)
	}
	if !locked {
		return tr, time.Time{}
	}
	return tr, tr.LockedUntil
}

// TestSecondFactorTriesAreLimited: five failures in a row lock for a
// minute, doubling with each lock in a row; ten in a day lock until the
// day is over; a day after the last failure, everything starts again.
func TestSecondFactorTriesAreLimited(t *testing.T) {
	tr, until := fail(t, auth.Tries{}, 4, t0)
	if !until.IsZero() {
		t.Fatalf("four failures locked until %v", until)
	}
	if tr, until = fail(t, tr, 1, t0); !until.Equal(t0.Add(time.Minute)) {
		t.Fatalf("the fifth failure locked until %v, want a minute", until)
	}
	if got := limits.RefusedUntil(tr, t0.Add(30*time.Second)); !got.Equal(t0.Add(time.Minute)) {
		t.Fatalf("a proof while locked: refused until %v, want the lock's end", got)
	}
	// After the lock, five more: ten in the day, locked until the day is
	// over, not for the next lock's two minutes.
	t1 := t0.Add(time.Minute)
	if tr, until = fail(t, tr, 5, t1); !until.Equal(t0.Add(24 * time.Hour)) {
		t.Fatalf("ten failures in a day locked until %v, want the day's end %v", until, t0.Add(24*time.Hour))
	}
	// A day after the last failure, the counts and the lock level start again.
	t3 := t1.Add(24*time.Hour + time.Second)
	if _, until = fail(t, tr, 5, t3); !until.Equal(t3.Add(time.Minute)) {
		t.Fatalf("a lock a day later until %v, want a minute", until)
	}
	// Locks in a row double (a day's count of failures out of the way).
	tr = auth.Tries{}
	for i := range 3 {
		at := t0.Add(time.Duration(i) * time.Hour)
		tr.DayFailures = 0
		if tr, until = fail(t, tr, 5, at); !until.Equal(at.Add(time.Minute << i)) {
			t.Fatalf("lock %d in a row until %v, want %v", i+1, until, time.Minute<<i)
		}
	}
}

// TestRightProofsDoNotReopenTheDailyLimit: four failures, one right proof,
// three times over: never five in a row, but the tenth of the day locks
// until the day is over.
func TestRightProofsDoNotReopenTheDailyLimit(t *testing.T) {
	var tr auth.Tries
	at := t0
	failures := 0
	for round := range 3 {
		for range 4 {
			if until := limits.RefusedUntil(tr, at); !until.IsZero() {
				if failures != 10 || !until.Equal(t0.Add(24*time.Hour)) {
					t.Fatalf("refused after %d failures until %v", failures, until)
				}
				return
			}
			var locked bool
			tr, locked = limits.Failed(tr, at)
			failures++
			if locked && failures != 10 {
				t.Fatalf("locked after %d failures", failures)
			}
			at = at.Add(time.Second)
		}
		if round < 2 {
			if until := limits.RefusedUntil(tr, at); !until.IsZero() {
				t.Fatalf("a right proof refused after %d failures", failures)
			}
			tr = limits.Passed(tr, at)
		}
	}
	t.Fatal("twelve failures in a day and no lock")
}
