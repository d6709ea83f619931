package api_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gardien/gardien/internal/apptest"
)

// newOrg makes an organization owned by p and returns its API path.
func newOrg(t testing.TB, p *person, name string) string {
	t.Helper()
	r := p.c.API("POST", "/organizations", map[string]any{"name": name})
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("create organization: %d %s", r.StatusCode, r.Body)
	}
	return fmt.Sprintf("/organizations/%v", r.JSON()["organization"].(map[string]any)["id"])
}

// join invites p into org with role and has them accept.
func join(t testing.TB, env *apptest.Env, admin, p *person, org, role string) {
	t.Helper()
	r := admin.c.API("POST", org+"/invitations", map[string]any{"email": p.email, "role": role})
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("invite %s: %d %s", p.email, r.StatusCode, r.Body)
	}
	tok := env.Mail.Wait(t, p.email).Token()
	if r := p.c.API("POST", "/invitations/accept", map[string]any{"token": tok}); r.StatusCode != 200 {
		t.Fatalf("accept: %d %s", r.StatusCode, r.Body)
	}
}

func memberID(t testing.TB, admin *person, org, email string) string {
	t.Helper()
	for _, m := range admin.c.API("GET", org+"/members", nil).JSON()["members"].([]any) {
		if m.(map[string]any)["email"] == email {
			return fmt.Sprint(m.(map[string]any)["user_id"])
		}
	}
	t.Fatalf("%s not in %s", email, org)
	return ""
}

