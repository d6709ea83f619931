package sqlstore

import (
	"context"
	"sync"
)

// writerQueue hands SQLite's one writer connection to its callers in
// order, the ends of operations first.
//
// database/sql gives a freed connection to a waiter picked at random, so
// under load a few calls wait far longer than the rest. A plain queue was
// tried and made the tail worse (docs/benchmarks.md) while a login's second
// step took the writer twice — its try counted, then its pass — and went
// to the back of the queue between the two. A step by code now takes it
// once (TrySecondStep); one by recovery code still takes it twice, and its
// pass, which ends an operation already under way, goes before calls that
// begin one.
type writerQueue struct {
	mu    sync.Mutex
	held  bool
	ends  []chan struct{} // waiting to end an operation: served first
	begin []chan struct{}
}

// take waits for the writer, or for ctx to end; release gives it to the
// next caller and must be called once.
func (q *writerQueue) take(ctx context.Context, end bool) (release func(), err error) {
	q.mu.Lock()
	if !q.held {
		q.held = true
		q.mu.Unlock()
		return q.release, nil
	}
	turn := make(chan struct{})
	if end {
		q.ends = append(q.ends, turn)
	} else {
		q.begin = append(q.begin, turn)
	}
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
	for _, line := range []*[]chan struct{}{&q.ends, &q.begin} {
		if len(*line) > 0 {
			turn := (*line)[0]
			*line = (*line)[1:]
			close(turn)
			return
		}
	}
	q.held = false
}

// drop takes a waiter out of its line; false if it was given the turn.
func (q *writerQueue) drop(turn chan struct{}) bool {
	for _, line := range []*[]chan struct{}{&q.ends, &q.begin} {
		for i, t := range *line {
			if t == turn {
				*line = append((*line)[:i], (*line)[i+1:]...)
				return true
			}
		}
	}
	return false
}
