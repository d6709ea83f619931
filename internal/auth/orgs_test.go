package auth_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/pquerna/otp/totp"
)

// enableTwoFactor turns 2FA on for the person of a full session, and
// returns the secret (base32) their app would hold.
func (f *fixture) enableTwoFactor(t testing.TB, l *auth.Login) string {
	t.Helper()
	ctx := context.Background()
	e, err := f.svc.BeginTwoFactor(ctx, l.User)
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCode(e.Secret, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	act, err := f.svc.ActivateTwoFactor(ctx, l.Session, l.User, code, client)
	if err != nil {
		t.Fatal(err)
	}
	l.User.TwoFactorEnabled, l.User.AppEnabled, l.Token = true, true, act.Token
	return e.Secret
}

// org makes an organization whose owner has 2FA.
func (f *fixture) org(t testing.TB, ownerEmail string) (*auth.Login, *gardien.Organization) {
	t.Helper()
	f.signup(t, ownerEmail, true)
	l := f.login(t, ownerEmail)
	f.enableTwoFactor(t, l)
	o, err := f.svc.CreateOrganization(context.Background(), l.User, "Acme", client)
	if err != nil {
		t.Fatal(err)
	}
	return l, o
}

func TestInvitationsDieWithTheirSendersAuthority(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		after func(f *fixture, owner *gardien.User, orgID, adminID int64) error
	}{
		{"sender demoted to member", func(f *fixture, owner *gardien.User, orgID, adminID int64) error {
			return f.svc.SetRole(ctx, owner, orgID, adminID, gardien.RoleMember, client)
		}},
		{"sender removed", func(f *fixture, owner *gardien.User, orgID, adminID int64) error {
			return f.svc.RemoveMember(ctx, owner, orgID, adminID, client)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newService(t)
			owner, o := f.org(t, "owner@example.com")
			admin := f.signup(t, "admin@example.com", true)
			f.join(t, owner.User, admin, o.ID, gardien.RoleAdmin)
			invitee := f.signup(t, "carol@example.com", true)
			if _, err := f.svc.Invite(ctx, admin, o.ID, invitee.Email, gardien.RoleAdmin, client); err != nil {
				t.Fatal(err)
			}
			inv := f.mails.to(invitee.Email)
			tok := tokenOf(t, inv[len(inv)-1].Text)
			if _, err := f.svc.PeekInvitation(ctx, tok); err != nil {
				t.Fatalf("the invitation page before: %v", err)
			}
			if err := tc.after(f, owner.User, o.ID, admin.ID); err != nil {
				t.Fatal(err)
			}
			// The invitation's page says it no longer holds, rather than
			// offering what acceptance refuses.
			_, err := f.svc.PeekInvitation(ctx, tok)
			wantCode(t, err, gardien.CodeInvalidToken)
			l := f.login(t, invitee.Email)
			_, err = f.svc.AcceptInvitation(ctx, l.Session, invitee, tok, client)
			wantCode(t, err, gardien.CodeInvalidToken)
		})
	}
}

func TestJoiningAnOrganizationThatRequires2FAMovesTheSessionToSetUp(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.org(t, "owner@example.com")
	if err := f.svc.SetRequireTwoFactor(ctx, owner.User, o.ID, true, auth.RequireOptions{}, client); err != nil {
		t.Fatal(err)
	}
	bob := f.signup(t, "bob@example.com", true)
	if _, err := f.svc.Invite(ctx, owner.User, o.ID, bob.Email, gardien.RoleMember, client); err != nil {
		t.Fatal(err)
	}
	l := f.login(t, bob.Email) // full: no organization yet
	if l.Status != auth.StatusOK {
		t.Fatalf("login before joining: %s", l.Status)
	}
	j, err := f.svc.AcceptInvitation(ctx, l.Session, bob, tokenOf(t, f.mails.to(bob.Email)[1].Text), client)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != auth.StatusSetupRequired || j.Token == "" {
		t.Fatalf("joined: step %s, new token %v; want the set-up, with a new token", j.Status, j.Token != "")
	}
	sess, _, err := f.svc.Authenticate(ctx, j.Token)
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.Allows(sess.Level, auth.AreaFull); gardien.ErrorCode(err) != gardien.CodeTwoFactorSetupRequired {
		t.Fatalf("after joining, the session reaches everything: %v", err)
	}
	if _, _, err := f.svc.Authenticate(ctx, l.Token); err == nil {
		t.Fatal("the session's old token still works")
	}
}