func TestOrganizationsInvitationsAndRoles(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	owner := verified(t, env, "owner@example.com")
	org := newOrg(t, owner, "  Acme   Corp ")
	me := owner.c.API("GET", "/me", nil).JSON()["organizations"].([]any)
	if len(me) != 1 || me[0].(map[string]any)["name"] != "Acme Corp" || me[0].(map[string]any)["role"] != "owner" || me[0].(map[string]any)["require_two_factor"] != false {
		t.Fatalf("me organizations: %v", me)
	}
	wantProblem(t, owner.c.API("POST", "/organizations", map[string]any{"name": " "}), 422, "validation_failed")

	// An invitation names the organization and carries a token link.
	r := owner.c.API("POST", org+"/invitations", map[string]any{"email": "Bob@Example.com", "role": "member"})
	if r.StatusCode != 201 {
		t.Fatalf("invite: %d %s", r.StatusCode, r.Body)
	}
	m := env.Mail.Wait(t, "Bob@example.com")
	if !strings.Contains(m.Text, "Acme Corp") || !strings.HasPrefix(m.Link(), env.URL+"/invitations/accept?token=") {
		t.Fatalf("invitation mail:\n%s", m.Text)
	}
	// Someone else cannot use it; the invitee, once signed up, can, once.
	eve := verified(t, env, "eve@example.com")
	wantProblem(t, eve.c.API("POST", "/invitations/accept", map[string]any{"token": m.Token()}), 403, "forbidden")
	bob := &person{email: "bob@example.com", c: env.Client(t)}
	signup(t, env, bob.c, bob.email)
	login(t, bob.c, bob.email, pw)
	if r := bob.c.API("POST", "/invitations/accept", map[string]any{"token": m.Token()}); r.StatusCode != 200 || r.JSON()["organization"].(map[string]any)["role"] != "member" {
		t.Fatalf("accept: %d %s", r.StatusCode, r.Body)
	}
	if bob.c.API("GET", "/me", nil).JSON()["user"].(map[string]any)["email_verified"] != true {
		t.Fatal("accepting a mailed invitation did not validate the email")
	}
	wantProblem(t, bob.c.API("POST", "/invitations/accept", map[string]any{"token": m.Token()}), 400, "invalid_token")

	// An invitation expires after 7 days, and can be revoked.
	carol := verified(t, env, "carol@example.com")
	r = owner.c.API("POST", org+"/invitations", map[string]any{"email": carol.email, "role": "admin"})
	revoked := env.Mail.Wait(t, carol.email).Token()
	invID := r.JSON()["invitation"].(map[string]any)["id"]
	if r := owner.c.API("DELETE", fmt.Sprintf("%s/invitations/%v", org, invID), nil); r.StatusCode != 204 {
		t.Fatalf("revoke: %d %s", r.StatusCode, r.Body)
	}
	wantProblem(t, carol.c.API("POST", "/invitations/accept", map[string]any{"token": revoked}), 400, "invalid_token")
	owner.c.API("POST", org+"/invitations", map[string]any{"email": carol.email, "role": "admin"})
	late := env.Mail.Wait(t, carol.email).Token()
	clock.Advance(7*24*time.Hour + time.Second)
	for _, p := range []*person{owner, bob, carol, eve} { // sessions ended meanwhile
		login(t, p.c, p.email, pw)
	}
	wantProblem(t, carol.c.API("POST", "/invitations/accept", map[string]any{"token": late}), 400, "invalid_token")
	join(t, env, owner, carol, org, "admin")

	// Members see nothing of the management; strangers not even the organization.
	wantProblem(t, bob.c.API("GET", org+"/members", nil), 403, "forbidden")
	wantProblem(t, bob.c.API("POST", org+"/invitations", map[string]any{"email": "x@example.com", "role": "member"}), 403, "forbidden")
	wantProblem(t, bob.c.API("PUT", org+"/security", map[string]any{"require_two_factor": true}), 403, "forbidden")
	wantProblem(t, eve.c.API("GET", org+"/members", nil), 404, "not_found")
	wantProblem(t, eve.c.API("GET", "/organizations/999999/members", nil), 404, "not_found")
	wantProblem(t, eve.c.API("GET", "/organizations/abc/members", nil), 404, "not_found")

	// Admins manage members and admins, not owners.
	ownerID, bobID := memberID(t, carol, org, owner.email), memberID(t, carol, org, bob.email)
	wantProblem(t, carol.c.API("POST", org+"/invitations", map[string]any{"email": "x@example.com", "role": "owner"}), 403, "forbidden")
	wantProblem(t, carol.c.API("PUT", org+"/members/"+ownerID, map[string]any{"role": "member"}), 403, "forbidden")
	wantProblem(t, carol.c.API("DELETE", org+"/members/"+ownerID, nil), 403, "forbidden")
	wantProblem(t, carol.c.API("PUT", org+"/members/"+bobID, map[string]any{"role": "owner"}), 403, "forbidden")
	wantProblem(t, carol.c.API("PUT", org+"/members/"+bobID, map[string]any{"role": "boss"}), 422, "validation_failed")
	if r := carol.c.API("PUT", org+"/members/"+bobID, map[string]any{"role": "admin"}); r.StatusCode != 200 {
		t.Fatalf("admin promotes a member: %d %s", r.StatusCode, r.Body)
	}
	carol.c.API("PUT", org+"/members/"+bobID, map[string]any{"role": "member"})

	// The last owner can neither leave, be demoted nor removed.
	wantProblem(t, owner.c.API("PUT", org+"/members/"+ownerID, map[string]any{"role": "admin"}), 409, "conflict")
	wantProblem(t, owner.c.API("DELETE", org+"/members/"+ownerID, nil), 409, "conflict")
	if r := owner.c.API("PUT", org+"/members/"+memberID(t, owner, org, carol.email), map[string]any{"role": "owner"}); r.StatusCode != 200 {
		t.Fatalf("second owner: %d", r.StatusCode)
	}
	if r := owner.c.API("DELETE", org+"/members/"+ownerID, nil); r.StatusCode != 204 {
		t.Fatalf("owner leaves once another owner exists: %d %s", r.StatusCode, r.Body)
	}
	// Anyone may leave.
	if r := bob.c.API("DELETE", org+"/members/"+bobID, nil); r.StatusCode != 204 {
		t.Fatalf("member leaves: %d %s", r.StatusCode, r.Body)
	}
	if orgs := bob.c.API("GET", "/me", nil).JSON()["organizations"].([]any); len(orgs) != 0 {
		t.Fatalf("after leaving: %v", orgs)
	}
}

