package auth_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
)

// recording notes every store call made while it is on.
type recording struct {
	auth.Store
	mu    sync.Mutex
	on    bool
	calls []string
}

func (r *recording) note(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.on {
		r.calls = append(r.calls, name)
	}
}

func (r *recording) UserByEmail(ctx context.Context, key string) (*gardien.User, string, error) {
	r.note("UserByEmail")
	return r.Store.UserByEmail(ctx, key)
}

func (r *recording) CreateToken(ctx context.Context, kind string, h []byte, u int64, exp, at time.Time) error {
	r.note("CreateToken")
	return r.Store.CreateToken(ctx, kind, h, u, exp, at)
}

func (r *recording) AddEvent(ctx context.Context, e *gardien.Event) error {
	r.note("AddEvent")
	return r.Store.AddEvent(ctx, e)
}

func (r *recording) ReserveTry(ctx context.Context, key []byte, max int, w time.Duration, now time.Time) (bool, time.Time, error) {
	r.note("ReserveTry")
	return r.Store.ReserveTry(ctx, key, max, w, now)
}

// The reset form must not tell by its timing whether an account exists:
// the request does the same work for a known and an unknown email (the
// lookup and the mail happen after the answer).
func TestPasswordResetRequestDoesTheSameWorkForUnknownEmails(t *testing.T) {
	rec := &recording{}
	f := newService(t, func(s auth.Store) auth.Store { rec.Store = s; return rec })
	f.signup(t, "ada@example.com", true)
	inRequest := func(email string) []string {
		rec.mu.Lock()
		rec.on, rec.calls = true, nil
		rec.mu.Unlock()
		if err := f.svc.RequestPasswordReset(context.Background(), email, "en", client); err != nil {
			t.Fatal(err)
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		rec.on = false
		return slices.Clone(rec.calls)
	}
	known, unknown := inRequest("ada@example.com"), inRequest("nobody@example.com")
	if !slices.Equal(known, unknown) {
		t.Fatalf("store calls in the request: known email %v, unknown %v", known, unknown)
	}
	f.svc.Wait(context.Background())
	if n := len(f.mails.to("ada@example.com")); n != 2 { // validation, reset
		t.Fatalf("%d mails to ada, want the validation and the reset", n)
	}
	if n := len(f.mails.to("nobody@example.com")); n != 0 {
		t.Fatalf("%d mails to an address without an account", n)
	}
}

func TestMailsAreLimitedPerRecipientAndSender(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	ada := f.signup(t, "ada@example.com", false)
	t.Run("reset mails to one account: 3 an hour, silently", func(t *testing.T) {
		for range 10 {
			if err := f.svc.RequestPasswordReset(ctx, "ada@example.com", "en", client); err != nil {
				t.Fatal(err)
			}
		}
		f.svc.Wait(ctx)
		if resets := len(f.mails.titled("ada@example.com", "Reset your password")); resets != 3 {
			t.Fatalf("%d reset mails after 10 requests, want 3", resets)
		}
	})
	t.Run("validation resends: 5 an hour, then rate_limited", func(t *testing.T) {
		for i := range 5 {
			if err := f.svc.ResendVerification(ctx, ada.ID); err != nil {
				t.Fatalf("resend %d: %v", i+1, err)
			}
		}
		wantCode(t, f.svc.ResendVerification(ctx, ada.ID), gardien.CodeRateLimited)
		f.clock.Advance(time.Hour + time.Second)
		if err := f.svc.ResendVerification(ctx, ada.ID); err != nil {
			t.Fatalf("an hour later: %v", err)
		}
	})
	t.Run("inviting needs a validated email", func(t *testing.T) {
		org, err := f.svc.CreateOrganization(ctx, ada, "Acme", client)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Invite(ctx, ada, org.ID, "bob@example.com", gardien.RoleMember, client)
		wantCode(t, err, gardien.CodeEmailNotVerified)
	})
	t.Run("invitations to one address: 3 a day", func(t *testing.T) {
		owner := f.signup(t, "owner@example.com", true)
		org, err := f.svc.CreateOrganization(ctx, owner, "Globex", client)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			inv, err := f.svc.Invite(ctx, owner, org.ID, "carol@example.com", gardien.RoleMember, client)
			if err != nil {
				t.Fatalf("invitation %d: %v", i+1, err)
			}
			// One live invitation per person: revoked, it can be sent again.
			if err := f.svc.RevokeInvitation(ctx, owner, org.ID, inv.ID, client); err != nil {
				t.Fatal(err)
			}
		}
		_, err = f.svc.Invite(ctx, owner, org.ID, "carol@example.com", gardien.RoleMember, client)
		wantCode(t, err, gardien.CodeRateLimited)
		if _, err := f.svc.Invite(ctx, owner, org.ID, "dave@example.com", gardien.RoleMember, client); err != nil {
			t.Fatalf("another address: %v", err)
		}
	})
	t.Run("reminders: once an hour per organization", func(t *testing.T) {
		owner := f.signup(t, "boss@example.com", true)
		org, err := f.svc.CreateOrganization(ctx, owner, "Initech", client)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Remind(ctx, owner, org.ID, client); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Remind(ctx, owner, org.ID, client)
		wantCode(t, err, gardien.CodeRateLimited)
	})
}

func TestAddressLiteralsAreRefused(t *testing.T) {
	for _, email := range []string{"x@[127.0.0.1]", "x@127.0.0.1", "x@[IPv6:::1]", "x@localhost", "x@-bad.example", "x@exa_mple.com"} {
		if _, _, ok := auth.NormalizeEmail(email); ok {
			t.Errorf("%q accepted as an email", email)
		}
	}
	for _, email := range []string{"ada@example.com", "zoé@exämple.fr", "a.b+c@sub.example.co.uk", "x@123.example"} {
		if _, _, ok := auth.NormalizeEmail(email); !ok {
			t.Errorf("%q refused", email)
		}
	}
}

// join makes u a member of org through an invitation from owner.
func (f *fixture) join(t testing.TB, owner, u *gardien.User, orgID int64, role gardien.Role) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.svc.Invite(ctx, owner, orgID, u.Email, role, client); err != nil {
		t.Fatal(err)
	}
	inv := f.mails.to(u.Email)
	tok := tokenOf(t, inv[len(inv)-1].Text)
	sess := f.login(t, u.Email)
	if _, err := f.svc.AcceptInvitation(ctx, sess.Session, u, tok, client); err != nil {
		t.Fatal(err)
	}
}

func TestRemindersGoInEachMembersLanguage(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner := f.signup(t, "owner@example.com", true)
	org, err := f.svc.CreateOrganization(ctx, owner, "Acme", client)
	if err != nil {
		t.Fatal(err)
	}
	su, err := f.svc.SignUp(ctx, auth.SignupInput{Email: "zoe@example.com", Password: pw, Name: "Zoé", Lang: "fr"}, "", client)
	if err != nil {
		t.Fatal(err)
	}
	zoe := su.User
	f.join(t, owner, zoe, org.ID, gardien.RoleMember)
	if _, err := f.svc.Remind(ctx, owner, org.ID, client); err != nil {
		t.Fatal(err)
	}
	f.svc.Wait(ctx)
	got := f.mails.to("zoe@example.com")
	if last := got[len(got)-1]; last.Subject != "Merci de protéger votre compte avec l’authentification à deux facteurs" {
		t.Fatalf("reminder to a French-speaking member: subject %q", last.Subject)
	}
}
