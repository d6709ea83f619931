package sqlstore

import (
	"context"
	"testing"
)

// Migration 0022 rebuilds SQLite's tables with AUTOINCREMENT: an existing
// database keeps every row and reference, and its ids start past those
// its audit lines name (a deleted organization's, say).
func TestTheRebuildForIdsKeepsEveryRowAndStartsPastTheAuditLog(t *testing.T) {
	ctx := context.Background()
	s, err := open("", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	list, body, err := s.migrationFiles()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, createMigrationsTable); err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		if m.Version >= 22 {
			break
		}
		if err := s.migrateOne(ctx, conn, m, body[m.Version]); err != nil {
			t.Fatal(err)
		}
	}
	// A database as version 21 left it: two people, an organization, its
	// member, a session, an invitation; organization 7 and session 40 were
	// deleted, but audit lines name them.
	for _, q := range []string{
		`INSERT INTO users (id, email, email_key, name, password_hash, created_at, updated_at) VALUES (1, 'a@x.test', 'a@x.test', 'A', 'h', 1, 1), (2, 'b@x.test', 'b@x.test', 'B', 'h', 1, 1)`,
		`INSERT INTO organizations (id, name, created_at, members_total) VALUES (3, 'Acme', 1, 1)`,
		`INSERT INTO memberships (org_id, user_id, role, created_at) VALUES (3, 1, 'owner', 1)`,
		`INSERT INTO sessions (id, token_hash, user_id, level, created_at, last_seen_at, expires_at) VALUES (12, x'01', 2, 'full', 1, 1, 99)`,
		`INSERT INTO invitations (id, org_id, email, email_key, role, token_hash, invited_by, created_at, expires_at) VALUES (5, 3, 'c@x.test', 'c@x.test', 'member', x'02', 1, 1, 99)`,
		`INSERT INTO events (at, type, user_id, org_id, detail) VALUES (1, 'org.created', 1, 7, ''), (1, 'session.ended', 2, NULL, '{"session":"40"}')`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := s.migrateOne(ctx, conn, list[21], body[22]); err != nil {
		t.Fatalf("migration 22: %v", err)
	}
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM users u JOIN memberships m ON m.user_id = u.id JOIN organizations o ON o.id = m.org_id
		JOIN invitations i ON i.org_id = o.id JOIN sessions s ON s.user_id = 2`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("rows after the rebuild: %d %v", n, err)
	}
	var fk int
	if err := conn.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign keys after the migration: %d %v", fk, err)
	}
	for table, want := range map[string]int64{"organizations": 8, "sessions": 41, "users": 3, "invitations": 6} {
		var id int64
		var q string
		switch table {
		case "organizations":
			q = `INSERT INTO organizations (name, created_at) VALUES ('New', 2) RETURNING id`
		case "sessions":
			q = `INSERT INTO sessions (token_hash, user_id, level, created_at, last_seen_at, expires_at) VALUES (x'09', 1, 'full', 2, 2, 99) RETURNING id`
		case "users":
			q = `INSERT INTO users (email, email_key, name, password_hash, created_at, updated_at) VALUES ('d@x.test', 'd@x.test', 'D', 'h', 2, 2) RETURNING id`
		case "invitations":
			q = `INSERT INTO invitations (org_id, email, email_key, role, token_hash, created_at, expires_at) VALUES (3, 'e@x.test', 'e@x.test', 'member', x'03', 2, 99) RETURNING id`
		}
		if err := conn.QueryRowContext(ctx, q).Scan(&id); err != nil || id != want {
			t.Errorf("the next %s: id %d %v, want %d", table, id, err, want)
		}
	}
	// Deleting the cascade still works: the rebuilt tables kept their
	// references.
	if _, err := conn.ExecContext(ctx, `DELETE FROM organizations WHERE id = 3`); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM invitations WHERE org_id = 3`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("invitations of a deleted organization: %d %v", n, err)
	}
}