func TestMembersListShowsWhoIsProtected(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	owner := enabled(t, env, clock, "owner@example.com")
	org := newOrg(t, owner, "Acme")
	plain := verified(t, env, "plain@example.com")
	join(t, env, owner, plain, org, "member")
	safe := enabled(t, env, clock, "safe@example.com")
	join(t, env, owner, safe, org, "member")

	r := owner.c.API("GET", org+"/members", nil).JSON()
	if r["total"] != float64(3) || r["protected"] != float64(2) || r["pages"] != float64(1) {
		t.Fatalf("counts: %v", r)
	}
	byEmail := map[string]map[string]any{}
	for _, m := range r["members"].([]any) {
		byEmail[m.(map[string]any)["email"].(string)] = m.(map[string]any)
	}
	if byEmail["plain@example.com"]["two_factor_enabled"] != false || byEmail["safe@example.com"]["two_factor_enabled"] != true ||
		byEmail["owner@example.com"]["role"] != "owner" || byEmail["plain@example.com"]["last_login_at"] == nil {
		t.Fatalf("members: %v", byEmail)
	}
	r = owner.c.API("GET", org+"/members?filter=without_two_factor", nil).JSON()
	if ms := r["members"].([]any); len(ms) != 1 || ms[0].(map[string]any)["email"] != "plain@example.com" {
		t.Fatalf("without 2FA: %v", r["members"])
	}
	wantProblem(t, owner.c.API("GET", org+"/members?filter=nope", nil), 422, "validation_failed")
	wantProblem(t, owner.c.API("GET", org+"/members?page=0", nil), 422, "validation_failed")

	if r := owner.c.API("POST", org+"/reminders", nil); r.StatusCode != 202 || r.JSON()["sent"] != float64(1) {
		t.Fatalf("remind: %d %s", r.StatusCode, r.Body)
	}
	if m := env.Mail.Wait(t, "plain@example.com"); !strings.Contains(m.Text, "Acme asks its members") || !strings.Contains(m.Text, env.URL+"/settings/two-factor\n") {
		t.Fatalf("reminder:\n%s", m.Text)
	}
}

func TestRequireTwoFactor(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	owner := verified(t, env, "owner@example.com")
	org := newOrg(t, owner, "Acme")
	member := verified(t, env, "member@example.com")
	join(t, env, owner, member, org, "member")
	safe := enabled(t, env, clock, "safe@example.com")
	join(t, env, owner, safe, org, "member")

	// Only once the admin's own account has 2FA.
	wantProblem(t, owner.c.API("PUT", org+"/security", map[string]any{"require_two_factor": true}), 403, "forbidden")
	wantProblem(t, owner.c.API("PUT", org+"/security", map[string]any{}), 422, "validation_failed")
	wantProblem(t, owner.c.API("PUT", org+"/security", map[string]any{"require_two_factor": "yes"}), 422, "validation_failed")
	r := owner.c.API("POST", "/me/two-factor/setup", nil)
	owner.secret, _ = decodeSecret(r.JSON()["secret"].(string))
	owner.c.API("POST", "/me/two-factor/activate", map[string]any{"code": owner.code(clock)})
	clock.Advance(30 * time.Second)

	if s := owner.c.API("GET", org+"/security", nil).JSON(); s["members_without_two_factor"] != float64(1) || s["require_two_factor"] != false {
		t.Fatalf("security: %v", s)
	}
	if r := owner.c.API("PUT", org+"/security", map[string]any{"require_two_factor": true}); r.StatusCode != 200 {
		t.Fatalf("require: %d %s", r.StatusCode, r.Body)
	}
	// Sessions already open run on: "at their next login".
	if r := member.c.API("GET", "/me/events", nil); r.StatusCode != 200 {
		t.Fatalf("open session after the switch: %d", r.StatusCode)
	}
	// At the next login: set-up, and nothing else.
	c := env.Client(t)
	if r := login(t, c, member.email, pw); r.JSON()["status"] != "two_factor_setup_required" {
		t.Fatalf("login: %s", r.Body)
	}
	if me := c.API("GET", "/me", nil); me.StatusCode != 200 || me.JSON()["organizations"].([]any)[0].(map[string]any)["require_two_factor"] != true {
		t.Fatalf("me: %d %s", me.StatusCode, me.Body)
	}
	for _, call := range []struct{ method, path string }{
		{"GET", "/me/events"}, {"PATCH", "/me"}, {"GET", "/me/two-factor"}, {"POST", "/organizations"}, {"GET", org + "/members"}, {"POST", "/login/two-factor"},
	} {
		wantProblem(t, c.API(call.method, call.path, map[string]any{}), 403, "two_factor_setup_required")
	}
	r = c.API("POST", "/me/two-factor/setup", nil)
	if r.StatusCode != 200 {
		t.Fatalf("setup: %d %s", r.StatusCode, r.Body)
	}
	mp := &person{c: c}
	mp.secret, _ = decodeSecret(r.JSON()["secret"].(string))
	if r := c.API("POST", "/me/two-factor/activate", map[string]any{"code": mp.code(clock)}); r.StatusCode != 200 {
		t.Fatalf("activate: %d %s", r.StatusCode, r.Body)
	}
	if r := c.API("GET", "/me/events", nil); r.StatusCode != 200 {
		t.Fatalf("after setting 2FA up: %d", r.StatusCode)
	}
	// Members with 2FA notice nothing; nobody can turn it off now.
	c2 := env.Client(t)
	if r := login(t, c2, safe.email, pw); r.JSON()["status"] != "two_factor_required" {
		t.Fatalf("member with 2FA: %s", r.Body)
	}
	p := wantProblem(t, c.API("POST", "/me/two-factor/disable", map[string]any{"password": pw}), 403, "two_factor_required_by_organization")
	if !strings.Contains(p["detail"].(string), "Acme") {
		t.Fatalf("refusal does not name the organization: %v", p)
	}
	// SSO people are not asked.
	// Turning it off: the same one write; login is plain again.
	if r := owner.c.API("PUT", org+"/security", map[string]any{"require_two_factor": false}); r.StatusCode != 200 {
		t.Fatalf("off: %d", r.StatusCode)
	}
	if r := c.API("POST", "/me/two-factor/disable", map[string]any{"password": pw}); r.StatusCode != 200 {
		t.Fatalf("disable once not required: %d %s", r.StatusCode, r.Body)
	}
	var types []string
	for _, e := range owner.c.API("GET", org+"/events", nil).JSON()["events"].([]any) {
		types = append(types, e.(map[string]any)["type"].(string))
	}
	got := strings.Join(types, ",")
	for _, want := range []string{"org.two_factor_optional", "two_factor.disabled", "two_factor.enabled", "org.two_factor_required", "org.member_joined", "org.invitation_sent", "org.created"} {
		if !strings.Contains(got, want) {
			t.Errorf("audit log %s lacks %s", got, want)
		}
	}
}

