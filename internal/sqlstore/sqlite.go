package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"sync"
)

// SQLite's particulars, each kept for a measured reason (docs/benchmarks.md,
// "What the figures rest on"), the test that holds it named:
//   - every reader stays open (TestSQLiteReadersStayOpen);
//   - no sqlite_stat4 samples (keepNoSamples; TestSQLiteKeepsNoSampleStatistics,
//     BenchmarkSQLiteStatistics);
//   - parameters written +? (Rebind; the package's TestMain checks that no
//     query was prepared again);
//   - lookups on the readers without a cancelable context (lookupContext;
//     BenchmarkRequestLookups);
//   - one writer connection, its callers served in order (writerQueue);
//   - prepared statements kept (prepare), which PostgreSQL shares.

// openSQLite opens the SQLite file at path: one writer and a pool of
// readers, in WAL mode. inDataDir says the file is the data directory's,
// made when missing.
func openSQLite(path string, inDataDir bool, dataDir string) (*Store, error) {
	if inDataDir {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("sqlstore: data dir: %w", err)
		}
	}
	// The file holds sealed secrets, hashes and the audit trail: readable by
	// Gardien's user only. SQLite gives its -wal and -shm files the same mode.
	if err := ownerOnly(path); err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	// WAL lets readers run beside the writer; synchronous=NORMAL in WAL mode
	// loses nothing when the process is killed (only an OS crash can drop the
	// last commits); foreign keys are off by default in SQLite.
	q := url.Values{}
	for _, p := range []string{"foreign_keys(1)", "journal_mode(WAL)", "busy_timeout(10000)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	if err := keepNoSamples(w); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlstore: sqlite statistics: %w", err)
	}
	r, err := sql.Open("sqlite", dsn)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	// Every reader stays open: database/sql keeps 2 idle connections by
	// default, and a connection closed and opened again under load reads
	// the schema and prepares its statements anew.
	readers := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	s := &Store{dialect: SQLite, writer: w, reader: r, queue: &writerQueue{}}
	s.SetTimeout(DefaultTimeout)
	return s, nil
}

// keepNoSamples empties sqlite_stat4 when an ANALYZE (or PRAGMA optimize)
// filled it. This SQLite is built with STAT4: with samples, every statement
// whose parameter meets a sampled index is prepared again at each run, so
// that the plan may follow the value: a request's two lookups (session,
// memberships) cost 3.6 times as much (BenchmarkSQLiteStatistics). Gardien's queries look
// rows up by key: the row counts of sqlite_stat1 stay, the samples go. It
// runs before any other connection reads the schema; "ANALYZE
// sqlite_schema" makes this one read the statistics again.
func keepNoSamples(db *sql.DB) error {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema WHERE name = 'sqlite_stat4'`).Scan(&n); err != nil || n == 0 {
		return err
	}
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_stat4`).Scan(&n); err != nil || n == 0 {
		return err
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM sqlite_stat4`); err != nil {
		return err
	}
	_, err := db.ExecContext(ctx, `ANALYZE sqlite_schema`)
	return err
}

// ownerOnly creates the database file with mode 0600 if it is missing, and
// narrows it to 0600 if it is wider.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return f.Chmod(0o600)
	}
	return nil
}

// writerQueue hands SQLite's one writer connection to its callers in
// their order of arrival: database/sql gives a freed connection to a
// waiter picked at random, so under load a few calls waited far longer
// than the rest. Every operation takes the writer once (a proof of a second
// factor is one transaction, SecondFactor), so no caller goes to the back
// of the line half-way through.
type writerQueue struct {
	mu   sync.Mutex
	held bool
	line []chan struct{}
}

// take waits for the writer, or for ctx to end; release gives it to the
// next caller and must be called once.
func (q *writerQueue) take(ctx context.Context) (release func(), err error) {
	q.mu.Lock()
	if !q.held {
		q.held = true
		q.mu.Unlock()
		return q.release, nil
	}
	turn := make(chan struct{})
	q.line = append(q.line, turn)
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
	if len(q.line) > 0 {
		turn := q.line[0]
		q.line = q.line[1:]
		close(turn)
		return
	}
	q.held = false
}

// drop takes a waiter out of the line; false if it was given the turn.
func (q *writerQueue) drop(turn chan struct{}) bool {
	for i, t := range q.line {
		if t == turn {
			q.line = append(q.line[:i], q.line[i+1:]...)
			return true
		}
	}
	return false
}
