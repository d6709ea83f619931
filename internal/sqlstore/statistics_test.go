package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/gardien/gardien/internal/sqlstore"
)

// bulkMembers writes n people, each with a session and a membership (ten
// a organization), straight into the database, in one transaction.
func bulkMembers(tb testing.TB, db *sql.DB, n int) {
	tb.Helper()
	tx, err := db.Begin()
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	for i := 1; i <= n; i++ {
		for _, q := range [][]any{
			{`INSERT INTO users (id, email, email_key, name, password_hash, created_at, updated_at) VALUES (?, ?, ?, 'P', '-', 0, 0)`, i, fmt.Sprint("p", i, "@example.com"), fmt.Sprint("p", i, "@example.com")},
			{`INSERT INTO sessions (token_hash, user_id, level, created_at, last_seen_at, expires_at) VALUES (?, ?, 'full', 0, 0, 0)`, hash(fmt.Sprint(i)), i},
			{`INSERT OR IGNORE INTO organizations (id, name, created_at) VALUES (?, 'O', 0)`, (i-1)/10 + 1},
			{`INSERT INTO memberships (org_id, user_id, role, created_at) VALUES (?, ?, 'member', 0)`, (i-1)/10 + 1, i},
		} {
			if _, err := tx.Exec(q[0].(string), q[1:]...); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// withMembers opens a SQLite store in dir with n people written in bulk
// (bulkMembers), and its file beside it, as an operator's sqlite3 shell
// would.
func withMembers(tb testing.TB, dir string, n int) (*sqlstore.Store, *sql.DB) {
	tb.Helper()
	s, err := sqlstore.Open(context.Background(), "", dir)
	if err != nil {
		tb.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "gardien.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { keepQueries(s); db.Close() })
	bulkMembers(tb, db, n)
	return s, db
}

// An ANALYZE run on the database (PRAGMA optimize, an operator's shell)
// leaves sample statistics that make SQLite prepare statements again at
// each run: the store drops them when it opens, and keeps the row counts.
func TestSQLiteKeepsNoSampleStatistics(t *testing.T) {
	dir := t.TempDir()
	s, db := withMembers(t, dir, 200)
	var err error
	if _, err := db.Exec(`ANALYZE`); err != nil {
		t.Fatal(err)
	}
	count := func(table string) (n int) {
		t.Helper()
		if err := db.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if count("sqlite_stat4") == 0 {
		t.Fatal("ANALYZE made no samples: this SQLite is not built with STAT4, the test shows nothing")
	}
	s.Close()
	if s, err = sqlstore.Open(context.Background(), "", dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := count("sqlite_stat4"); n != 0 {
		t.Fatalf("%d sample statistics kept after the store opened", n)
	}
	if count("sqlite_stat1") == 0 {
		t.Fatal("the row counts of sqlite_stat1 went too")
	}
	if ms, err := s.Memberships(context.Background(), 7); err != nil || len(ms) != 1 {
		t.Fatalf("memberships after: %v %v", ms, err)
	}
}

// BenchmarkSQLiteStatistics measures two lookups of every request (the
// session and its person; a person's memberships) on 20,000 people: without
// statistics (as Gardien runs), with ANALYZE's statistics read by a running
// store, and with them once the store opened again (samples dropped).
func BenchmarkSQLiteStatistics(b *testing.B) {
	dir := b.TempDir()
	s, db := withMembers(b, dir, 20000)
	var err error
	run := func(b *testing.B, s *sqlstore.Store) { lookups(b, s, context.Background(), 20000) }
	b.Run("none", func(b *testing.B) { run(b, s) })
	if _, err := db.Exec(`ANALYZE`); err != nil {
		b.Fatal(err)
	}
	b.Run("analyze", func(b *testing.B) { run(b, s) })
	s.Close()
	if s, err = sqlstore.Open(context.Background(), "", dir); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.Run("analyze-reopened", func(b *testing.B) { run(b, s) })
}

// BenchmarkRequestLookups measures the two lookups of a request (its
// session and person, their memberships) on 20,000 people, under a
// cancelable context as an HTTP request's is.
func BenchmarkRequestLookups(b *testing.B) {
	s, _ := withMembers(b, b.TempDir(), 20000)
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lookups(b, s, ctx, 20000)
}

// lookups runs a request's two lookups (session and person, memberships)
// for the n people of withMembers in turn, b.N times.
func lookups(b *testing.B, s *sqlstore.Store, ctx context.Context, n int) {
	for i := 0; b.Loop(); i++ {
		id := i%n + 1
		if _, _, err := s.SessionUser(ctx, hash(fmt.Sprint(id))); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Memberships(ctx, int64(id)); err != nil {
			b.Fatal(err)
		}
	}
}