func TestResetMemberTwoFactor(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	owner := enabled(t, env, clock, "owner@example.com")
	org := newOrg(t, owner, "Acme")
	admin := enabled(t, env, clock, "admin@example.com")
	join(t, env, owner, admin, org, "admin")
	admin2 := enabled(t, env, clock, "admin2@example.com")
	join(t, env, owner, admin2, org, "admin")
	lost := enabled(t, env, clock, "lost@example.com")
	join(t, env, owner, lost, org, "member")
	owner.c.API("PUT", org+"/security", map[string]any{"require_two_factor": true})

	wantProblem(t, lost.c.API("DELETE", org+"/members/"+memberID(t, owner, org, admin.email)+"/two-factor", nil), 403, "forbidden")
	wantProblem(t, admin.c.API("DELETE", org+"/members/"+memberID(t, owner, org, admin2.email)+"/two-factor", nil), 403, "forbidden")
	if r := admin.c.API("DELETE", org+"/members/"+memberID(t, owner, org, lost.email)+"/two-factor", nil); r.StatusCode != 204 {
		t.Fatalf("admin resets a member: %d %s", r.StatusCode, r.Body)
	}
	if m := env.Mail.Wait(t, lost.email); m.Subject != "Your two-factor authentication was reset" || !strings.Contains(m.Text, "Acme") {
		t.Fatalf("mail %q:\n%s", m.Subject, m.Text)
	}
	wantProblem(t, lost.c.API("GET", "/me", nil), 401, "unauthorized")
	c := env.Client(t)
	if r := login(t, c, lost.email, pw); r.JSON()["status"] != "two_factor_setup_required" {
		t.Fatalf("login after reset under a requirement: %s", r.Body)
	}
	if r := owner.c.API("DELETE", org+"/members/"+memberID(t, owner, org, admin2.email)+"/two-factor", nil); r.StatusCode != 204 {
		t.Fatalf("owner resets an admin: %d %s", r.StatusCode, r.Body)
	}
	wantProblem(t, owner.c.API("DELETE", org+"/members/"+memberID(t, owner, org, admin2.email)+"/two-factor", nil), 409, "conflict")
	ev := owner.c.API("GET", org+"/events?type=org.member_two_factor_reset", nil).JSON()["events"].([]any)
	if len(ev) != 2 || ev[0].(map[string]any)["user_email"] != admin2.email || ev[0].(map[string]any)["actor_email"] != owner.email {
		t.Fatalf("reset events: %v", ev)
	}
}

