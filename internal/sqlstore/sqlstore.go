// Package sqlstore keeps Gardien's data in SQLite (the default, embedded) or
// PostgreSQL (several nodes). One set of queries serves both: they are written
// with ? placeholders and rewritten to $n for PostgreSQL, times are Unix
// seconds, and the few real differences live in the migrations.
package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/dburl"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations
var migrations embed.FS

// Dialect names a database engine.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is Gardien's storage. Safe for concurrent use.
type Store struct {
	dialect Dialect
	// writer takes every write. On SQLite it holds one connection: SQLite has one
	// writer at a time anyway, and queueing in Go beats spinning on SQLITE_BUSY.
	// reader serves reads; on PostgreSQL both are the same pool.
	writer, reader *sql.DB
	// queue orders the callers of SQLite's writer (nil on PostgreSQL).
	queue *writerQueue
	// timeout bounds each call (a transaction as a whole): a database that
	// stops answering makes requests fail in that time, not hang.
	timeout atomic.Int64 // a time.Duration; read by the pool's own goroutines
	stmts   sync.Map     // stmtKey → *sql.Stmt
	missed  sync.Map     // queries a transaction ran before they were prepared
}

// Open connects to the database named by databaseURL ("" = SQLite file
// gardien.db in dataDir) and applies pending migrations.
func Open(ctx context.Context, databaseURL, dataDir string) (*Store, error) {
	s, err := open(databaseURL, dataDir)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// OpenNoMigrate connects without migrating (for the migrate command's report).
func OpenNoMigrate(databaseURL, dataDir string) (*Store, error) { return open(databaseURL, dataDir) }

func open(databaseURL, dataDir string) (*Store, error) {
	where, err := dburl.Parse(databaseURL, dataDir)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	if where.Postgres {
		s := &Store{dialect: Postgres}
		s.SetTimeout(DefaultTimeout)
		db, err := openPostgres(s, where.URL)
		if err != nil {
			return nil, err
		}
		s.writer, s.reader = db, db
		return s, nil
	}
	return openSQLite(where.Path, where.InDataDir, dataDir)
}

// DefaultTimeout bounds a database call unless SetTimeout says otherwise.
const DefaultTimeout = 5 * time.Second

// SetTimeout bounds each database call (a transaction as a whole) to d.
func (s *Store) SetTimeout(d time.Duration) { s.timeout.Store(int64(d)) }

func (s *Store) callTimeout() time.Duration { return time.Duration(s.timeout.Load()) }

func (s *Store) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.callTimeout())
}

// lookupContext is the context of a one-row statement (queryRow) or of a
// read of one key's few rows (lookupAll): one that cannot be cancelled,
// because watching a cancelable context costs more than such a statement
// (a goroutine in database/sql for each, and a progress handler in SQLite
// or a watch and a timer in pgx: a fifth of GET /me). On SQLite's readers
// a read never waits for a lock (WAL) and reads a few pages; SQLite could
// only interrupt it between steps of its program anyway; its writer keeps
// the deadline (a writer waits for the lock). On PostgreSQL the pool
// bounds the statement on its connection (openPostgres).
func (s *Store) lookupContext(ctx context.Context, db *sql.DB) (context.Context, context.CancelFunc) {
	switch {
	case s.dialect == SQLite && db == s.reader:
		return context.WithoutCancel(ctx), func() {}
	case s.dialect == Postgres:
		return asLookup(ctx), func() {}
	}
	return s.deadline(ctx)
}

// unavailable marks an error that says the database cannot be reached or
// did not answer in time (gardien.ErrUnavailable): transports answer 503,
// never "log in first", and try again later. Other errors pass unchanged.
func unavailable(err error) error {
	if err == nil || errors.Is(err, gardien.ErrUnavailable) || !isUnavailable(err) {
		return err
	}
	return fmt.Errorf("%w: %w", gardien.ErrUnavailable, err)
}

func isUnavailable(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		// 08: connection exception; 53: insufficient resources;
		// 57P01-03: shutting down or starting up.
		return strings.HasPrefix(pg.Code, "08") || strings.HasPrefix(pg.Code, "53") ||
			pg.Code == "57P01" || pg.Code == "57P02" || pg.Code == "57P03"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN:
			return true
		}
		return false
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, sql.ErrConnDone) ||
		// A connection the driver found closed under it (the server went
		// away between two uses of a pooled connection): pgx says so
		// without a network error.
		errors.Is(err, pgconn.ErrConnClosed) ||
		errors.As(err, &ne) || errors.As(err, &ce) || pgconn.Timeout(err)
}

