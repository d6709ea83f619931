package auth_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
)

// TestADeadlineLetsMembersInUntilItsDate: with a deadline, members without
// 2FA log in as usual and see it pending; from the date, the seed's rule
// (set-up at login). A deadline in the past or more than a year ahead is
// refused; the audit line records it.
func TestADeadlineLetsMembersInUntilItsDate(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.org(t, "owner@example.com")
	bob := f.signup(t, "bob@example.com", true)
	f.join(t, owner.User, bob, o.ID, gardien.RoleMember)
	now := f.clock.Now()
	for _, bad := range []time.Time{now.Add(-time.Hour), now, now.Add(400 * 24 * time.Hour)} {
		err := f.svc.SetRequireTwoFactor(ctx, owner.User, o.ID, true, auth.RequireOptions{Deadline: bad}, client)
		wantCode(t, err, gardien.CodeValidationFailed)
	}
	deadline := now.Add(10 * 24 * time.Hour)
	if err := f.svc.SetRequireTwoFactor(ctx, owner.User, o.ID, true, auth.RequireOptions{Deadline: deadline, EndSessions: true}, client); err != nil {
		t.Fatal(err)
	}
	l := f.login(t, bob.Email)
	if l.Status != auth.StatusOK {
		t.Fatalf("before the deadline Bob's login: %s", l.Status)
	}
	d, _, err := f.svc.PendingDeadline(ctx, l.User)
	if err != nil || d == nil || !d.At.Equal(deadline) || d.OrgName != "Acme" || auth.DaysLeft(now, d.At) != 10 {
		t.Fatalf("pending deadline: %+v %v", d, err)
	}
	if d, _, _ := f.svc.PendingDeadline(ctx, owner.User); d != nil {
		t.Fatalf("the owner, who has 2FA, has a deadline: %+v", d)
	}
	events, _ := f.svc.AuditLog(ctx, owner.User, o.ID, gardien.EventFilter{Type: gardien.EventOrgRequireTwoFactorOn})
	if len(events) != 1 || events[0].Data["deadline"] != deadline.Format(time.RFC3339) || events[0].Data["sessions"] != "kept" {
		t.Fatalf("audit: %+v", events)
	}
	f.clock.Advance(10 * 24 * time.Hour)
	if l := f.login(t, bob.Email); l.Status != auth.StatusSetupRequired {
		t.Fatalf("from the deadline Bob's login: %s", l.Status)
	}
	if d, _, _ := f.svc.PendingDeadline(ctx, bob); d != nil {
		t.Fatalf("a deadline passed is still pending: %+v", d)
	}
}

func TestDaysLeftCountsAPartOfADayAsADay(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]int{-time.Hour: 0, 0: 0, 5 * time.Minute: 1, 24 * time.Hour: 1, 30 * time.Hour: 2, 7 * 24 * time.Hour: 7} {
		if got := auth.DaysLeft(now, now.Add(d)); got != want {
			t.Errorf("%v ahead: %d days, want %d", d, got, want)
		}
	}
}