func TestAuditLogPagingAndExport(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	owner := verified(t, env, "owner@example.com")
	org := newOrg(t, owner, "Acme")
	for i := range 5 {
		owner.c.API("POST", org+"/invitations", map[string]any{"email": fmt.Sprintf("p%d@example.com", i), "role": "member"})
	}
	r := owner.c.API("GET", org+"/events?limit=4", nil).JSON()
	if len(r["events"].([]any)) != 4 || r["next_before"] == nil {
		t.Fatalf("page 1: %v", r)
	}
	r2 := owner.c.API("GET", fmt.Sprintf("%s/events?limit=4&before=%v", org, r["next_before"]), nil).JSON()
	if len(r2["events"].([]any)) != 2 || r2["next_before"] != nil {
		t.Fatalf("page 2: %v", r2)
	}
	wantProblem(t, owner.c.API("GET", org+"/events?limit=5000", nil), 422, "validation_failed")
	wantProblem(t, owner.c.API("GET", org+"/events?type=%FF", nil), 422, "validation_failed")
	wantProblem(t, owner.c.API("GET", org+"/events?before=-1", nil), 422, "validation_failed")
	exp := owner.c.API("GET", org+"/events.jsonl", nil)
	lines := strings.Split(strings.TrimSpace(string(exp.Body)), "\n")
	if exp.Header.Get("Content-Type") != "application/x-ndjson" || len(lines) != 6 || !strings.Contains(lines[5], `"type":"org.created"`) {
		t.Fatalf("export %s:\n%s", exp.Header.Get("Content-Type"), exp.Body)
	}
	// The same log as CSV, for a spreadsheet: a header, one line an event,
	// the filters applied, and an address that starts like a formula
	// (invited above as an ordinary email) written as text.
	owner.c.API("POST", org+"/invitations", map[string]any{"email": "=cmd@example.com", "role": "member"})
	c := owner.c.API("GET", org+"/events.csv?type=org.invitation_sent", nil)
	rows, err := csv.NewReader(bytes.NewReader(c.Body)).ReadAll()
	if err != nil || c.Header.Get("Content-Type") != "text/csv; charset=utf-8" || len(rows) != 7 || rows[0][2] != "type" {
		t.Fatalf("csv %s (%v):\n%s", c.Header.Get("Content-Type"), err, c.Body)
	}
	if rows[1][2] != "org.invitation_sent" || !strings.Contains(rows[1][7], "'=cmd@example.com") {
		t.Fatalf("newest line %q", rows[1])
	}
	wantProblem(t, owner.c.API("GET", org+"/events.csv?person=not-an-address", nil), 422, "validation_failed")
}

func TestSeveralOrganizations(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	a := enabled(t, env, clock, "a@example.com")
	b := enabled(t, env, clock, "b@example.com")
	orgA, orgB := newOrg(t, a, "Alpha"), newOrg(t, b, "Beta")
	p := verified(t, env, "p@example.com")
	join(t, env, a, p, orgA, "admin")
	join(t, env, b, p, orgB, "member")
	orgs := p.c.API("GET", "/me", nil).JSON()["organizations"].([]any)
	if len(orgs) != 2 || orgs[0].(map[string]any)["name"] != "Alpha" || orgs[0].(map[string]any)["role"] != "admin" || orgs[1].(map[string]any)["role"] != "member" {
		t.Fatalf("organizations: %v", orgs)
	}
	// Roles are per organization.
	if r := p.c.API("GET", orgA+"/members", nil); r.StatusCode != 200 {
		t.Fatalf("admin of Alpha: %d", r.StatusCode)
	}
	wantProblem(t, p.c.API("GET", orgB+"/members", nil), 403, "forbidden")
	// One organization that requires 2FA is enough; leaving it lifts it.
	b.c.API("PUT", orgB+"/security", map[string]any{"require_two_factor": true})
	c := env.Client(t)
	if r := login(t, c, p.email, pw); r.JSON()["status"] != "two_factor_setup_required" {
		t.Fatalf("login: %s", r.Body)
	}
	if r := p.c.API("DELETE", orgB+"/members/"+fmt.Sprint(p.c.API("GET", "/me", nil).JSON()["user"].(map[string]any)["id"]), nil); r.StatusCode != 204 {
		t.Fatalf("leave Beta: %d %s", r.StatusCode, r.Body)
	}
	if r := login(t, c, p.email, pw); r.JSON()["status"] != "ok" {
		t.Fatalf("login after leaving: %s", r.Body)
	}
}

