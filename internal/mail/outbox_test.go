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