func TestTheRequirementCanEndOpenSessionsOfMembersWithout2FA(t *testing.T) {
	ctx := context.Background()
	for _, end := range []bool{false, true} {
		f := newService(t)
		owner, o := f.org(t, "owner@example.com")
		bob := f.signup(t, "bob@example.com", true)
		f.join(t, owner.User, bob, o.ID, gardien.RoleMember)
		open := f.login(t, bob.Email)
		if err := f.svc.SetRequireTwoFactor(ctx, owner.User, o.ID, true, auth.RequireOptions{EndSessions: end}, client); err != nil {
			t.Fatal(err)
		}
		_, _, err := f.svc.Authenticate(ctx, open.Token)
		if ended := err != nil; ended != end {
			t.Fatalf("end sessions %v: Bob's open session ended %v", end, ended)
		}
		if _, _, err := f.svc.Authenticate(ctx, owner.Token); err != nil {
			t.Fatalf("end sessions %v: the owner (with 2FA) was logged out: %v", end, err)
		}
		events, err := f.svc.AuditLog(ctx, owner.User, o.ID, gardien.EventFilter{Type: gardien.EventOrgRequireTwoFactorOn})
		if err != nil || len(events) != 1 {
			t.Fatalf("audit: %v %v", events, err)
		}
		want := map[bool]string{false: "kept", true: "ended"}[end]
		if got := events[0].Data["sessions"]; got != want {
			t.Fatalf("audit data %v, want sessions %q", events[0].Data, want)
		}
	}
}

func TestNobodyResetsTheirOwn2FAThroughTheMemberReset(t *testing.T) {
	f := newService(t)
	owner, o := f.org(t, "owner@example.com")
	err := f.svc.ResetMemberTwoFactor(context.Background(), owner.User, o.ID, owner.User.ID, client)
	wantCode(t, err, gardien.CodeForbidden)
	st, _ := f.svc.TwoFactor(context.Background(), owner.User)
	if !st.Enabled {
		t.Fatal("the owner's 2FA is off")
	}
}

func TestTheAuditLogsPersonFilterTellsNothingOfOtherAccounts(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.org(t, "owner@example.com")
	f.signup(t, "stranger@example.com", true) // an account, never in Acme
	for _, person := range []string{"stranger@example.com", "nobody@example.com"} {
		events, err := f.svc.AuditLog(ctx, owner.User, o.ID, gardien.EventFilter{Person: person})
		if err != nil || len(events) != 0 {
			t.Fatalf("person %s: %d events, %v; want none and no error", person, len(events), err)
		}
	}
	events, err := f.svc.AuditLog(ctx, owner.User, o.ID, gardien.EventFilter{Person: "OWNER@example.com"})
	if err != nil || len(events) == 0 {
		t.Fatalf("the owner's own events: %d, %v", len(events), err)
	}
}

func TestAnyPageNumberIsAnswered(t *testing.T) {
	f := newService(t)
	owner, o := f.org(t, "owner@example.com")
	for _, page := range []int{0, 1, 2, 1 << 40, int(^uint(0) >> 1)} {
		p, err := f.svc.Members(context.Background(), owner.User, o.ID, false, page)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		if want := map[bool]int{true: 1, false: 0}[page <= 1]; len(p.Members) != want {
			t.Fatalf("page %d: %d members, want %d", page, len(p.Members), want)
		}
	}
}

