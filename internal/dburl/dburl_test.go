package dburl_test

import (
	"strings"
	"testing"

	"github.com/gardien/gardien/internal/dburl"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want dburl.Database
		name string
	}{
		{"", dburl.Database{Path: "/data/gardien.db", InDataDir: true}, "SQLite at /data/gardien.db"},
		{"sqlite:", dburl.Database{Path: "/data/gardien.db", InDataDir: true}, "SQLite at /data/gardien.db"},
		{"sqlite:/var/lib/g.db", dburl.Database{Path: "/var/lib/g.db"}, "SQLite at /var/lib/g.db"},
		{"postgres://u:secret@db/g", dburl.Database{Postgres: true, URL: "postgres://u:secret@db/g"}, "PostgreSQL"},
		{"postgresql://db/g", dburl.Database{Postgres: true, URL: "postgresql://db/g"}, "PostgreSQL"},
	} {
		got, err := dburl.Parse(tc.raw, "/data")
		if err != nil || got != tc.want || got.String() != tc.name {
			t.Errorf("%q: %+v %q %v, want %+v %q", tc.raw, got, got.String(), err, tc.want, tc.name)
		}
	}
	for _, raw := range []string{"mysql://u:secret@db/g", "/var/lib/g.db", "file:g.db"} {
		_, err := dburl.Parse(raw, "/data")
		if err == nil {
			t.Errorf("%q accepted", raw)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("%q: the error shows the password: %v", raw, err)
		}
	}
}
