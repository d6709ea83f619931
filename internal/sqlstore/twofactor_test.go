package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/sqlstore"
)

func enable(t *testing.T, s *sqlstore.Store, u *gardien.User, step int64, codes ...string) {
	t.Helper()
	ctx := context.Background()
	if err := s.SavePendingTOTP(ctx, u.ID, []byte("sealed"), t0.Add(15*time.Minute), t0); err != nil {
		t.Fatal(err)
	}
	var hashes [][]byte
	for _, c := range codes {
		hashes = append(hashes, hash(c))
	}
	if err := s.ActivateTOTP(ctx, u.ID, step, hashes, &gardien.Event{Time: t0, Type: "two_factor.enabled", UserID: u.ID}); err != nil {
		t.Fatal(err)
	}
}

func TestTOTPEnrollment(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		u := newUser(t, s, "ada@example.com")
		if _, err := s.PendingTOTP(ctx, u.ID, t0); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("pending before any: %v", err)
		}
		s.SavePendingTOTP(ctx, u.ID, []byte("first"), t0.Add(15*time.Minute), t0)
		s.SavePendingTOTP(ctx, u.ID, []byte("second"), t0.Add(15*time.Minute), t0)
		if got, err := s.PendingTOTP(ctx, u.ID, t0); err != nil || string(got) != "second" {
			t.Fatalf("pending: %q %v", got, err)
		}
		if _, err := s.PendingTOTP(ctx, u.ID, t0.Add(15*time.Minute)); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("pending after 15 minutes: %v", err)
		}
		if err := s.ActivateTOTP(ctx, u.ID, 5, nil, &gardien.Event{Time: t0.Add(16 * time.Minute), Type: "x"}); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("activating an expired secret: %v", err)
		}
		if u2, _ := s.UserByID(ctx, u.ID); u2.TwoFactorEnabled {
			t.Fatal("pending secret counts as enabled")
		}
		enable(t, s, u, 100, "a", "b")
		if u2, _ := s.UserByID(ctx, u.ID); !u2.TwoFactorEnabled {
			t.Fatal("activated secret not shown as enabled")
		}
		if f := factorOf(t, s, u.ID); string(f.Sealed) != "sealed" || f.CheckupDue.IsZero() {
			t.Fatalf("secret: %q, check-up due %v", f.Sealed, f.CheckupDue)
		}
		if err := s.SavePendingTOTP(ctx, u.ID, []byte("x"), t0.Add(time.Hour), t0); !errors.Is(err, gardien.ErrDuplicate) {
			t.Fatalf("new pending secret over an enabled one: %v", err)
		}
		since, remaining, err := s.TwoFactorStatus(ctx, u.ID)
		if err != nil || remaining != 2 || !since.Equal(t0) {
			t.Fatalf("status: %v %d %v", since, remaining, err)
		}
		if ev, _ := s.UserEvents(ctx, u.ID, 10); len(ev) != 1 || ev[0].Type != "two_factor.enabled" {
			t.Fatalf("events: %+v", ev)
		}
	})
}

func TestRecoveryCodes(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		u := newUser(t, s, "ada@example.com")
		other := newUser(t, s, "bob@example.com")
		enable(t, s, u, 1, "a", "b", "c")
		if _, err := useRecoveryCode(s, other.ID, "a"); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("another person's code: %v", err)
		}
		if n, err := useRecoveryCode(s, u.ID, "b"); err != nil || n != 2 {
			t.Fatalf("use: %d %v", n, err)
		}
		if _, err := useRecoveryCode(s, u.ID, "b"); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("second use: %v", err)
		}
		if err := s.ReplaceRecoveryCodes(ctx, u.ID, [][]byte{hash("x")}, &gardien.Event{Time: t0, Type: "r", UserID: u.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := useRecoveryCode(s, u.ID, "a"); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("replaced code still works: %v", err)
		}
		if _, n, _ := s.TwoFactorStatus(ctx, u.ID); n != 1 {
			t.Fatalf("remaining %d", n)
		}
	})
}