// What the pages offer (Powers) is what the rules allow, for every viewer
// and every member.
func TestPowersAreWhatTheRulesAllow(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.org(t, "owner@example.com")
	people := map[gardien.Role]*gardien.User{gardien.RoleOwner: owner.User}
	for _, r := range []gardien.Role{gardien.RoleAdmin, gardien.RoleMember} {
		u := f.signup(t, string(r)+"@example.com", true)
		f.join(t, owner.User, u, o.ID, r)
		people[r] = u
	}
	co := f.signup(t, "co-owner@example.com", true)
	f.join(t, owner.User, co, o.ID, gardien.RoleOwner)
	allowed := func(err error) bool { return gardien.ErrorCode(err) != gardien.CodeForbidden }
	for _, viewer := range []*gardien.User{owner.User, people[gardien.RoleAdmin]} {
		page, err := f.svc.Members(ctx, viewer, o.ID, false, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Members {
			if got, want := page.Powers.CanChangeRole(m), allowed(f.svc.SetRole(ctx, viewer, o.ID, m.UserID, m.Role, client)); got != want {
				t.Errorf("%s viewing %s: offers role change %v, rules allow %v", viewer.Email, m.Email, got, want)
			}
			if got, want := page.Powers.CanReset(m), allowed(f.svc.ResetMemberTwoFactor(ctx, viewer, o.ID, m.UserID, client)); got != want {
				t.Errorf("%s viewing %s: offers reset %v, rules allow %v", viewer.Email, m.Email, got, want)
			}
		}
		for _, r := range page.Powers.Roles {
			if r == gardien.RoleOwner && viewer != owner.User {
				t.Errorf("%s may give the owner role", viewer.Email)
			}
		}
	}
}

func TestOnlyOwnersRenameOrDeleteTheirOrganization(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.org(t, "owner@example.com")
	admin := f.signup(t, "admin@example.com", true)
	f.join(t, owner.User, admin, o.ID, gardien.RoleAdmin)
	_, err := f.svc.RenameOrganization(ctx, admin, o.ID, "Mine Now", client)
	wantCode(t, err, gardien.CodeForbidden)
	wantCode(t, f.svc.DeleteOrganization(ctx, admin, o.ID, "Acme", client), gardien.CodeForbidden)
	stranger := f.signup(t, "stranger@example.com", true)
	wantCode(t, f.svc.DeleteOrganization(ctx, stranger, o.ID, "Acme", client), gardien.CodeNotFound)
	if name, err := f.svc.RenameOrganization(ctx, owner.User, o.ID, "  Acme   Corp ", client); err != nil || name != "Acme Corp" {
		t.Fatalf("rename: %q %v", name, err)
	}
	wantCode(t, f.svc.DeleteOrganization(ctx, owner.User, o.ID, "Acme", client), gardien.CodeValidationFailed)
	if err := f.svc.DeleteOrganization(ctx, owner.User, o.ID, "Acme Corp", client); err != nil {
		t.Fatal(err)
	}
	f.svc.Wait(ctx)
	if ms, _ := f.svc.Memberships(ctx, admin.ID); len(ms) != 0 {
		t.Fatalf("the admin still belongs to %v", ms)
	}
	got := f.mails.to("admin@example.com")
	if last := got[len(got)-1]; last.Subject != "An organization you belonged to was deleted" {
		t.Fatalf("mail to the admin: %q", last.Subject)
	}
}

func TestTheRequirementCanEmailMembersWithout2FANow(t *testing.T) {
	ctx := context.Background()
	for _, notify := range []bool{false, true} {
		f := newService(t)
		owner, o := f.org(t, "owner@example.com")
		bob := f.signup(t, "bob@example.com", true)
		f.join(t, owner.User, bob, o.ID, gardien.RoleMember)
		carol := f.signup(t, "carol@example.com", true)
		f.join(t, owner.User, carol, o.ID, gardien.RoleMember)
		f.enableTwoFactor(t, f.login(t, carol.Email))
		before := len(f.mails.to(bob.Email))
		if err := f.svc.SetRequireTwoFactor(ctx, owner.User, o.ID, true, auth.RequireOptions{Notify: notify}, client); err != nil {
			t.Fatal(err)
		}
		f.svc.Wait(ctx)
		got := f.mails.to(bob.Email)[before:]
		if !notify {
			if len(got) != 0 {
				t.Fatalf("without the option, Bob got %d mails", len(got))
			}
			continue
		}
		if len(got) != 1 || got[0].Subject != "Your organization now requires two-factor authentication" {
			t.Fatalf("Bob (no 2FA) got %v", got)
		}
		if !strings.Contains(got[0].Text, "Acme") || !strings.Contains(got[0].Text, owner.User.Name) {
			t.Fatalf("the mail does not say which organization and who asked:\n%s", got[0].Text)
		}
		if len(f.mails.titled(carol.Email, got[0].Subject)) > 0 {
			t.Fatal("Carol, who has 2FA, was emailed too")
		}
	}
}

func TestInvitingAMemberOrAPendingInviteeSendsNothing(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.org(t, "owner@example.com")
	bob := f.signup(t, "bob@example.com", true)
	f.join(t, owner.User, bob, o.ID, gardien.RoleMember)
	before := len(f.mails.to(bob.Email))
	_, err := f.svc.Invite(ctx, owner.User, o.ID, "  BOB@example.com ", gardien.RoleAdmin, client)
	wantCode(t, err, gardien.CodeConflict)
	if e, _ := gardien.AsError(err); e.Message != "err.already_member" {
		t.Fatalf("inviting a member: %v", err)
	}

	// Two managers inviting the same person at once: one invitation.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.svc.Invite(ctx, owner.User, o.ID, "carol@example.com", gardien.RoleMember, client)
		}()
	}
	wg.Wait()
	sent := 0
	for _, err := range errs {
		if err == nil {
			sent++
		} else if e, _ := gardien.AsError(err); e == nil || e.Message != "err.already_invited" {
			t.Fatalf("a second invitation: %v", err)
		}
	}
	f.svc.Wait(ctx)
	if invs, _ := f.svc.Invitations(ctx, owner.User, o.ID); sent != 1 || len(invs) != 1 || len(f.mails.to("carol@example.com")) != 1 {
		t.Fatalf("%d invitations made, %d pending, %d mails; want 1", sent, len(invs), len(f.mails.to("carol@example.com")))
	}
	if got := len(f.mails.to(bob.Email)); got != before {
		t.Fatalf("the member was mailed %d times", got-before)
	}
	// Once revoked, the person can be invited again.
	invs, _ := f.svc.Invitations(ctx, owner.User, o.ID)
	if err := f.svc.RevokeInvitation(ctx, owner.User, o.ID, invs[0].ID, client); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Invite(ctx, owner.User, o.ID, "carol@example.com", gardien.RoleMember, client); err != nil {
		t.Fatalf("inviting again after revoking: %v", err)
	}
}

