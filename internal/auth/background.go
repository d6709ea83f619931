package auth

import (
	"context"
	"sync"
	"time"
)

// CleanupStore deletes what has outlived its use, in the background.
type CleanupStore interface {
	DeleteExpiredSessions(ctx context.Context, now, idleSince time.Time) (int64, error)
	DeleteStaleTokens(ctx context.Context, before time.Time) (int64, error)
	DeleteOldTries(ctx context.Context, before time.Time) error
	DeleteStaleSSOLogins(ctx context.Context, now time.Time) error
	// DeleteStaleGrants deletes what the OpenID Provider and forward-auth
	// keep past its use: sign-ins that lapsed (their apps told, when they
	// had to be), expired refresh tokens and passes, and signing keys
	// expired before then.
	DeleteStaleGrants(ctx context.Context, now, before time.Time) (int64, error)
}

// background runs work a request hands off (a reset mail's lookup, a
// reminder to a whole organization): a few at a time, tracked, so that
// shutdown waits for it (Wait) instead of cutting it off.
type background struct {
	wg      sync.WaitGroup
	slots   chan struct{} // one per job running
	mu      sync.Mutex
	pending int
}

// Background work: at most maxRunning jobs at once, maxPending waiting.
const (
	maxRunning = 4
	maxPending = 10_000
)

// later runs fn in the background with a context that outlives the
// request's. It returns false, running nothing, when too much waits
// already (a flood): the caller's answer must not depend on it.
func (s *Service) later(ctx context.Context, name string, fn func(ctx context.Context)) bool {
	b := &s.bg
	b.mu.Lock()
	if b.slots == nil {
		b.slots = make(chan struct{}, maxRunning)
	}
	if b.pending >= maxPending {
		b.mu.Unlock()
		s.Log.WarnContext(ctx, "background work dropped: too much waits", "job", name)
		return false
	}
	b.pending++
	b.wg.Add(1)
	slots := b.slots
	b.mu.Unlock()
	ctx = context.WithoutCancel(ctx)
	go func() {
		defer b.wg.Done()
		slots <- struct{}{}
		defer func() { <-slots }()
		b.mu.Lock()
		b.pending--
		b.mu.Unlock()
		fn(ctx)
	}()
	return true
}

// Wait waits until background work is done, or ctx ends.
func (s *Service) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.bg.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