func TestDisableSecondFactors(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		u := newUser(t, s, "ada@example.com")
		enable(t, s, u, 1, "a")
		keep := &gardien.Session{UserID: u.ID, Level: gardien.LevelFull, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)}
		other := &gardien.Session{UserID: u.ID, Level: gardien.LevelFull, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)}
		s.CreateSession(ctx, keep, hash("keep"))
		s.CreateSession(ctx, other, hash("other"))
		if err := s.DisableSecondFactors(ctx, u.ID, keep.ID, &gardien.Event{Time: t0, Type: "two_factor.disabled", UserID: u.ID}); err != nil {
			t.Fatal(err)
		}
		if f := factorOf(t, s, u.ID); f.Sealed != nil {
			t.Fatalf("secret after disable: %q", f.Sealed)
		}
		if _, err := useRecoveryCode(s, u.ID, "a"); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("recovery code after disable: %v", err)
		}
		if _, err := s.SessionByKey(ctx, auth.SessionKey{ID: other.ID, Hash: hash("other")}); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatal("other session survived")
		}
		if _, err := s.SessionByKey(ctx, auth.SessionKey{ID: keep.ID, Hash: hash("keep")}); err != nil {
			t.Fatal("kept session ended")
		}
		if err := s.DisableSecondFactors(ctx, u.ID, 0, &gardien.Event{Time: t0, Type: "x"}); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("disable twice: %v", err)
		}
		if ev, _ := s.UserEvents(ctx, u.ID, 1); ev[0].Type != "two_factor.disabled" {
			t.Fatalf("event %+v", ev)
		}
	})
}

func TestOrganizationRequirement(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		owner := newUser(t, s, "owner@example.com")
		o := newOrg(t, s, owner)
		plain := newUser(t, s, "plain@example.com")
		sso := &gardien.User{Email: "sso@example.com", Name: "S", SSO: true, CreatedAt: t0}
		s.CreateUser(ctx, sso, "sso@example.com", "-")
		safe := newUser(t, s, "safe@example.com")
		enable(t, s, safe, 1)
		for _, u := range []*gardien.User{plain, sso, safe} {
			joinOrg(t, s, u, o)
		}
		c, _ := s.MemberCounts(ctx, o.ID)
		if c.Total != 4 || c.Protected != 2 {
			t.Fatalf("counts %+v, want 4 members, 2 protected (2FA or SSO)", c)
		}
		// With a deadline, nobody is held back before it; the unprotected
		// see it pending.
		deadline := t0.Add(10 * 24 * time.Hour)
		if err := s.SetRequireTwoFactor(ctx, o.ID, true, false, false, deadline, &gardien.Event{Time: t0, Type: "x"}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			u       *gardien.User
			pending bool
		}{{owner, true}, {plain, true}, {sso, false}, {safe, false}} {
			if got, err := s.NeedsTwoFactorSetup(ctx, tc.u.ID, t0); err != nil || got {
				t.Errorf("%s needs set-up before the deadline: %v (%v)", tc.u.Email, got, err)
			}
			d, err := s.PendingDeadline(ctx, tc.u.ID, t0)
			if tc.pending && (err != nil || !d.At.Equal(deadline) || d.OrgName != "Acme") {
				t.Errorf("%s pending deadline: %+v %v", tc.u.Email, d, err)
			}
			if !tc.pending && !errors.Is(err, gardien.ErrNotFound) {
				t.Errorf("%s has a pending deadline: %+v %v", tc.u.Email, d, err)
			}
			if got, err := s.NeedsTwoFactorSetup(ctx, tc.u.ID, deadline); err != nil || got != tc.pending {
				t.Errorf("%s needs set-up at the deadline: %v (%v), want %v", tc.u.Email, got, err, tc.pending)
			}
		}
		if err := s.SetRequireTwoFactor(ctx, o.ID, true, false, false, time.Time{}, &gardien.Event{Time: t0, Type: "x"}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			u    *gardien.User
			need bool
		}{{owner, true}, {plain, true}, {sso, false}, {safe, false}} {
			if got, err := s.NeedsTwoFactorSetup(ctx, tc.u.ID, t0); err != nil || got != tc.need {
				t.Errorf("%s needs set-up: %v (%v), want %v", tc.u.Email, got, err, tc.need)
			}
		}
		if name, _, err := s.RequiringOrganization(ctx, safe.ID); err != nil || name != "Acme" {
			t.Fatalf("requiring organization: %q %v", name, err)
		}
		list, _ := s.Members(ctx, o.ID, gardien.MemberFilter{WithoutTwoFactor: true, Limit: 50})
		if len(list) != 2 || list[0].Email != "owner@example.com" || list[1].Email != "plain@example.com" {
			t.Fatalf("members without 2FA: %+v", list)
		}
		if err := s.RemoveMember(ctx, o.ID, owner.ID, &gardien.Event{Time: t0, Type: "x"}); !errors.Is(err, gardien.ErrLastOwner) {
			t.Fatalf("removing the last owner: %v", err)
		}
	})
}

