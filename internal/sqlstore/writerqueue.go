package sqlstore

import (
	"context"
	"sync"
)

// writerQueue hands SQLite's one writer connection to its callers in
// their order of arrival: database/sql gives a freed connection to a
// waiter picked at random, so under load a few calls waited far longer
// than the rest. Every operation takes the writer once (a proof of a second
// factor is one transaction, SecondFactor), so no caller goes to the back
// of the line half-way through.
type writerQueue struct {
	mu   sync.Mutex
	held bool
	line []chan struct{}
}

// take waits for the writer, or for ctx to end; release gives it to the
// next caller and must be called once.
func (q *writerQueue) take(ctx context.Context) (release func(), err error) {
	q.mu.Lock()
	if !q.held {
		q.held = true
		q.mu.Unlock()
		return q.release, nil
	}
	turn := make(chan struct{})
	q.line = append(q.line, turn)
	q.mu.Unlock()
	select {
	case <-turn:
		return q.release, nil
	case <-ctx.Done():
		q.mu.Lock()
		defer q.mu.Unlock()
		if q.drop(turn) {
			return nil, ctx.Err()
		}
		// Given the turn as the context ended: pass it on.
		q.releaseLocked()
		return nil, ctx.Err()
	}
}

func (q *writerQueue) release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.releaseLocked()
}

func (q *writerQueue) releaseLocked() {
	if len(q.line) > 0 {
		turn := q.line[0]
		q.line = q.line[1:]
		close(turn)
		return
	}
	q.held = false
}

// drop takes a waiter out of the line; false if it was given the turn.
func (q *writerQueue) drop(turn chan struct{}) bool {
	for i, t := range q.line {
		if t == turn {
			q.line = append(q.line[:i], q.line[i+1:]...)
			return true
		}
	}
	return false
}
