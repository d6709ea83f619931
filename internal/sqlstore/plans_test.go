package sqlstore_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/gardien/gardien/internal/sqlstore"
)

// sqliteQueries gathers the queries every SQLite store of the tests
// prepared, for TestMain to check their plans once all have run.
var sqliteQueries sync.Map // query → struct{}

func keepQueries(s *sqlstore.Store) {
	for _, q := range s.Queries() {
		sqliteQueries.Store(q, struct{}{})
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := checkPlans(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// checkPlans runs every query the tests prepared on SQLite with its
// parameters bound to 2, 1, 2, 0, 2, and fails when SQLite prepared one
// again between runs: since 3.54 SQLite plans some terms ("col = ?" in a
// join or under an ORDER BY) on whether the value is 0 or 1, and the next
// binding of another value makes it parse and plan the statement anew —
// for the person whose id is 1, or a flag bound as false or true, at
// every request.
func checkPlans() error {
	dir, err := os.MkdirTemp("", "gardien-plans")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s, err := sqlstore.Open(context.Background(), "", dir)
	if err != nil {
		return err
	}
	s.Close()
	tls := libc.NewTLS()
	defer tls.Close()
	name, err := libc.CString(filepath.Join(dir, "gardien.db"))
	if err != nil {
		return err
	}
	defer libc.Xfree(tls, name)
	out := tls.Alloc(8)
	defer tls.Free(8)
	if rc := sqlite3.Xsqlite3_open_v2(tls, name, out, sqlite3.SQLITE_OPEN_READWRITE, 0); rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("open: %d", rc)
	}
	db := handle(out)
	defer sqlite3.Xsqlite3_close_v2(tls, db)
	var queries, bad []string
	sqliteQueries.Range(func(q, _ any) bool {
		queries = append(queries, q.(string))
		return true
	})
	sort.Strings(queries)
	for _, q := range queries {
		n, err := reprepares(tls, db, sqlstore.Rebind(sqlstore.SQLite, q))
		if err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
		if n > 0 {
			bad = append(bad, q)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("SQLite plans these queries on their parameters' values (0 or 1), and prepares them again at the next value:\n\n%s", strings.Join(bad, "\n\n"))
	}
	if len(queries) < 50 && flag.Lookup("test.run").Value.String() == "" {
		return fmt.Errorf("only %d queries checked: the tests did not keep them", len(queries))
	}
	return nil
}

func reprepares(tls *libc.TLS, db uintptr, query string) (int32, error) {
	exec := func(sql string) {
		p, _ := libc.CString(sql)
		sqlite3.Xsqlite3_exec(tls, db, p, 0, 0, 0)
		libc.Xfree(tls, p)
	}
	exec("BEGIN")
	defer exec("ROLLBACK")
	q, err := libc.CString(query)
	if err != nil {
		return 0, err
	}
	defer libc.Xfree(tls, q)
	out := tls.Alloc(8)
	defer tls.Free(8)
	if rc := sqlite3.Xsqlite3_prepare_v2(tls, db, q, -1, out, 0); rc != sqlite3.SQLITE_OK {
		return 0, fmt.Errorf("prepare: %s", libc.GoString(sqlite3.Xsqlite3_errmsg(tls, db)))
	}
	st := handle(out)
	defer sqlite3.Xsqlite3_finalize(tls, st)
	params := sqlite3.Xsqlite3_bind_parameter_count(tls, st)
	for _, v := range []int64{2, 1, 2, 0, 2} {
		for i := int32(1); i <= params; i++ {
			sqlite3.Xsqlite3_bind_int64(tls, st, i, v)
		}
		for sqlite3.Xsqlite3_step(tls, st) == sqlite3.SQLITE_ROW {
		}
		sqlite3.Xsqlite3_reset(tls, st)
	}
	return sqlite3.Xsqlite3_stmt_status(tls, st, sqlite3.SQLITE_STMTSTATUS_REPREPARE, 0), nil
}

// handle reads the handle SQLite wrote at p, in the C memory of the
// transpiled library (tls.Alloc), which Go's collector does not manage.
func handle(p uintptr) uintptr {
	return *(*uintptr)(unsafe.Add(unsafe.Pointer(nil), p))
}