// A refused invitation sends no mail, so it does not count toward the
// invited address's limit (3 a day): after several "invited already", the
// invitation revoked can still be sent again.
func TestARefusedInvitationCountsNoMail(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.org(t, "owner@example.com")
	if _, err := f.svc.Invite(ctx, owner.User, o.ID, "dan@example.com", gardien.RoleMember, client); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		_, err := f.svc.Invite(ctx, owner.User, o.ID, "dan@example.com", gardien.RoleMember, client)
		if e, _ := gardien.AsError(err); e == nil || e.Message != "err.already_invited" {
			t.Fatalf("inviting a pending invitee: %v (want \"invited already\", not a limit)", err)
		}
	}
	invs, _ := f.svc.Invitations(ctx, owner.User, o.ID)
	if err := f.svc.RevokeInvitation(ctx, owner.User, o.ID, invs[0].ID, client); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Invite(ctx, owner.User, o.ID, "dan@example.com", gardien.RoleMember, client); err != nil {
		t.Fatalf("the second mail of the day to this address: %v", err)
	}
}

func TestMembersSeeWhomToContact(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.org(t, "owner@example.com")
	admin := f.signup(t, "admin@example.com", true)
	f.join(t, owner.User, admin, o.ID, gardien.RoleAdmin)
	co := f.signup(t, "co@example.com", true)
	f.join(t, owner.User, co, o.ID, gardien.RoleOwner)
	bob := f.signup(t, "bob@example.com", true)
	f.join(t, owner.User, bob, o.ID, gardien.RoleMember)
	list, err := f.svc.Owners(ctx, bob, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range list {
		got = append(got, m.Email)
	}
	if strings.Join(got, ",") != "owner@example.com,co@example.com" {
		t.Fatalf("owners %v", got)
	}
	stranger := f.signup(t, "stranger@example.com", true)
	_, err = f.svc.Owners(ctx, stranger, o.ID)
	wantCode(t, err, gardien.CodeNotFound)
}

// An invitation to someone without an account is written in the
// inviter's language (the invitee has none yet), and names the
// organization in its subject; someone with an account reads their own.
func TestAnInvitationSpeaksItsReadersLanguageAndNamesTheOrganization(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.org(t, "owner@example.com")
	if _, err := f.svc.UpdateProfile(ctx, owner.User.ID, owner.User.Name, "fr", func(string) bool { return true }); err != nil {
		t.Fatal(err)
	}
	owner.User.Locale = "fr"
	english := f.signup(t, "bea@example.com", true)
	if _, err := f.svc.UpdateProfile(ctx, english.ID, english.Name, "en", func(string) bool { return true }); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"new@example.com", "bea@example.com"} {
		if _, err := f.svc.Invite(ctx, owner.User, o.ID, to, gardien.RoleMember, client); err != nil {
			t.Fatal(err)
		}
	}
	f.svc.Wait(ctx)
	fr := f.mails.to("new@example.com")
	if len(fr) != 1 || !strings.Contains(fr[0].Subject, "vous invite à rejoindre "+o.Name) {
		t.Fatalf("to a new address from a French inviter: %+v", fr)
	}
	en := f.mails.to("bea@example.com")
	if last := en[len(en)-1]; !strings.Contains(last.Subject, "invites you to join "+o.Name) {
		t.Fatalf("to an English reader: %q", last.Subject)
	}
}