func TestOneLiveInvitationPerPersonAndNoneToAMember(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		owner := newUser(t, s, "owner@example.com")
		o := newOrg(t, s, owner)
		invite := func(email, token string, at time.Time) error {
			inv := &gardien.Invitation{OrgID: o.ID, Email: email, Role: gardien.RoleMember, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
			return s.CreateInvitation(ctx, inv, email, hash(token), &gardien.Event{Time: at, Type: "x"})
		}
		if err := invite("owner@example.com", "a", t0); !errors.Is(err, gardien.ErrAlreadyMember) {
			t.Fatalf("inviting a member: %v", err)
		}
		// Concurrent invitations of one person: one is made.
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range errs {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = invite("bob@example.com", fmt.Sprint("b", i), t0) }()
		}
		wg.Wait()
		made := 0
		for _, err := range errs {
			if err == nil {
				made++
			} else if !errors.Is(err, gardien.ErrAlreadyInvited) {
				t.Fatalf("a concurrent invitation: %v", err)
			}
		}
		if made != 1 {
			t.Fatalf("%d invitations made, want 1", made)
		}
		// Once the invitation expired, a new one can be sent.
		if err := invite("bob@example.com", "c", t0.Add(2*time.Hour)); err != nil {
			t.Fatalf("after expiry: %v", err)
		}
	})
}

// A person with a pending invitation who joins through SSO joins with the
// role auth gives, and the invitation no longer shows as pending nor works.
func TestJoiningThroughSSOClosesThePendingInvitation(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		owner := newUser(t, s, "owner@acme.test")
		o := newOrg(t, s, owner)
		for _, email := range []string{"carol@acme.test", "dave@acme.test"} {
			inv := &gardien.Invitation{OrgID: o.ID, Email: email, Role: gardien.RoleAdmin, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
			if err := s.CreateInvitation(ctx, inv, email, hash(email), &gardien.Event{Time: t0, Type: "x"}); err != nil {
				t.Fatal(err)
			}
		}
		if inv, err := s.PendingInvitationFor(ctx, o.ID, "dave@acme.test", t0); err != nil || inv.Role != gardien.RoleAdmin {
			t.Fatalf("dave's pending invitation: %+v %v", inv, err)
		}
		if _, err := s.PendingInvitationFor(ctx, o.ID, "erin@acme.test", t0); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("erin, never invited: %v", err)
		}
		carol := &gardien.User{Email: "carol@acme.test", Name: "Carol", CreatedAt: t0}
		if err := s.CreateSSOUser(ctx, carol, "carol@acme.test", o.ID, gardien.RoleAdmin, &gardien.Event{Time: t0, Type: "x"}); err != nil {
			t.Fatal(err)
		}
		dave := newUser(t, s, "dave@acme.test")
		if err := s.JoinThroughSSO(ctx, o.ID, dave.ID, gardien.RoleMember, t0, &gardien.Event{Time: t0, Type: "x"}); err != nil {
			t.Fatal(err)
		}
		erin := newUser(t, s, "erin@acme.test")
		if err := s.JoinThroughSSO(ctx, o.ID, erin.ID, gardien.RoleMember, t0, &gardien.Event{Time: t0, Type: "x"}); err != nil {
			t.Fatal(err)
		}
		for u, want := range map[*gardien.User]gardien.Role{carol: gardien.RoleAdmin, dave: gardien.RoleMember, erin: gardien.RoleMember} {
			if m, err := s.Member(ctx, o.ID, u.ID); err != nil || m.Role != want {
				t.Errorf("%s: %v %v, want %s", u.Email, m, err, want)
			}
		}
		if l, _ := s.PendingInvitations(ctx, o.ID, t0); len(l) != 0 {
			t.Fatalf("still pending: %+v", l)
		}
		if _, _, err := s.InvitationByToken(ctx, hash("carol@acme.test"), t0); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("the joined invitation's link still works: %v", err)
		}
	})
}