func TestRequireTwoFactorCanEmailMembersNow(t *testing.T) {
	t.Parallel()
	env, _, owner, member, org := acme(t)

	wantProblem(t, owner.c.API("PUT", org+"/security", map[string]any{"require_two_factor": true, "notify_members": "yes"}), 422, "validation_failed")
	if r := owner.c.API("PUT", org+"/security", map[string]any{"require_two_factor": true, "notify_members": true}); r.StatusCode != 200 {
		t.Fatalf("require: %d %s", r.StatusCode, r.Body)
	}
	m := env.Mail.WaitSubject(t, member.email, "Your organization now requires two-factor authentication")
	if !strings.Contains(m.Text, "Acme") || !strings.Contains(m.Text, env.URL+"/settings/two-factor\n") {
		t.Fatalf("requirement mail:\n%s", m.Text)
	}
}

func TestInvitingAMemberOrAnInviteeAgainIsAConflict(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	owner := verified(t, env, "owner@example.com")
	org := newOrg(t, owner, "Acme")
	if r := owner.c.API("POST", org+"/invitations", map[string]any{"email": "bob@example.com", "role": "member"}); r.StatusCode != 201 {
		t.Fatalf("invite: %d %s", r.StatusCode, r.Body)
	}
	env.Mail.Wait(t, "bob@example.com")
	p := wantProblem(t, owner.c.API("POST", org+"/invitations", map[string]any{"email": "bob@example.com", "role": "admin"}), 409, "conflict")
	if !strings.Contains(p["detail"].(string), "bob@example.com is already invited") {
		t.Fatalf("detail: %v", p["detail"])
	}
	wantProblem(t, owner.c.API("POST", org+"/invitations", map[string]any{"email": "owner@example.com", "role": "member"}), 409, "conflict")
	env.Mail.None(t, "bob@example.com", 200*time.Millisecond)
	if l := owner.c.API("GET", org+"/invitations", nil).JSON()["invitations"].([]any); len(l) != 1 {
		t.Fatalf("pending invitations: %v", l)
	}
}