// TestRemindersGoOut7And3And1DaysBeforeTheDeadlineOnce: each reminder once,
// to members without 2FA only, in their language, saying the days left.
func TestRemindersGoOut7And3And1DaysBeforeTheDeadlineOnce(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.org(t, "owner@example.com")
	bob := f.signup(t, "bob@example.com", true)
	f.join(t, owner.User, bob, o.ID, gardien.RoleMember)
	zoe := f.signup(t, "zoe@example.com", true)
	f.join(t, owner.User, zoe, o.ID, gardien.RoleMember)
	if _, err := f.svc.UpdateProfile(ctx, zoe.ID, "Zoé", "fr", func(string) bool { return true }); err != nil {
		t.Fatal(err)
	}
	deadline := f.clock.Now().Add(10 * 24 * time.Hour)
	if err := f.svc.SetRequireTwoFactor(ctx, owner.User, o.ID, true, auth.RequireOptions{Deadline: deadline}, client); err != nil {
		t.Fatal(err)
	}
	sweep := func(want int) {
		t.Helper()
		n, err := f.svc.SendDeadlineReminders(ctx)
		if err != nil || n != want {
			t.Fatalf("at %s: %d reminders (%v), want %d", f.clock.Now(), n, err, want)
		}
		f.svc.Wait(ctx)
	}
	reminders := func(to string) []string {
		var out []string
		for _, m := range f.mails.to(to) {
			if strings.Contains(m.Subject, "deadline") || strings.Contains(m.Subject, "échéance") {
				out = append(out, m.Text)
			}
		}
		return out
	}
	sweep(0) // 10 days ahead: nothing yet
	f.clock.Advance(4 * 24 * time.Hour)
	sweep(2) // 6 days ahead: the 7-day reminder
	sweep(0) // once
	f.clock.Advance(4 * 24 * time.Hour)
	sweep(2) // 2 days ahead: the 3-day reminder
	f.clock.Advance(36 * time.Hour)
	sweep(2) // 12 hours ahead: the last one
	sweep(0)
	f.clock.Advance(24 * time.Hour)
	sweep(0) // past: none
	got := reminders(bob.Email)
	if len(got) != 3 || !strings.Contains(got[0], "6 days left") || !strings.Contains(got[1], "2 days left") || !strings.Contains(got[2], "1 day left") {
		t.Fatalf("Bob's reminders:\n%s", strings.Join(got, "\n---\n"))
	}
	if !strings.Contains(got[0], "Acme") || !strings.Contains(got[0], deadline.Format("Jan 2, 2006")) {
		t.Fatalf("the reminder does not say which organization and when:\n%s", got[0])
	}
	fr := reminders(zoe.Email)
	if len(fr) != 3 || !strings.Contains(fr[0], "il reste 6 jours") || !strings.Contains(fr[2], "il reste 1 jour.") {
		t.Fatalf("Zoé's reminders are not in French:\n%s", strings.Join(fr, "\n---\n"))
	}
	if len(reminders(owner.User.Email)) != 0 {
		t.Fatal("the owner, who has 2FA, got reminders")
	}
	m, err := f.svc.Members(ctx, owner.User, o.ID, true, 1)
	if err != nil || len(m.Members) != 2 || m.Members[0].LastRemindedAt.IsZero() {
		t.Fatalf("last reminded: %+v %v", m, err)
	}
}

// GET /me finds the pending deadline among the memberships it has read:
// the same answer as the store's query, as deadlines pass, for a person
// in organizations with a far deadline, a near one and none; none for a
// person with 2FA.
func TestTheDeadlineAmongMembershipsIsThePendingOne(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, far := f.org(t, "owner@example.com")
	bob := f.signup(t, "bob@example.com", true)
	now := f.clock.Now()
	orgs := []struct {
		name     string
		deadline time.Duration // 0: required without one
	}{{"Acme", 20 * 24 * time.Hour}, {"Near", 5 * 24 * time.Hour}, {"Now", 0}}
	for i, o := range orgs {
		id := far.ID
		if i > 0 {
			created, err := f.svc.CreateOrganization(ctx, owner.User, o.name, client)
			if err != nil {
				t.Fatal(err)
			}
			id = created.ID
		}
		f.join(t, owner.User, bob, id, gardien.RoleMember)
		opts := auth.RequireOptions{}
		if o.deadline > 0 {
			opts.Deadline = now.Add(o.deadline)
		}
		if err := f.svc.SetRequireTwoFactor(ctx, owner.User, id, true, opts, client); err != nil {
			t.Fatal(err)
		}
	}
	check := func(who *gardien.User, want string) {
		t.Helper()
		ms, err := f.svc.Memberships(ctx, who.ID)
		if err != nil {
			t.Fatal(err)
		}
		queried, _, err := f.svc.PendingDeadline(ctx, who)
		if err != nil {
			t.Fatal(err)
		}
		among := f.svc.DeadlineAmong(who, ms)
		if fmt.Sprint(among) != fmt.Sprint(queried) || (among == nil) != (want == "") || among != nil && among.OrgName != want {
			t.Fatalf("among the memberships %+v, queried %+v, want %q", among, queried, want)
		}
	}
	check(bob, "Near")
	check(owner.User, "")
	f.clock.Advance(6 * 24 * time.Hour)
	check(bob, "Acme")
	f.clock.Advance(20 * 24 * time.Hour)
	check(bob, "")
}
