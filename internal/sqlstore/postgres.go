package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// openPostgres opens PostgreSQL's pool. Lookups reach it with a context
// nothing can cancel (lookupContext): each cancelable call costs a
// goroutine in database/sql, a watch in pgx and a timer, a fifth of GET
// /me's server CPU. A database that stops answering must still fail a
// lookup in s.timeout: the pool bounds it on its connection instead — the
// dial (ConnectTimeout), the ping of a connection that was idle, and each
// statement, whose socket gets a deadline while it runs.
func openPostgres(s *Store, databaseURL string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open postgres: %w", err)
	}
	cfg.Tracer = uncancelable{s}
	db := stdlib.OpenDB(*cfg,
		stdlib.OptionBeforeConnect(func(_ context.Context, c *pgx.ConnConfig) error {
			if c.ConnectTimeout == 0 || c.ConnectTimeout > s.callTimeout() {
				c.ConnectTimeout = s.callTimeout()
			}
			return nil
		}),
		stdlib.OptionShouldPing(func(ctx context.Context, p stdlib.ShouldPingParams) bool {
			// pgx's own rule: ping a connection idle for over a second.
			ping := p.IdleDuration > time.Second
			if ping && isLookup(ctx) {
				// The statement that follows sets its own deadline.
				_ = p.Conn.PgConn().Conn().SetDeadline(time.Now().Add(s.callTimeout()))
			}
			return ping
		}))
	db.SetMaxOpenConns(4 * runtime.GOMAXPROCS(0))
	db.SetMaxIdleConns(4 * runtime.GOMAXPROCS(0))
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

// lookupKey marks the context of a lookup (lookupContext).
type lookupKey struct{}

func asLookup(ctx context.Context) context.Context {
	return context.WithValue(context.WithoutCancel(ctx), lookupKey{}, true)
}

// isLookup: other contexts without cancellation are left unbounded on
// purpose (a migration may wait for another node's, or build an index).
func isLookup(ctx context.Context) bool { return ctx.Value(lookupKey{}) != nil }

// uncancelable gives a lookup's statement a deadline on its connection's
// socket for as long as it runs. A statement past it fails as a timeout
// (ErrUnavailable) and pgx closes the connection, as it does when a
// context ends.
type uncancelable struct{ s *Store }

func (u uncancelable) bound(ctx context.Context, conn *pgx.Conn) {
	if isLookup(ctx) {
		_ = conn.PgConn().Conn().SetDeadline(time.Now().Add(u.s.callTimeout()))
	}
}

func (uncancelable) unbound(ctx context.Context, conn *pgx.Conn) {
	if isLookup(ctx) && !conn.IsClosed() {
		_ = conn.PgConn().Conn().SetDeadline(time.Time{})
	}
}

func (u uncancelable) TraceQueryStart(ctx context.Context, conn *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	u.bound(ctx, conn)
	return ctx
}

func (u uncancelable) TraceQueryEnd(ctx context.Context, conn *pgx.Conn, _ pgx.TraceQueryEndData) {
	u.unbound(ctx, conn)
}

func (u uncancelable) TracePrepareStart(ctx context.Context, conn *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	u.bound(ctx, conn)
	return ctx
}

func (u uncancelable) TracePrepareEnd(ctx context.Context, conn *pgx.Conn, _ pgx.TracePrepareEndData) {
	u.unbound(ctx, conn)
}
