package sqlstore_test

import (
	"context"
	"testing"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/sqlstore"
)

// BenchmarkLoginEvent is the audit line of a login, an event webhooks may
// ask for: written with the statement that queues it to them (none here,
// the common case), in one transaction on SQLite.
func BenchmarkLoginEvent(b *testing.B) {
	s, err := sqlstore.Open(context.Background(), "", b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	u := &gardien.User{Email: "ada@example.com", Name: "Ada", CreatedAt: t0}
	if err := s.CreateUser(ctx, u, u.Email, "hash"); err != nil {
		b.Fatal(err)
	}
	o := &gardien.Organization{Name: "Acme", CreatedAt: t0}
	if err := s.CreateOrganization(ctx, o, u.ID, &gardien.Event{Time: t0, Type: gardien.EventOrgCreated}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.AddEvent(ctx, &gardien.Event{Time: t0, Type: gardien.EventLogin, UserID: u.ID, ActorID: u.ID, IP: "203.0.113.9", UserAgent: "bench",
			Data: gardien.EventData{"level": "full"}}); err != nil {
			b.Fatal(err)
		}
	}
}