// newOrg creates the organization Acme, owned by owner.
func newOrg(t *testing.T, s *sqlstore.Store, owner *gardien.User) *gardien.Organization {
	t.Helper()
	o := &gardien.Organization{Name: "Acme", CreatedAt: t0}
	if err := s.CreateOrganization(context.Background(), o, owner.ID, &gardien.Event{Time: t0, Type: "org.created"}); err != nil {
		t.Fatal(err)
	}
	return o
}

// TestDeadlineRemindersAreClaimedOnce: a reminder before a deadline is
// claimed by one caller only, even by many at once; each claim notes the
// member's last reminder; a member with 2FA is never listed.
func TestDeadlineRemindersAreClaimedOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		owner := newUser(t, s, "owner@example.com")
		enable(t, s, owner, 1)
		o := newOrg(t, s, owner)
		plain := newUser(t, s, "plain@example.com")
		joinOrg(t, s, plain, o)
		// A disabled account is not reminded: it cannot log in to set up.
		gone := newUser(t, s, "gone@example.com")
		joinOrg(t, s, gone, o)
		if err := s.SetDisabled(ctx, gone.ID, true, &gardien.Event{Time: t0, Type: gardien.EventAccountDisabled}); err != nil {
			t.Fatal(err)
		}
		deadline := t0.Add(5 * 24 * time.Hour)
		if err := s.SetRequireTwoFactor(ctx, o.ID, true, false, false, deadline, &gardien.Event{Time: t0, Type: "x"}); err != nil {
			t.Fatal(err)
		}
		if ds, err := s.DeadlinesWithin(ctx, t0, 4*24*time.Hour); err != nil || len(ds) != 0 {
			t.Fatalf("deadlines within 4 days: %v %v", ds, err)
		}
		ds, err := s.DeadlinesWithin(ctx, t0, 7*24*time.Hour)
		if err != nil || len(ds) != 1 || ds[0].OrgID != o.ID || !ds[0].At.Equal(deadline) {
			t.Fatalf("deadlines within 7 days: %v %v", ds, err)
		}
		list, err := s.UnremindedMembers(ctx, ds[0], 7, 0, 50)
		if err != nil || len(list) != 1 || list[0].UserID != plain.ID {
			t.Fatalf("unreminded: %+v %v", list, err)
		}
		var wg sync.WaitGroup
		var claimed atomic.Int32
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.ClaimDeadlineReminder(ctx, ds[0], plain.ID, 7, t0)
				if err != nil {
					t.Error(err)
				}
				if ok {
					claimed.Add(1)
				}
			}()
		}
		wg.Wait()
		if claimed.Load() != 1 {
			t.Fatalf("%d claims of one reminder, want 1", claimed.Load())
		}
		if list, _ := s.UnremindedMembers(ctx, ds[0], 7, 0, 50); len(list) != 0 {
			t.Fatalf("still unreminded: %+v", list)
		}
		if list, _ := s.UnremindedMembers(ctx, ds[0], 3, 0, 50); len(list) != 1 {
			t.Fatalf("the 3-day reminder is another: %+v", list)
		}
		m, err := s.Member(ctx, o.ID, plain.ID)
		if err != nil || !m.LastRemindedAt.Equal(t0) {
			t.Fatalf("last reminded: %+v %v", m, err)
		}
		later := t0.Add(time.Hour)
		if err := s.MarkReminded(ctx, o.ID, later); err != nil {
			t.Fatal(err)
		}
		if m, _ := s.Member(ctx, o.ID, plain.ID); !m.LastRemindedAt.Equal(later) {
			t.Fatalf("marked reminded: %v", m.LastRemindedAt)
		}
		if m, _ := s.Member(ctx, o.ID, owner.ID); !m.LastRemindedAt.IsZero() {
			t.Fatalf("a member with 2FA was marked reminded: %v", m.LastRemindedAt)
		}
	})
}