// TestRequireTwoFactorByADeadline: PUT security takes a deadline (a date or
// an RFC 3339 time); GET security, the organizations of GET /me and the
// members list say it; a member without 2FA sees it pending in GET /me and
// logs in as usual until it, and is held at the set-up from it.
func TestRequireTwoFactorByADeadline(t *testing.T) {
	t.Parallel()
	env, clock, owner, member, org := acme(t)

	for _, bad := range []any{"soon", 12, "2020-01-01", clock.Now().Add(500 * 24 * time.Hour).Format(time.RFC3339)} {
		p := wantProblem(t, owner.c.API("PUT", org+"/security", map[string]any{"require_two_factor": true, "deadline": bad}), 422, "validation_failed")
		if errs, _ := p["errors"].([]any); len(errs) == 0 || errs[0].(map[string]any)["field"] != "deadline" && bad != 12 {
			t.Fatalf("deadline %v: %v", bad, p)
		}
	}
	if r := owner.c.API("GET", org+"/security", nil).JSON(); r["require_two_factor"] != false {
		t.Fatalf("a refused deadline turned the requirement on: %v", r)
	}
	deadline := clock.Now().Add(10 * 24 * time.Hour).UTC().Truncate(time.Second)
	if r := owner.c.API("PUT", org+"/security", map[string]any{"require_two_factor": true, "deadline": deadline.Format(time.RFC3339), "notify_members": true}); r.StatusCode != 200 {
		t.Fatalf("require by a deadline: %d %s", r.StatusCode, r.Body)
	}
	env.Mail.WaitSubject(t, member.email, "Your organization requires two-factor authentication")
	if r := owner.c.API("GET", org+"/security", nil).JSON(); r["two_factor_deadline"] != deadline.Format(time.RFC3339) {
		t.Fatalf("security: %v", r)
	}
	ms := owner.c.API("GET", org+"/members?filter=without_two_factor", nil).JSON()["members"].([]any)
	if len(ms) != 1 || ms[0].(map[string]any)["last_reminded_at"] == nil {
		t.Fatalf("members: %v", ms)
	}
	if r := login(t, env.Client(t), member.email, pw).JSON(); r["status"] != "ok" {
		t.Fatalf("the member's login before the deadline: %v", r)
	}
	me := member.c.API("GET", "/me", nil).JSON()
	d, _ := me["two_factor_deadline"].(map[string]any)
	if d == nil || d["organization"] != "Acme" || d["at"] != deadline.Format(time.RFC3339) || d["days_left"] != float64(10) {
		t.Fatalf("GET /me: %v", me)
	}
	if orgs := me["organizations"].([]any); orgs[0].(map[string]any)["two_factor_deadline"] != deadline.Format(time.RFC3339) {
		t.Fatalf("GET /me organizations: %v", orgs)
	}
	if _, ok := owner.c.API("GET", "/me", nil).JSON()["two_factor_deadline"]; ok {
		t.Fatal("the owner, who has 2FA, has a deadline in GET /me")
	}
	clock.Advance(10 * 24 * time.Hour)
	if r := login(t, env.Client(t), member.email, pw).JSON(); r["status"] != "two_factor_setup_required" {
		t.Fatalf("the member's login from the deadline: %v", r)
	}
}

// acme starts a server with Acme: its owner (2FA on) and a member without
// 2FA; it returns them, the organization's path and the clock.
func acme(t *testing.T) (*apptest.Env, *apptest.Clock, *person, *person, string) {
	t.Helper()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	owner := enabled(t, env, clock, "owner@example.com")
	org := newOrg(t, owner, "Acme")
	member := verified(t, env, "member@example.com")
	join(t, env, owner, member, org, "member")
	return env, clock, owner, member, org
}

// A deleted organization's history goes to nobody: the next organization
// created — by anyone, even with an unvalidated email — gets another id,
// and its audit log starts empty of the deleted one's lines.
func TestADeletedOrganizationsHistoryGoesToNobody(t *testing.T) {
	apptest.OnEachDatabase(t, func(t *testing.T, db []apptest.Option) {
		env := apptest.Start(t, db...)
		owner := verified(t, env, "owner@example.com")
		org := owner.c.API("POST", "/organizations", map[string]any{"name": "Old"}).JSON()["organization"].(map[string]any)
		owner.c.API("POST", fmt.Sprintf("/organizations/%v/invitations", org["id"]), map[string]any{"email": "secret-member@example.com", "role": "member"})
		if r := owner.c.API("DELETE", fmt.Sprintf("/organizations/%v", org["id"]), map[string]any{"name": "Old"}); r.StatusCode != 204 {
			t.Fatalf("delete: %d %s", r.StatusCode, r.Body)
		}
		stranger := env.Client(t)
		signup(t, env, stranger, "stranger@example.com")
		if r := login(t, stranger, "stranger@example.com", pw); r.StatusCode != 200 {
			t.Fatalf("login: %d", r.StatusCode)
		}
		next := stranger.API("POST", "/organizations", map[string]any{"name": "New"}).JSON()["organization"].(map[string]any)
		if next["id"] == org["id"] {
			t.Errorf("the deleted organization's id %v was given to the next one", org["id"])
		}
		log := stranger.API("GET", fmt.Sprintf("/organizations/%v/events", next["id"]), nil)
		if log.StatusCode != 200 || strings.Contains(string(log.Body), "secret-member@example.com") || strings.Contains(string(log.Body), "owner@example.com") {
			t.Fatalf("the new organization's log: %d %s", log.StatusCode, log.Body)
		}
	})
}

