package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitQueued waits until n callers wait in q.
func waitQueued(t *testing.T, q *writerQueue, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		q.mu.Lock()
		got := len(q.line)
		q.mu.Unlock()
		if got == n {
			return
		}
	}
	t.Fatalf("%d callers never queued", n)
}

// TestTheWriterServesInOrder: callers in their order of arrival.
func TestTheWriterServesInOrder(t *testing.T) {
	q := &writerQueue{}
	release, err := q.take(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	for i, who := range []string{"first", "second", "third", "fourth", "fifth"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := q.take(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, who)
			mu.Unlock()
			r()
		}()
		waitQueued(t, q, i+1)
	}
	release()
	wg.Wait()
	if got, want := fmt.Sprint(order), "[first second third fourth fifth]"; got != want {
		t.Fatalf("served %s, want %s", got, want)
	}
	if q.held {
		t.Fatal("the writer is still held when everyone is done")
	}
}

// TestAWaiterWhoseTimeRunsOutLeavesTheLine: its context's error, and the
// ones behind it are served.
func TestAWaiterWhoseTimeRunsOutLeavesTheLine(t *testing.T) {
	q := &writerQueue{}
	release, _ := q.take(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := q.take(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the deadline", err)
	}
	done := make(chan struct{})
	go func() {
		r, err := q.take(context.Background())
		if err == nil {
			r()
		}
		close(done)
	}()
	waitQueued(t, q, 1)
	release()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the caller behind the one that left was never served")
	}
}

// TestTheWriterHasOneHolderAtATime: many callers at once, some giving up;
// never two holders, and everyone is answered.
func TestTheWriterHasOneHolderAtATime(t *testing.T) {
	q := &writerQueue{}
	var holders, served, gaveUp atomic.Int64
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			if i%7 == 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, time.Duration(i%5)*100*time.Microsecond)
				defer cancel()
			}
			r, err := q.take(ctx)
			if err != nil {
				gaveUp.Add(1)
				return
			}
			if holders.Add(1) != 1 {
				t.Error("two holders of the writer at once")
			}
			time.Sleep(50 * time.Microsecond)
			holders.Add(-1)
			served.Add(1)
			r()
		}()
	}
	wg.Wait()
	if served.Load()+gaveUp.Load() != 200 || served.Load() < 150 {
		t.Fatalf("served %d, gave up %d of 200", served.Load(), gaveUp.Load())
	}
	if q.held || len(q.line) != 0 {
		t.Fatal("the writer is held or waited for when everyone is done")
	}
}
