// Package deliver sends what Gardien tells apps (back-channel logouts,
// webhooks) from the database: what is queued survives a killed process,
// workers on any node claim each delivery, and a target that does not
// answer is tried again with growing waits until the delivery expires.
package deliver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gardien/gardien"
)

// Store keeps the deliveries; internal/sqlstore implements it.
type Store interface {
	NextDeliveryDue(ctx context.Context) (time.Time, bool, error)
	ClaimDelivery(ctx context.Context, now, leaseEnd time.Time) (*gardien.Delivery, error)
	// DeliveryDone records a delivery sent (failure empty) or given up.
	DeliveryDone(ctx context.Context, d *gardien.Delivery, failure string) error
	DeliveryFailed(ctx context.Context, d *gardien.Delivery, next time.Time, reason string) error
}

// Sender sends one delivery of its kind; an error means try again later.
type Sender func(ctx context.Context, d *gardien.Delivery) error

// Worker sends deliveries.
type Worker struct {
	Store   Store
	Senders map[string]Sender
	// Queue, when set, runs before each look for work (back-channel
	// logouts of sessions that ended are queued there).
	Queue func(ctx context.Context) error
	// Failed, when set, hears of each failed try once it is recorded (a
	// webhook's endpoint is turned off after a day of them).
	Failed func(ctx context.Context, d *gardien.Delivery)
	Log    *slog.Logger
	Now    func() time.Time
	// Every is how often an idle worker looks again (default 2 s).
	Every time.Duration
	// Concurrency is how many deliveries are out at once (default 1): a
	// target that answers slowly holds one of them, not the others' (the
	// store's claim keeps what must go one at a time apart).
	Concurrency int
}

const lease = 2 * time.Minute

// retryIn is the wait after the n-th failed try: 10 s, doubling, at most 1 h.
func retryIn(n int) time.Duration { return min(10*time.Second<<min(n-1, 12), time.Hour) }

// Run sends deliveries until ctx ends; those being sent are finished
// first. One loop looks for work and claims it (the database sees one
// poller a node, whatever Concurrency); the sending is Concurrency at once.
func (w *Worker) Run(ctx context.Context) {
	every := w.Every
	if every == 0 {
		every = 2 * time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	slots := make(chan struct{}, max(w.Concurrency, 1))
	var sending sync.WaitGroup
	defer sending.Wait()
	for ctx.Err() == nil {
		if w.Queue != nil {
			if err := w.Queue(context.WithoutCancel(ctx)); err != nil {
				w.Log.Error("deliveries: queue", "err", err)
			}
		}
		for ctx.Err() == nil {
			select { // a free sender first
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			d, now, ok := w.claim(context.WithoutCancel(ctx))
			if !ok {
				<-slots
				break
			}
			sending.Go(func() {
				defer func() { <-slots }()
				w.send(context.WithoutCancel(ctx), d, now)
			})
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

// SendOne sends one due delivery; false when none was due.
func (w *Worker) SendOne(ctx context.Context) bool {
	d, now, ok := w.claim(ctx)
	if ok {
		w.send(ctx, d, now)
	}
	return ok
}

// claim takes a due delivery, if any.
func (w *Worker) claim(ctx context.Context) (*gardien.Delivery, time.Time, bool) {
	now := w.Now()
	if next, ok, err := w.Store.NextDeliveryDue(ctx); err != nil {
		w.Log.Error("deliveries", "err", err)
		return nil, now, false
	} else if !ok || next.After(now) {
		return nil, now, false
	}
	d, err := w.Store.ClaimDelivery(ctx, now, now.Add(lease))
	if err != nil {
		if !errors.Is(err, gardien.ErrNotFound) {
			w.Log.Error("deliveries", "err", err)
		}
		return nil, now, false
	}
	return d, now, true
}

// send sends a claimed delivery and records how it went.
func (w *Worker) send(ctx context.Context, d *gardien.Delivery, now time.Time) {
	send, ok := w.Senders[d.Kind]
	if !ok {
		w.done(ctx, d, fmt.Errorf("no sender for %q", d.Kind))
		return
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err := send(sctx, d)
	cancel()
	switch {
	case err == nil:
		w.done(ctx, d, nil)
	case !now.Add(retryIn(d.Attempts)).Before(d.ExpiresAt):
		w.done(ctx, d, fmt.Errorf("given up after %d tries: %w", d.Attempts, err))
	default:
		w.Log.Warn("delivery failed; trying again", "kind", d.Kind, "target", d.Target, "attempts", d.Attempts, "err", err)
		if ferr := w.Store.DeliveryFailed(ctx, d, now.Add(retryIn(d.Attempts)), err.Error()); ferr != nil {
			w.Log.Error("deliveries", "err", ferr)
		} else if w.Failed != nil {
			w.Failed(ctx, d)
		}
	}
}

func (w *Worker) done(ctx context.Context, d *gardien.Delivery, failure error) {
	reason := ""
	if failure != nil {
		w.Log.Error("delivery given up", "kind", d.Kind, "target", d.Target, "err", failure)
		reason = failure.Error()
	}
	if err := w.Store.DeliveryDone(ctx, d, reason); err != nil {
		w.Log.Error("deliveries", "err", err)
	} else if failure != nil && w.Failed != nil {
		w.Failed(ctx, d)
	}
}
