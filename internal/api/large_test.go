package api_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gardien/gardien/internal/apptest"
)

const bulkMembers = 100_000

// bulkOrg makes an organization owned by a person with 2FA, and adds
// n members straight into the database, one in three with 2FA.
func bulkOrg(t testing.TB, env *apptest.Env, clock *apptest.Clock, n int) (*person, string, int64) {
	t.Helper()
	owner := enabled(t, env, clock, "owner@example.com")
	org := newOrg(t, owner, "Big Corp")
	orgID, _ := strconv.ParseInt(strings.TrimPrefix(org, "/organizations/"), 10, 64)
	ctx := t.Context()
	stmts := []string{
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		 INSERT INTO users (email, email_key, name, password_hash, created_at, updated_at)
		 SELECT 'm' || i || '@bulk.example', 'm' || i || '@bulk.example', 'Member ' || i, '-', 0, 0 FROM n`,
		`INSERT INTO memberships (org_id, user_id, role, created_at)
		 SELECT ?, id, 'member', 0 FROM users WHERE email_key LIKE '%@bulk.example'`,
		`INSERT INTO two_factor (user_id, secret, created_at, enabled_at, last_step)
		 SELECT id, ?, 0, 0, 0 FROM users WHERE email_key LIKE '%@bulk.example' AND id % 3 = 0`,
		// Rows written behind the store's back: its kept counters are set
		// as the migration that made them sets them.
		`UPDATE organizations SET
		 members_total = (SELECT COUNT(*) FROM memberships m WHERE m.org_id = organizations.id),
		 members_protected = (SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id
		 WHERE m.org_id = organizations.id AND (u.sso OR EXISTS (SELECT 1 FROM two_factor t WHERE t.user_id = u.id AND t.enabled_at IS NOT NULL)))
		 WHERE id = ?`,
	}
	args := [][]any{{n}, {orgID}, {[]byte("sealed")}, {orgID}}
	for i, q := range stmts {
		if _, err := env.DB.ExecContext(ctx, env.Q(q), args[i]...); err != nil {
			t.Fatalf("bulk step %d: %v", i, err)
		}
	}
	// Statistics, as a database that grew to this size would have them.
	if _, err := env.DB.ExecContext(ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	return owner, org, orgID
}

// TestOrganizationOf100000Members checks the switch and the Members pages
// on an organization of 100,000 members (BenchmarkLargeOrganization times them).
func TestOrganizationOf100000Members(t *testing.T) {
	apptest.OnEachDatabase(t, func(t *testing.T, db []apptest.Option) {
		clock := apptest.NewClock()
		env := apptest.Start(t, append(db, apptest.WithClock(clock))...)
		owner, org, orgID := bulkOrg(t, env, clock, bulkMembers)
		var before int
		env.DB.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM events`).Scan(&before)

		if r := owner.c.API("PUT", org+"/security", map[string]any{"require_two_factor": true}); r.StatusCode != 200 {
			t.Fatalf("switch on: %d %s", r.StatusCode, r.Body)
		}
		// One write, whatever the size: one event, and no member row touched.
		var after, touched int
		env.DB.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM events`).Scan(&after)
		env.DB.QueryRowContext(t.Context(), env.Q(`SELECT COUNT(*) FROM memberships WHERE org_id = ? AND created_at <> 0`), orgID).Scan(&touched)
		if after != before+1 || touched != 1 {
			t.Fatalf("switching wrote %d events and touched %d memberships, want 1 and only the owner's", after-before, touched)
		}
		r := owner.c.API("GET", org+"/members", nil).JSON()
		protected := bulkMembers/3 + 1
		if r["total"] != float64(bulkMembers+1) || r["protected"] != float64(protected) || r["pages"] != float64((bulkMembers+1+49)/50) || len(r["members"].([]any)) != 50 {
			t.Fatalf("members page 1: total %v protected %v pages %v, %d rows", r["total"], r["protected"], r["pages"], len(r["members"].([]any)))
		}
		last := owner.c.API("GET", fmt.Sprintf("%s/members?page=%d", org, (bulkMembers+1+49)/50), nil).JSON()
		if n := len(last["members"].([]any)); n != (bulkMembers+1)%50 {
			t.Fatalf("last page: %d rows", n)
		}
		without := owner.c.API("GET", org+"/members?filter=without_two_factor&page=2", nil).JSON()
		listed, _ := without["members"].([]any)
		if len(listed) != 50 {
			t.Fatalf("filter without 2FA, page 2: %d members", len(listed))
		}
		for _, m := range listed {
			// bulkOrg turned 2FA on for the ids that are multiples of 3.
			if id := int64(m.(map[string]any)["user_id"].(float64)); id%3 == 0 || m.(map[string]any)["two_factor_enabled"] != false {
				t.Fatalf("filter without 2FA lists %v", m)
			}
		}
		if s := owner.c.API("GET", org+"/security", nil).JSON(); s["members_without_two_factor"] != float64(bulkMembers+1-protected) {
			t.Fatalf("security: %v", s)
		}
		clock.Advance(time.Second)
	})
}

// BenchmarkLargeOrganization times, over HTTP, what an admin of a
// 100,000-member organization does: flip the switch, open the Members
// pages (first, a deep one, the filter "without 2FA"), and the Security &
// SSO counts.
func BenchmarkLargeOrganization(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			clock := apptest.NewClock()
			opts := []apptest.Option{apptest.WithClock(clock)}
			if db == "postgres" {
				opts = append(opts, apptest.Postgres(b))
			}
			env := apptest.Start(b, opts...)
			owner, org, _ := bulkOrg(b, env, clock, bulkMembers)
			for _, c := range []struct{ name, method, path string }{
				{"members_page_1", "GET", org + "/members"},
				{"members_page_1000", "GET", org + "/members?page=1000"},
				{"members_without_2fa", "GET", org + "/members?filter=without_two_factor"},
				{"security_counts", "GET", org + "/security"},
				{"switch", "PUT", org + "/security"},
			} {
				b.Run(c.name, func(b *testing.B) {
					on := false
					for b.Loop() {
						var body any
						if c.method == "PUT" {
							on = !on
							body = map[string]any{"require_two_factor": on}
						}
						if r := owner.c.API(c.method, c.path, body); r.StatusCode != 200 {
							b.Fatalf("%d %s", r.StatusCode, r.Body)
						}
					}
				})
			}
		})
	}
}

// TestRemindReachesEveryone walks past the first 500 members without 2FA.
func TestRemindReachesEveryone(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	owner, org, _ := bulkOrg(t, env, clock, 900) // 600 without 2FA
	r := owner.c.API("POST", org+"/reminders", nil)
	if r.StatusCode != 202 || r.JSON()["sent"] != float64(600) {
		t.Fatalf("remind: %d %s", r.StatusCode, r.Body)
	}
	for _, i := range []int{1, 700, 898} { // user id i+1 not a multiple of 3: without 2FA
		if m := env.Mail.Wait(t, fmt.Sprintf("m%d@bulk.example", i)); !strings.Contains(m.Text, "Big Corp asks its members") {
			t.Fatalf("reminder to m%d:\n%s", i, m.Text)
		}
	}
}
