package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/secretbox"
)

// Sealed is a mail as the outbox keeps it: its address in clear (to send
// it, and for an operator to see), the rest sealed with the secret key,
// since a mail's link is a key to an account.
type Sealed struct {
	To      string
	Body    []byte
	Expires time.Time // no use sending it after then
}

// Queued is a mail claimed from the outbox.
type Queued struct {
	Sealed
	ID       int64
	Attempts int // including the one under way
	// Legacy holds a mail queued before bodies were sealed (Body empty).
	Legacy Message
}

// OutboxStore keeps the outbox; internal/sqlstore implements it.
type OutboxStore interface {
	EnqueueMail(ctx context.Context, m Sealed, at time.Time) error
	NextMailDue(ctx context.Context) (time.Time, bool, error)
	ClaimMail(ctx context.Context, now, leaseEnd time.Time) (*Queued, error)
	MailSent(ctx context.Context, id int64) error
	MailFailed(ctx context.Context, id int64, next time.Time, reason string) error
	MailGivenUp(ctx context.Context, id int64, reason string) error
	RetryMail(ctx context.Context, id int64, now time.Time) error
	PurgeMail(ctx context.Context, now, givenUpBefore time.Time) (int64, error)
}

// Outbox sends mails from the database: Send stores them sealed (a killed
// process loses none, a copy of the database reads none), workers on any
// node claim and send them, a few at a time, trying again with growing
// waits when the server refuses.
type Outbox struct {
	Store  OutboxStore
	Box    *secretbox.Box
	Sender Sender
	Log    *slog.Logger
	Now    func() time.Time

	wake chan struct{}
}

// noticeTTL is how long a mail without a link of limited life (a notice:
// 2FA turned on, a password changed) is worth sending.
const noticeTTL = 7 * 24 * time.Hour

// givenUpKept is how long the trace of a given-up mail stays for operators
// (its body goes earlier, when its link expires).
const givenUpKept = 30 * 24 * time.Hour

func sealContext(to string) []byte { return []byte("outbox:" + to) }

// seal turns a message into what the outbox keeps.
func (o *Outbox) seal(m Message) (Sealed, error) {
	b, err := json.Marshal(struct{ Subject, Text, HTML string }{m.Subject, m.Text, m.HTML})
	if err != nil {
		return Sealed{}, err
	}
	body, err := o.Box.Seal(b, sealContext(m.To))
	if err != nil {
		return Sealed{}, err
	}
	exp := m.Expires
	if exp.IsZero() {
		exp = o.Now().Add(noticeTTL)
	}
	return Sealed{To: m.To, Body: body, Expires: exp}, nil
}

// open turns a claimed mail back into a message.
func (o *Outbox) open(q *Queued) (Message, error) {
	if len(q.Body) == 0 {
		return q.Legacy, nil
	}
	b, err := o.Box.Open(q.Body, sealContext(q.To))
	if err != nil {
		return Message{}, err
	}
	var parts struct{ Subject, Text, HTML string }
	if err := json.Unmarshal(b, &parts); err != nil {
		return Message{}, err
	}
	return Message{To: q.To, Subject: parts.Subject, Text: parts.Text, HTML: parts.HTML, Expires: q.Expires}, nil
}

const (
	lease       = 2 * time.Minute
	maxAttempts = 8
)

// retryIn is the wait after the n-th failed try: 30 s, doubling, at most 6 h.
func retryIn(n int) time.Duration { return min(30*time.Second<<min(n-1, 10), 6*time.Hour) }

// NewOutbox returns an outbox ready to use; box seals what it keeps.
func NewOutbox(store OutboxStore, box *secretbox.Box, sender Sender, log *slog.Logger, now func() time.Time) *Outbox {
	return &Outbox{Store: store, Box: box, Sender: sender, Log: log, Now: now, wake: make(chan struct{}, 1)}
}

// Send stores m, sealed, for the workers and wakes one.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	sealed, err := o.seal(m)
	if err != nil {
		return fmt.Errorf("mail: seal: %w", err)
	}
	if err := o.Store.EnqueueMail(ctx, sealed, o.Now()); err != nil {
		return err
	}
	o.wakeOne()
	return nil
}

// wakeOne wakes a worker of this node, if one sleeps, for a mail due now.
func (o *Outbox) wakeOne() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
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
	if q.Expires.Unix() > 0 && !now.Before(q.Expires) {
		o.giveUp(ctx, q, errors.New("its link expired before it could be sent"))
		return true
	}
	m, err := o.open(q)
	if err != nil {
		o.giveUp(ctx, q, fmt.Errorf("cannot open it (was the secret key changed?): %w", err))
		return true
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	err = o.Sender.Send(sctx, m)
	cancel()
	if err == nil {
		if err := o.Store.MailSent(ctx, q.ID); err != nil {
			o.Log.Error("outbox", "err", err)
		}
		return true
	}
	if q.Attempts >= maxAttempts {
		o.giveUp(ctx, q, err)
		return true
	}
	o.Log.Warn("mail not sent, will try again", "mail_id", q.ID, "attempt", q.Attempts, "retry_in", retryIn(q.Attempts), "err", err)
	if err := o.Store.MailFailed(ctx, q.ID, o.Now().Add(retryIn(q.Attempts)), err.Error()); err != nil {
		o.Log.Error("outbox", "err", err)
	}
	return true
}

// ErrCannotRetry: a given-up mail whose body is gone, its link expired.
var ErrCannotRetry = errors.New("its link expired: the person must ask for a new mail")

// Retry sends a given-up mail again (an operator fixed the mail server),
// with its tries counted anew; the workers of any node pick it up.
// gardien.ErrNotFound when no given-up mail has that id, ErrCannotRetry
// when its link expired.
func (o *Outbox) Retry(ctx context.Context, id int64) error {
	if err := o.Store.RetryMail(ctx, id, o.Now()); err != nil {
		return err
	}
	o.wakeOne()
	return nil
}

// giveUp stops trying a mail: its trace stays for an operator, and its
// sealed body until its link expires, to be sent again (Retry).
func (o *Outbox) giveUp(ctx context.Context, q *Queued, why error) {
	o.Log.Error("mail given up", "mail_id", q.ID, "attempts", q.Attempts, "err", why)
	if err := o.Store.MailGivenUp(ctx, q.ID, why.Error()); err != nil {
		o.Log.Error("outbox", "err", err)
	}
}

// Purge deletes mails whose link expired and old traces of given-up mails
// (the server's sweeper calls it now and then).
func (o *Outbox) Purge(ctx context.Context) (int64, error) {
	now := o.Now()
	return o.Store.PurgeMail(ctx, now, now.Add(-givenUpKept))
}
