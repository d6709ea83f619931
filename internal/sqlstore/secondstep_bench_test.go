package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
)

// BenchmarkSecondStepQueries runs the database's part of a second step by
// code as the server does it, eight at a time, on 20,000 people with 2FA
// (N=… in the environment for another count): the session, its person and
// the sealed secret read, the step used up, the tries written, the session
// promoted: one transaction. Beside the time it reports the process's CPU
// time per step (cpu-µs/step), the figure that stays when the machine is
// noisy, as gardien-load reads it for the whole server.
func BenchmarkSecondStepQueries(b *testing.B) {
	n := 20000
	if v, _ := strconv.Atoi(os.Getenv("N")); v > 0 {
		n = v
	}
	s, db := withMembers(b, b.TempDir(), n)
	defer s.Close()
	if _, err := db.Exec(`INSERT INTO two_factor (user_id, secret, created_at, enabled_at, last_step) SELECT id, randomblob(60), 0, 0, 0 FROM users`); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	// The k-th step is person k%n+1's round k/n: the token of that round
	// is rotated to the next one's (withMembers gave round 0).
	token := func(id, round int) []byte {
		if round == 0 {
			return hash(fmt.Sprint(id))
		}
		return hash(fmt.Sprint(id, "/", round))
	}
	var next atomic.Int64
	b.SetParallelism(4) // eight on two cores, as gardien-load's workers
	cpu0 := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := int(next.Add(1)) - 1
			id, round := k%n+1, k/n
			now := time.Now()
			key := auth.SessionKey{ID: int64(id), Hash: token(id, round)}
			err := s.SecondFactor(ctx, func(tx auth.SecondFactorTx) error {
				sess, u, f, err := tx.StepOf(ctx, key)
				if err != nil {
					return err
				}
				if _, err := tx.UseStep(ctx, u.ID, int64(k+1)); err != nil {
					return err
				}
				if err := tx.SetTries(ctx, u.ID, f.Tries, now); err != nil {
					return err
				}
				return tx.Promote(ctx, auth.Promotion{SessionID: sess.ID, Key: key, SecretHash: token(id, round+1), Level: gardien.LevelFull, Expires: now.Add(time.Hour),
					Event: &gardien.Event{Time: now, Type: gardien.EventTwoFactorPassed, UserID: u.ID, ActorID: u.ID}})
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/step")
}

// cpuTime is the process's CPU time so far (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
