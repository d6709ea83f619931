package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/sqlstore"
)

// bulkMembers writes n people, each with a session (person i's is session
// i, its secret's hash hash(i)) and a membership (ten an organization), straight into the database, in one transaction.
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
			{`INSERT INTO sessions (id, token_hash, secret_hash, user_id, level, created_at, last_seen_at, expires_at) VALUES (?, randomblob(32), ?, ?, 'full', 0, 0, 0)`, i, hash(fmt.Sprint(i)), i},
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
		if _, _, err := s.SessionUser(ctx, auth.SessionKey{ID: int64(id), Hash: hash(fmt.Sprint(id))}); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Memberships(ctx, int64(id)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTheOrganizationLogFindsItsMembersEventsByPerson: an organization's
// audit log shows its own events and its members' 2FA turned on; SQLite
// finds the latter person by person (events_user), not by walking every
// event without an organization — the logins and second steps of the
// whole server.
func TestTheOrganizationLogFindsItsMembersEventsByPerson(t *testing.T) {
	dir := t.TempDir()
	s, db := withMembers(t, dir, 40) // people 1-10 in organization 1
	defer s.Close()
	ctx := context.Background()
	for i := 1; i <= 2000; i++ { // second steps of the whole server
		if err := s.AddEvent(ctx, &gardien.Event{Time: t0, Type: gardien.EventTwoFactorPassed, UserID: int64(i%40 + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range []*gardien.Event{
		{Time: t0, Type: gardien.EventTwoFactorEnabled, UserID: 3},  // a member's: shown
		{Time: t0, Type: gardien.EventTwoFactorEnabled, UserID: 33}, // another organization's member's
		{Time: t0, Type: "org.created", OrgID: 1},
	} {
		if err := s.AddEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.OrgEvents(ctx, 1, gardien.EventFilter{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Type != "org.created" || got[1].Type != gardien.EventTwoFactorEnabled || got[1].UserID != 3 {
		t.Fatalf("log %+v, want the organization's event and its member's 2FA", got)
	}
	var query string
	for _, q := range s.Queries() {
		if strings.Contains(q, "FROM events e LEFT JOIN") {
			query = sqlstore.Rebind(sqlstore.SQLite, q)
		}
	}
	args := make([]any, strings.Count(query, "?"))
	for i := range args {
		args[i] = 1
	}
	rows, err := db.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	text := strings.Join(plan, "\n")
	if strings.Count(text, "events_org") != 1 || !strings.Contains(text, "USING INDEX events_user") {
		t.Fatalf("plan:\n%s\nwant the organization's events by events_org, its members' by events_user", text)
	}
}

// BenchmarkOrganizationLog: a page of an organization's audit log on a
// server whose other events (logins, second steps) number 100,000.
func BenchmarkOrganizationLog(b *testing.B) {
	s, db := withMembers(b, b.TempDir(), 1000)
	defer s.Close()
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	for i := range 100_000 {
		if _, err := tx.Exec(`INSERT INTO events (at, type, user_id, ip, user_agent, detail) VALUES (0, ?, ?, '', '', '')`, gardien.EventTwoFactorPassed, i%1000+1); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.OrgEvents(ctx, 1, gardien.EventFilter{Limit: 50}); err != nil {
			b.Fatal(err)
		}
	}
}
