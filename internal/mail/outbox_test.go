package mail_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/mail"
	"github.com/gardien/gardien/internal/mail/mailtest"
	"github.com/gardien/gardien/internal/secretbox"
	"github.com/gardien/gardien/internal/sqlstore"
	"github.com/gardien/gardien/internal/testenv"
)

type failing struct{}

func (failing) Send(context.Context, mail.Message) error { return errors.New("connection refused") }

type counting struct {
	mu   sync.Mutex
	sent map[string]int
}

func (c *counting) Send(_ context.Context, m mail.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent[m.To]++
	return nil
}

func testBox(t testing.TB) *secretbox.Box {
	b, err := secretbox.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func eachStore(t *testing.T, fn func(t *testing.T, s *sqlstore.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		s, err := sqlstore.Open(context.Background(), "", t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		fn(t, s)
	})
	t.Run("postgres", func(t *testing.T) {
		s, err := sqlstore.Open(context.Background(), testenv.PostgresURL(t), "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		fn(t, s)
	})
}

// A mail the server could not send stays in the outbox, and the next
// process sends it: nothing is lost when the first one stops.
func TestOutboxKeepsMailsAcrossARestart(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		now := time.Now()
		clock := func() time.Time { return now }
		log := slog.New(slog.DiscardHandler)
		first := mail.NewOutbox(s, testBox(t), failing{}, log, clock)
		if err := first.Send(context.Background(), compose(t, "en")); err != nil {
			t.Fatal(err)
		}
		first.Drain(context.Background()) // fails, and keeps the mail for later
		// The process stops; another starts a minute later, with a mail server.
		now = now.Add(time.Minute)
		srv := mailtest.Start(t, mailtest.Plain)
		u, _ := url.Parse(srv.URL("smtp+insecure"))
		second := mail.NewOutbox(s, testBox(t), &mail.SMTP{URL: u, From: "g@example.com", Now: time.Now}, log, clock)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { second.Run(ctx, 2); close(done) }()
		if m := srv.Wait(t, "zoé@example.com"); m.Subject != "Validate your email" {
			t.Fatalf("subject %q", m.Subject)
		}
		cancel()
		<-done
		if _, ok, _ := s.NextMailDue(context.Background()); ok {
			t.Fatal("a sent mail is still in the outbox")
		}
	})
}

// Several workers on several nodes send each mail once.
func TestOutboxSendsEachMailOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		log := slog.New(slog.DiscardHandler)
		sender := &counting{sent: map[string]int{}}
		nodes := []*mail.Outbox{mail.NewOutbox(s, testBox(t), sender, log, time.Now), mail.NewOutbox(s, testBox(t), sender, log, time.Now)}
		for i := range 60 {
			m := compose(t, "en")
			m.To = fmt.Sprintf("p%d@example.com", i)
			if err := nodes[i%2].Send(context.Background(), m); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for _, n := range nodes {
			wg.Go(func() { n.Drain(context.Background()) })
			wg.Go(func() { n.Drain(context.Background()) })
		}
		wg.Wait()
		if len(sender.sent) != 60 {
			t.Fatalf("%d of 60 mails sent", len(sender.sent))
		}
		for to, n := range sender.sent {
			if n != 1 {
				t.Fatalf("%s got %d copies", to, n)
			}
		}
	})
}

// switchable refuses mails until it is fixed, then counts them.
type switchable struct {
	counting
	fixed bool
}

func (s *switchable) Send(ctx context.Context, m mail.Message) error {
	if !s.fixed {
		return failing{}.Send(ctx, m)
	}
	return s.counting.Send(ctx, m)
}

// A mail given up after its tries can be sent again once the mail server
// is fixed, while its link lives; not after, and not twice.
func TestAGivenUpMailCanBeSentAgainWhileItsLinkLives(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		now := time.Now()
		sender := &switchable{counting: counting{sent: map[string]int{}}}
		o := mail.NewOutbox(s, testBox(t), sender, slog.New(slog.DiscardHandler), func() time.Time { return now })
		send := func(to string, life time.Duration) {
			m := compose(t, "en")
			m.To, m.Expires = to, now.Add(life)
			if err := o.Send(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		send("day@example.com", 24*time.Hour)
		send("short@example.com", 5*time.Hour)
		for range 9 { // every try fails (waits of 30 s to 32 min); at the eighth, both are given up
			o.Drain(ctx)
			now = now.Add(35 * time.Minute)
		}
		list, err := s.GivenUpMails(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 {
			t.Fatalf("%d mails given up, want 2", len(list))
		}
		ids := map[string]int64{}
		for _, m := range list {
			ids[m.To] = m.ID
			if m.Attempts != 8 {
				t.Errorf("%s given up after %d tries, want 8", m.To, m.Attempts)
			}
		}
		// 5 h 15 min on: the 5-hour link expired, the day-long one lives.
		for _, m := range list {
			if live := m.To == "day@example.com"; live != m.RetryUntil.After(now) {
				t.Errorf("%s: retry until %v", m.To, m.RetryUntil)
			}
		}
		if err := o.Retry(ctx, ids["short@example.com"]); !errors.Is(err, mail.ErrCannotRetry) {
			t.Fatalf("retry of a mail whose link expired: %v", err)
		}
		if err := o.Retry(ctx, 999999); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("retry of no mail: %v", err)
		}
		sender.fixed = true
		errs := make(chan error, 2)
		for range 2 { // two operators at once: the mail leaves once
			go func() { errs <- o.Retry(ctx, ids["day@example.com"]) }()
		}
		var ok int
		for range 2 {
			if err := <-errs; err == nil {
				ok++
			} else if !errors.Is(err, gardien.ErrNotFound) {
				t.Fatal(err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d retries of one mail accepted, want 1", ok)
		}
		o.Drain(ctx)
		if sender.sent["day@example.com"] != 1 || sender.sent["short@example.com"] != 0 {
			t.Fatalf("sent: %v", sender.sent)
		}
		if err := o.Retry(ctx, ids["day@example.com"]); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("retry of a mail sent already: %v", err)
		}
	})
}