// TestACheckupAnswerCountsOnce: turning 2FA on makes the check-up due 28
// days later; of two answers read at the same state, one is recorded.
func TestACheckupAnswerCountsOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		u := newUser(t, s, "ada@example.com")
		enable(t, s, u, 1, "code-a")
		c, err := s.Checkup(ctx, u.ID)
		if err != nil || !c.Due.Equal(t0.Add(gardien.CheckupAfter)) || c.Postponed != 0 || c.CodesLeft != 1 || c.LastStep != 1 {
			t.Fatalf("checkup after enabling: %+v %v", c, err)
		}
		var wg sync.WaitGroup
		var done atomic.Int32
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.SetCheckup(ctx, u.ID, t0.Add(48*time.Hour), 0, 1, &gardien.Event{Time: t0, Type: gardien.EventTwoFactorCheckupLater, UserID: u.ID})
				if err == nil {
					done.Add(1)
				} else if !errors.Is(err, gardien.ErrNotFound) {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if done.Load() != 1 {
			t.Fatalf("%d answers recorded, want 1", done.Load())
		}
		if c, _ := s.Checkup(ctx, u.ID); c.Postponed != 1 || !c.Due.Equal(t0.Add(48*time.Hour)) {
			t.Fatalf("after later: %+v", c)
		}
		if err := s.SetCheckup(ctx, u.ID, time.Time{}, 1, 1, &gardien.Event{Time: t0, Type: gardien.EventTwoFactorCheckup, UserID: u.ID}); err != nil {
			t.Fatal(err)
		}
		if c, _ := s.Checkup(ctx, u.ID); !c.Due.IsZero() {
			t.Fatalf("done, still due at %v", c.Due)
		}
		if err := s.SetCheckup(ctx, u.ID, time.Time{}, 1, 1, &gardien.Event{Time: t0, Type: gardien.EventTwoFactorCheckup, UserID: u.ID}); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("answering a check-up already done: %v", err)
		}
	})
}