// An owner or admin signs a member out everywhere: their sessions end, a
// mail tells them, the organization's log keeps it; an admin cannot sign
// an owner out, nor anyone themselves.
func TestSigningAMemberOutEverywhere(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	owner := verified(t, env, "owner@example.com")
	org := owner.c.API("POST", "/organizations", map[string]any{"name": "Acme"}).JSON()["organization"].(map[string]any)
	base := fmt.Sprintf("/organizations/%v", org["id"])
	join := func(email, role string) *person {
		p := verified(t, env, email)
		owner.c.API("POST", base+"/invitations", map[string]any{"email": email, "role": role})
		if r := p.c.API("POST", "/invitations/accept", map[string]any{"token": env.Mail.Wait(t, email).Token()}); r.StatusCode != 200 {
			t.Fatalf("accept: %d %s", r.StatusCode, r.Body)
		}
		return p
	}
	admin := join("admin@example.com", "admin")
	bob := join("bob@example.com", "member")
	idOf := func(p *person) string {
		return fmt.Sprint(p.c.API("GET", "/me", nil).JSON()["user"].(map[string]any)["id"])
	}
	bobID, ownerID, adminID := idOf(bob), idOf(owner), idOf(admin)
	wantProblem(t, admin.c.API("DELETE", base+"/members/"+ownerID+"/sessions", nil), 403, "forbidden")
	wantProblem(t, admin.c.API("DELETE", base+"/members/"+adminID+"/sessions", nil), 409, "conflict")
	if r := admin.c.API("DELETE", base+"/members/"+bobID+"/sessions", nil); r.StatusCode != 204 {
		t.Fatalf("an admin signing a member out: %d %s", r.StatusCode, r.Body)
	}
	if r := bob.c.API("GET", "/me", nil); r.StatusCode != 401 {
		t.Fatalf("Bob's session after: %d", r.StatusCode)
	}
	env.Mail.WaitSubject(t, "bob@example.com", "You were signed out everywhere")
	log := owner.c.API("GET", base+"/events?type=org.member_signed_out", nil).JSON()["events"].([]any)
	if len(log) != 1 || log[0].(map[string]any)["actor_email"] != "admin@example.com" || log[0].(map[string]any)["user_email"] != "bob@example.com" {
		t.Fatalf("the log: %v", log)
	}
}

// Members as CSV: each member's 2FA, SSO, last login and last reminder; a
// name a spreadsheet would run as a formula stays text.
func TestMembersAsCSV(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	owner := verified(t, env, "owner@example.com")
	org := owner.c.API("POST", "/organizations", map[string]any{"name": "Acme"}).JSON()["organization"].(map[string]any)
	base := fmt.Sprintf("/organizations/%v", org["id"])
	p := env.Client(t)
	p.API("POST", "/signup", map[string]any{"email": "eve@example.com", "password": pw, "name": `=HYPERLINK("https://evil.example")`})
	p.API("POST", "/email/verify", map[string]any{"token": env.Mail.Wait(t, "eve@example.com").Token()})
	owner.c.API("POST", base+"/invitations", map[string]any{"email": "eve@example.com", "role": "member"})
	p.API("POST", "/invitations/accept", map[string]any{"token": env.Mail.Wait(t, "eve@example.com").Token()})
	r := owner.c.Do("GET", "/api/v1"+base+"/members.csv", "", nil)
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("rows: %v %v", rows, err)
	}
	if strings.Join(rows[0], ",") != "email,name,role,two_factor,sso,last_login_at,last_reminded_at,joined_at,two_factor_methods,account" {
		t.Fatalf("header: %v", rows[0])
	}
	byEmail := map[string][]string{}
	for _, row := range rows[1:] {
		byEmail[row[0]] = row
	}
	if o := byEmail["owner@example.com"]; o[2] != "owner" || o[3] != "not_set_up" || o[5] == "" || o[8] != "" {
		t.Errorf("the owner's row: %v", o)
	}
	if e := byEmail["eve@example.com"]; !strings.HasPrefix(e[1], "'=") || e[2] != "member" {
		t.Errorf("a formula-looking name: %v", e)
	}
	wantProblem(t, p.API("GET", base+"/members.csv", nil), 403, "forbidden")
}
