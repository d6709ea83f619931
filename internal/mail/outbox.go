package mail

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/gardien/gardien"
)

// Queued is a mail in the outbox.
type Queued struct {
	Message
	ID       int64
	Attempts int // including the one under way
}

// OutboxStore keeps the outbox; internal/sqlstore implements it.
type OutboxStore interface {
	EnqueueMail(ctx context.Context, m Message, at time.Time) error
	NextMailDue(ctx context.Context) (time.Time, bool, error)
	ClaimMail(ctx context.Context, now, leaseEnd time.Time) (*Queued, error)
	MailSent(ctx context.Context, id int64) error
	MailFailed(ctx context.Context, id int64, next time.Time, reason string) error
}

// Outbox sends mails from the database: Send stores them (a killed process
// loses none), workers on any node claim and send them, a few at a time,
// trying again with growing waits when the server refuses.
type Outbox struct {
	Store  OutboxStore
	Sender Sender
	Log    *slog.Logger
	Now    func() time.Time

	wake chan struct{}
}

const (
	lease       = 2 * time.Minute
	maxAttempts = 8
)

// retryIn is the wait after the n-th failed try: 30 s, doubling, at most 6 h.
func retryIn(n int) time.Duration { return min(30*time.Second<<min(n-1, 10), 6*time.Hour) }

// NewOutbox returns an outbox ready to use.
func NewOutbox(store OutboxStore, sender Sender, log *slog.Logger, now func() time.Time) *Outbox {
	return &Outbox{Store: store, Sender: sender, Log: log, Now: now, wake: make(chan struct{}, 1)}
}

// Send stores m for the workers and wakes one.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	if err := o.Store.EnqueueMail(ctx, m, o.Now()); err != nil {
		return err
	}
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return nil
}

// Run sends mails with n workers until ctx ends; a mail being sent then is
// finished first.
func (o *Outbox) Run(ctx context.Context, n int) {
	done := make(chan struct{})
	for range n {
		go func() {
			defer func() { done <- struct{}{} }()
			o.work(ctx)
		}()
	}
	for range n {
		<-done
	}
}

func (o *Outbox) work(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for ctx.Err() == nil {
		if o.sendOne(context.WithoutCancel(ctx)) {
			continue
		}
		select {
		case <-ctx.Done():
		case <-o.wake:
		case <-tick.C:
		}
	}
}

// Drain sends what is due until nothing is, or ctx ends (commands, tests).
func (o *Outbox) Drain(ctx context.Context) {
	for ctx.Err() == nil && o.sendOne(ctx) {
	}
}

// sendOne sends one due mail; false when none was due.
func (o *Outbox) sendOne(ctx context.Context) bool {
	now := o.Now()
	if next, ok, err := o.Store.NextMailDue(ctx); err != nil {
		o.Log.Error("outbox", "err", err)
		return false
	} else if !ok || next.After(now) {
		return false
	}
	q, err := o.Store.ClaimMail(ctx, now, now.Add(lease))
	if err != nil {
		if !errors.Is(err, gardien.ErrNotFound) {
			o.Log.Error("outbox", "err", err)
		}
		return false
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	err = o.Sender.Send(sctx, q.Message)
	cancel()
	if err == nil {
		if err := o.Store.MailSent(ctx, q.ID); err != nil {
			o.Log.Error("outbox", "err", err)
		}
		return true
	}
	next := o.Now().Add(retryIn(q.Attempts))
	if q.Attempts >= maxAttempts {
		next = time.Unix(1<<40, 0) // kept for an operator to see, never tried again
		o.Log.Error("mail given up", "mail_id", q.ID, "attempts", q.Attempts, "err", err)
	} else {
		o.Log.Warn("mail not sent, will try again", "mail_id", q.ID, "attempt", q.Attempts, "retry_in", retryIn(q.Attempts), "err", err)
	}
	if err := o.Store.MailFailed(ctx, q.ID, next, err.Error()); err != nil {
		o.Log.Error("outbox", "err", err)
	}
	return true
}