// TestKeptMemberCountersFollowEveryChange: the counters MemberCounts reads
// stay equal to a count of the memberships through joins, leaves, 2FA
// turned on and off, and an account deleted, in two organizations at once.
func TestKeptMemberCountersFollowEveryChange(t *testing.T) {
	eachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		owner := newUser(t, s, "owner@example.com")
		enable(t, s, owner, 1)
		acme := newOrg(t, s, owner)
		beta := &gardien.Organization{Name: "Beta", CreatedAt: t0}
		if err := s.CreateOrganization(ctx, beta, owner.ID, &gardien.Event{Time: t0, Type: "org.created"}); err != nil {
			t.Fatal(err)
		}
		check := func(when string) {
			t.Helper()
			for _, o := range []*gardien.Organization{acme, beta} {
				c, err := s.MemberCounts(ctx, o.ID)
				total, protected, keyed, rerr := s.RecountMembers(ctx, o.ID)
				if err != nil || rerr != nil || c.Total != total || c.Protected != protected || c.Keyed != keyed {
					t.Fatalf("%s, %s: kept %+v (%v), counted %d/%d/%d (%v)", when, o.Name, c, err, total, protected, keyed, rerr)
				}
			}
		}
		check("created")
		plain := newUser(t, s, "plain@example.com")
		safe := newUser(t, s, "safe@example.com")
		enable(t, s, safe, 1)
		sso := &gardien.User{Email: "sso@example.com", Name: "S", SSO: true, CreatedAt: t0}
		if err := s.CreateUser(ctx, sso, "sso@example.com", "-"); err != nil {
			t.Fatal(err)
		}
		for _, u := range []*gardien.User{plain, safe, sso} {
			joinOrg(t, s, u, acme)
			joinOrg(t, s, u, beta)
		}
		check("three joined both")
		enable(t, s, plain, 1)
		check("plain turned 2FA on")
		if err := s.DisableSecondFactors(ctx, safe.ID, 0, &gardien.Event{Time: t0, Type: "x"}); err != nil {
			t.Fatal(err)
		}
		check("safe turned 2FA off")
		if err := s.RemoveMember(ctx, acme.ID, plain.ID, &gardien.Event{Time: t0, Type: "x"}); err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveMember(ctx, acme.ID, plain.ID, &gardien.Event{Time: t0, Type: "x"}); !errors.Is(err, gardien.ErrNotFound) {
			t.Fatalf("removing twice: %v", err)
		}
		check("plain left Acme (and a second removal changed nothing)")
		// Keys: a first one protects, a second changes nothing, the last
		// one removed unprotects — unless it must stay.
		key := func(id string) *gardien.Passkey {
			return &gardien.Passkey{UserID: safe.ID, Name: id, CredentialID: []byte(id), Credential: []byte("{}"), CreatedAt: t0}
		}
		k1, k2 := key("k1"), key("k2")
		for i, k := range []*gardien.Passkey{k1, k2} {
			on, err := s.AddPasskey(ctx, k, [][]byte{[]byte(k.Name)}, &gardien.Event{Time: t0, Type: "x"}, &gardien.Event{Time: t0, Type: "on"})
			if err != nil || on != (i == 0) {
				t.Fatalf("key %d: turned on %v, %v", i+1, on, err)
			}
			check("safe added a key")
		}
		if off, err := s.DeletePasskey(ctx, safe.ID, k1.ID, 0, true, false, &gardien.Event{Time: t0, Type: "x"}, &gardien.Event{Time: t0, Type: "off"}); err != nil || off {
			t.Fatalf("one key of two: turned off %v, %v", off, err)
		}
		if _, err := s.DeletePasskey(ctx, safe.ID, k2.ID, 0, true, false, &gardien.Event{Time: t0, Type: "x"}, &gardien.Event{Time: t0, Type: "off"}); !errors.Is(err, gardien.ErrLastFactor) {
			t.Fatalf("the last key, kept: %v", err)
		}
		check("safe's last key kept")
		if off, err := s.DeletePasskey(ctx, safe.ID, k2.ID, 0, false, false, &gardien.Event{Time: t0, Type: "x"}, &gardien.Event{Time: t0, Type: "off"}); err != nil || !off {
			t.Fatalf("the last key: turned off %v, %v", off, err)
		}
		check("safe removed the last key")
		// With an app, a key changes who has a key, not who is protected.
		enable(t, s, safe, 5)
		k3 := key("k3")
		if on, err := s.AddPasskey(ctx, k3, nil, &gardien.Event{Time: t0, Type: "x"}, &gardien.Event{Time: t0, Type: "on"}); err != nil || on {
			t.Fatalf("a key beside an app: turned on %v, %v", on, err)
		}
		check("safe added a key beside their app")
		if c, _ := s.MemberCounts(ctx, beta.ID); c.Keyed != 2 { // safe, and the SSO person
			t.Fatalf("Beta: %+v, want 2 keyed", c)
		}
		if _, err := s.DeletePasskey(ctx, safe.ID, k3.ID, 0, true, true, &gardien.Event{Time: t0, Type: "x"}, &gardien.Event{Time: t0, Type: "off"}); !errors.Is(err, gardien.ErrLastFactor) {
			t.Fatalf("the last key where one is asked for: %v", err)
		}
		if off, err := s.DeletePasskey(ctx, safe.ID, k3.ID, 0, true, false, &gardien.Event{Time: t0, Type: "x"}, &gardien.Event{Time: t0, Type: "off"}); err != nil || off {
			t.Fatalf("the last key beside an app: turned off %v, %v", off, err)
		}
		check("safe removed their key, their app kept")
		if err := s.DeleteUser(ctx, sso.ID, &gardien.Event{Time: t0, Type: "x"}); err != nil {
			t.Fatal(err)
		}
		check("the SSO person's account deleted")
		if c, _ := s.MemberCounts(ctx, beta.ID); c.Total != 3 || c.Protected != 3 || c.Keyed != 0 {
			t.Fatalf("Beta: %+v, want owner, plain and safe (each an app, no key): 3 members, 3 protected, none keyed", c)
		}
	})
}

// joinOrg makes u a member of o, by an invitation accepted.
func joinOrg(t *testing.T, s *sqlstore.Store, u *gardien.User, o *gardien.Organization) {
	t.Helper()
	ctx := context.Background()
	inv := &gardien.Invitation{OrgID: o.ID, Email: u.Email, Role: gardien.RoleMember, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.CreateInvitation(ctx, inv, u.Email, hash(u.Email+o.Name), &gardien.Event{Time: t0, Type: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AcceptInvitation(ctx, inv.ID, u.ID, &gardien.Event{Time: t0, Type: "x"}); err != nil {
		t.Fatalf("%s joins %s: %v", u.Email, o.Name, err)
	}
}
