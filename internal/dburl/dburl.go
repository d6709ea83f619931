// Package dburl reads GARDIEN_DATABASE_URL: the one place that knows the
// forms it takes, for the configuration's check, the storage that opens
// it and the lines that name it.
package dburl

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// Database is where Gardien's data lives.
type Database struct {
	Postgres bool
	URL      string // PostgreSQL's postgres:// URL
	Path     string // SQLite's file
	// InDataDir: the SQLite file is the default one, in the data directory
	// (which is made when missing).
	InDataDir bool
}

// Parse reads raw: "" (or "sqlite:") is SQLite's gardien.db in dataDir, sqlite:PATH a
// SQLite file, postgres://… or postgresql://… PostgreSQL. An error never
// shows a password the URL holds.
func Parse(raw, dataDir string) (Database, error) {
	switch {
	case raw == "" || raw == "sqlite:":
		return Database{Path: filepath.Join(dataDir, "gardien.db"), InDataDir: true}, nil
	case strings.HasPrefix(raw, "postgres://") || strings.HasPrefix(raw, "postgresql://"):
		return Database{Postgres: true, URL: raw}, nil
	case strings.HasPrefix(raw, "sqlite:") && len(raw) > len("sqlite:"):
		return Database{Path: strings.TrimPrefix(raw, "sqlite:")}, nil
	}
	return Database{}, fmt.Errorf("want postgres://…, postgresql://… or sqlite:PATH, got %q", redact(raw))
}

// String names the database for people: its engine, and SQLite's file
// (never PostgreSQL's credentials).
func (d Database) String() string {
	if d.Postgres {
		return "PostgreSQL"
	}
	return "SQLite at " + d.Path
}

func redact(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return v
	}
	return u.Redacted()
}