// Who may sign whom out everywhere: as who may reset whose 2FA.
func TestWhoMaySignAMemberOut(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.org(t, "owner@example.com")
	admin := f.signup(t, "admin@example.com", true)
	bob := f.signup(t, "bob@example.com", true)
	f.join(t, owner.User, admin, o.ID, gardien.RoleAdmin)
	f.join(t, owner.User, bob, o.ID, gardien.RoleMember)
	if _, err := f.svc.LogIn(ctx, "bob@example.com", pw, "", client); err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.svc.SignOutMember(ctx, bob, o.ID, admin.ID, client), gardien.CodeForbidden)
	wantCode(t, f.svc.SignOutMember(ctx, admin, o.ID, owner.User.ID, client), gardien.CodeForbidden)
	wantCode(t, f.svc.SignOutMember(ctx, admin, o.ID, admin.ID, client), gardien.CodeConflict)
	if err := f.svc.SignOutMember(ctx, admin, o.ID, bob.ID, client); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SignOutMember(ctx, owner.User, o.ID, admin.ID, client); err != nil {
		t.Fatal(err)
	}
	f.svc.Wait(ctx)
	if got := f.mails.to("bob@example.com"); got[len(got)-1].Subject != "You were signed out everywhere" {
		t.Fatalf("Bob's last mail: %q", got[len(got)-1].Subject)
	}
}