// Dialect says which engine the store runs on.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close closes the connections.
func (s *Store) Close() error {
	s.stmts.Range(func(_, st any) bool { st.(*sql.Stmt).Close(); return true })
	err := s.writer.Close()
	if s.reader != s.writer {
		err = errors.Join(err, s.reader.Close())
	}
	return err
}

// Ping checks the database answers (readiness).
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.reader.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("sqlstore: ping: %w", err)
	}
	return nil
}

// q rewrites a query's placeholders for the store's dialect.
func (s *Store) q(query string) string { return Rebind(s.dialect, query) }

// Rebind rewrites ? placeholders to $1, $2 … for PostgreSQL, and to +? for
// SQLite. Queries here never hold a ? inside a string literal.
//
// SQLite (3.54) plans a "col = ?" term of a join or of an ORDER BY query on
// whether the bound value is 0 or 1, and marks the statement so that the
// next value prepares it again: a parse and a plan at every request of the
// person whose id is 1, or of a query with a flag bound as false or true
// (9 % of GET /me's CPU under the load tool). SQLite
// looks at a parameter's value only when the parameter stands alone; +?
// is the same value (the unary plus changes no affinity and leaves the
// index usable, which is on the column's side), and SQLite plans it once.
// TestMain in this package's tests checks every query the tests ran.
func Rebind(d Dialect, query string) string {
	if d == SQLite {
		return strings.ReplaceAll(query, "?", "+?")
	}
	if d != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// tx runs fn in a transaction on the writer, committing if fn returns nil;
// the whole transaction runs within the store's deadline.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	release, err := s.turn(ctx, s.writer)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer release()
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", unavailable(err))
	}
	defer s.prepareMissed(ctx)
	if err := fn(tx); err != nil {
		tx.Rollback()
		return unavailable(err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", unavailable(err))
	}
	return nil
}

// turn waits for the writer's turn when db is SQLite's writer; release
// gives it back. A deadline that passes first is gardien.ErrUnavailable,
// as when the database does not answer.
func (s *Store) turn(ctx context.Context, db *sql.DB) (release func(), err error) {
	if s.queue == nil || db != s.writer {
		return func() {}, nil
	}
	release, err = s.queue.take(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	return release, nil
}

// isUnique reports whether err is a unique-constraint violation.
func isUnique(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// Migration is one numbered schema step.
type Migration struct {
	Version int
	Name    string
	Applied bool
}

func (s *Store) migrationFiles() ([]Migration, map[int]string, error) {
	dir := "migrations/" + string(s.dialect)
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlstore: migrations: %w", err)
	}
	var list []Migration
	body := map[int]string{}
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, nil, fmt.Errorf("sqlstore: migration %q is not named NNNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(migrations, dir+"/"+e.Name())
		if err != nil {
			return nil, nil, fmt.Errorf("sqlstore: migration %s: %w", e.Name(), err)
		}
		list = append(list, Migration{Version: v, Name: e.Name()})
		body[v] = string(b)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Version < list[j].Version })
	return list, body, nil
}

// Migrations lists the migrations and whether each is applied.
func (s *Store) Migrations(ctx context.Context) ([]Migration, error) {
	list, _, err := s.migrationFiles()
	if err != nil {
		return nil, err
	}
	applied, err := s.applied(ctx)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i].Applied = applied[list[i].Version]
	}
	return list, nil
}

func (s *Store) applied(ctx context.Context) (map[int]bool, error) {
	var exists bool
	q := `SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`
	if s.dialect == Postgres {
		q = `SELECT to_regclass('schema_migrations') IS NOT NULL`
	}
	if err := s.writer.QueryRowContext(ctx, q).Scan(&exists); err != nil {
		return nil, fmt.Errorf("sqlstore: schema_migrations: %w", err)
	}
	if !exists {
		return map[int]bool{}, nil
	}
	rows, err := s.writer.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: schema_migrations: %w", err)
	}
	defer rows.Close()
	done := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("sqlstore: schema_migrations: %w", err)
		}
		done[v] = true
	}
	return done, rows.Err()
}

// Migrate applies pending migrations in order, each in its own transaction.
// On PostgreSQL, nodes starting together on one database take turns: one
// session-level advisory lock is held, on one connection, from the
// bookkeeping table's creation to the last migration.
func (s *Store) Migrate(ctx context.Context) error {
	list, body, err := s.migrationFiles()
	if err != nil {
		return err
	}
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer conn.Close()
	if s.dialect == Postgres {
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7305813)`); err != nil {
			return fmt.Errorf("sqlstore: migration lock: %w", err)
		}
		defer restoreConn(ctx, conn, `SELECT pg_advisory_unlock(7305813)`)
	}
	if _, err := conn.ExecContext(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("sqlstore: schema_migrations: %w", err)
	}
	for _, m := range list {
		if err := s.migrateOne(ctx, conn, m, body[m.Version]); err != nil {
			return fmt.Errorf("sqlstore: migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// restoreConn puts a connection back as the pool had it (a lock released,
// foreign keys on) with query; when that fails, the connection is thrown
// away rather than handed to another caller in that state (PostgreSQL
// drops the session's locks with it).
func restoreConn(ctx context.Context, conn *sql.Conn, query string) {
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), query); err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`

// fkOffMarker, the first line of a SQLite migration, runs it with foreign
// keys off and checks them after: SQLite's documented way to rebuild a
// table that others refer to (a DROP TABLE would otherwise cascade).
const fkOffMarker = "-- sqlite: foreign keys off\n"

func (s *Store) migrateOne(ctx context.Context, conn *sql.Conn, m Migration, body string) error {
	if s.dialect == SQLite && strings.HasPrefix(body, fkOffMarker) {
		// Outside the transaction: the pragma is a no-op inside one.
		if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
			return err
		}
		defer restoreConn(ctx, conn, `PRAGMA foreign_keys = ON`)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), m.Version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`), m.Version, time.Now().Unix()); err != nil {
		return err
	}
	if s.dialect == SQLite && strings.HasPrefix(body, fkOffMarker) {
		if err := foreignKeysHold(ctx, tx); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// foreignKeysHold says, after a migration with foreign keys off, whether
// every reference still finds its row.
func foreignKeysHold(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		var table string
		var rowid sql.NullInt64
		var parent string
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			return err
		}
		return fmt.Errorf("a row of %s refers to no row of %s", table, parent)
	}
	return rows.Err()
}

// Prepared statements, kept per database handle and query: preparing costs
// about a fifth of a short query's time in SQLite, so each query is
// prepared once. Queries are written with ? and rewritten for the dialect.
type stmtKey struct {
	db    *sql.DB
	query string
}

func (s *Store) prepare(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	key := stmtKey{db, query}
	if st, ok := s.stmts.Load(key); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.PrepareContext(ctx, s.q(query))
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(key, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

func (s *Store) exec(ctx context.Context, db *sql.DB, query string, args ...any) (sql.Result, error) {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	release, err := s.turn(ctx, db)
	if err != nil {
		return nil, err
	}
	defer release()
	st, err := s.prepare(ctx, db, query)
	if err != nil {
		return nil, unavailable(err)
	}
	res, err := st.ExecContext(ctx, args...)
	return res, unavailable(err)
}

// queryRow is a query whose one row is read by the scanner's Scan, as a
// lookup (lookupContext).
func (s *Store) queryRow(ctx context.Context, db *sql.DB, query string, args ...any) scanner {
	return scanFunc(func(dest ...any) error {
		ctx, cancel := s.lookupContext(ctx, db)
		defer cancel()
		release, err := s.turn(ctx, db)
		if err != nil {
			return err
		}
		defer release()
		st, err := s.prepare(ctx, db, query)
		if err != nil {
			return unavailable(err)
		}
		return unavailable(st.QueryRowContext(ctx, args...).Scan(dest...))
	})
}

// rows are a query's rows; Close ends the query's deadline too.
type rows struct {
	*sql.Rows
	cancel context.CancelFunc
}

func (r *rows) Close() error {
	err := r.Rows.Close()
	r.cancel()
	return err
}

func (r *rows) Err() error { return unavailable(r.Rows.Err()) }

// collect reads every row of a query with scan, and closes it; never nil.
func collect[T any](rs *rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rs.Close()
	out := []T{}
	for rs.Next() {
		v, err := scan(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rs.Err()
}

// queryAll runs a query and reads its rows with scan.
func queryAll[T any](ctx context.Context, s *Store, query string, scan func(scanner) (T, error), args ...any) ([]T, error) {
	rs, err := s.query(ctx, s.reader, query, args...)
	if err != nil {
		return nil, err
	}
	return collect(rs, scan)
}

// lookupAll is queryAll for the few rows of one key (a person's
// memberships): read as a lookup (lookupContext).
func lookupAll[T any](ctx context.Context, s *Store, query string, scan func(scanner) (T, error), args ...any) ([]T, error) {
	rs, err := s.queryIn(ctx, s.lookupContext, s.reader, query, args...)
	if err != nil {
		return nil, err
	}
	return collect(rs, scan)
}

func (s *Store) query(ctx context.Context, db *sql.DB, query string, args ...any) (*rows, error) {
	return s.queryIn(ctx, func(ctx context.Context, _ *sql.DB) (context.Context, context.CancelFunc) { return s.deadline(ctx) }, db, query, args...)
}

func (s *Store) queryIn(ctx context.Context, within func(context.Context, *sql.DB) (context.Context, context.CancelFunc), db *sql.DB, query string, args ...any) (*rows, error) {
	ctx, end := within(ctx, db)
	release, err := s.turn(ctx, db)
	if err != nil {
		end()
		return nil, err
	}
	cancel := func() { release(); end() } // when the rows are closed
	st, err := s.prepare(ctx, db, query)
	if err != nil {
		cancel()
		return nil, unavailable(err)
	}
	rs, err := st.QueryContext(ctx, args...)
	if err != nil {
		cancel()
		return nil, unavailable(err)
	}
	return &rows{rs, cancel}, nil
}

// txStmt returns the prepared statement of a query for use in tx, or nil
// when it is not prepared yet. A transaction cannot prepare on the writer:
// on SQLite the writer's one connection is the transaction's, so waiting
// for another would never end. The query runs unprepared this once and is
// prepared when the transaction is over.
func (s *Store) txStmt(ctx context.Context, tx *sql.Tx, query string) *sql.Stmt {
	if st, ok := s.stmts.Load(stmtKey{s.writer, query}); ok {
		return tx.StmtContext(ctx, st.(*sql.Stmt))
	}
	s.missed.Store(query, struct{}{})
	return nil
}

// prepareMissed prepares the queries transactions ran unprepared.
func (s *Store) prepareMissed(ctx context.Context) {
	s.missed.Range(func(q, _ any) bool {
		s.missed.Delete(q)
		_, _ = s.prepare(ctx, s.writer, q.(string)) // a failure here shows at the next use
		return true
	})
}

func (s *Store) txExec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st := s.txStmt(ctx, tx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, s.q(query), args...)
}

// txStrings reads a one-column query's values in tx.
func (s *Store) txStrings(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// txExec1 runs a statement in tx that must change exactly one row;
// gardien.ErrNotFound when it changes none.
func (s *Store) txExec1(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
	res, err := s.txExec(ctx, tx, query, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return gardien.ErrNotFound
	}
	return nil
}

func (s *Store) txQueryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st := s.txStmt(ctx, tx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, s.q(query), args...)
}

// Backup writes a consistent copy of a SQLite database to path (VACUUM
// INTO: a snapshot while the server keeps serving, compacted, ready to be
// used as the database as it is). path must not exist. PostgreSQL has its
// own tools: ErrBackupPostgres says which.
func (s *Store) Backup(ctx context.Context, path string) error {
	if s.dialect == Postgres {
		return ErrBackupPostgres
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("sqlstore: backup: %s exists already", path)
	}
	if _, err := s.writer.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("sqlstore: backup: %w", err)
	}
	return os.Chmod(path, 0o600) // it holds what the database holds
}

// ErrBackupPostgres: a PostgreSQL database is backed up with pg_dump.
var ErrBackupPostgres = errors.New("the database is PostgreSQL: back it up with pg_dump (e.g. pg_dump -Fc -f gardien.dump \"$GARDIEN_DATABASE_URL\"), restore with pg_restore; see docs/operations.md")
