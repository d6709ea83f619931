package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	gtotp "github.com/gardien/gardien/internal/totp"
)

// secondStep logs a person in with the password, then code or recovery.
func (f *fixture) secondStep(t *testing.T, email, code, recovery string) *auth.Login {
	t.Helper()
	l := f.login(t, email)
	if _, err := f.svc.VerifySecondFactor(context.Background(), l.Token, code, recovery, client); err != nil {
		t.Fatalf("second step: %v", err)
	}
	return l
}

// TestTheCheckupComes28DaysAfter2FAAndMayWaitTwice: 28 days after 2FA is
// turned on, the check-up is due; a login with the app's code shows the
// app works; "remind me later" moves it a day, twice; then only finishing
// is left, after which it never comes back.
func TestTheCheckupComes28DaysAfter2FAAndMayWaitTwice(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	u := f.signup(t, "ada@example.com", true)
	secret := f.enableTwoFactor(t, f.login(t, u.Email))
	code := func() string {
		f.clock.Advance(gtotp.Period * time.Second)
		c, _ := totp.GenerateCode(secret, f.clock.Now())
		return c
	}
	state := func() *auth.CheckupState {
		t.Helper()
		l := f.secondStep(t, u.Email, code(), "")
		l.User.TwoFactorEnabled, l.User.AppEnabled = true, true
		st, err := f.svc.Checkup(ctx, l.User)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	me := &gardien.User{ID: u.ID, Email: u.Email, TwoFactorEnabled: true, AppEnabled: true}
	f.clock.Advance(27 * 24 * time.Hour)
	if st := state(); st.Due {
		t.Fatal("the check-up is due after 27 days")
	}
	wantCode(t, f.svc.FinishCheckup(ctx, me, "", client), gardien.CodeConflict) // nothing to finish yet
	f.clock.Advance(24 * time.Hour)
	st := state()
	if !st.Due || !st.AppWorks || !st.CanPostpone || st.CodesLeft != 10 {
		t.Fatalf("after 28 days: %+v", st)
	}
	for i := range 2 {
		if _, err := f.svc.PostponeCheckup(ctx, me, client); err != nil {
			t.Fatalf("later #%d: %v", i+1, err)
		}
		if st := state(); st.Due {
			t.Fatalf("due right after later #%d", i+1)
		}
		f.clock.Advance(24 * time.Hour)
		if st = state(); !st.Due {
			t.Fatalf("not back a day after later #%d", i+1)
		}
	}
	if st.CanPostpone {
		t.Fatal("a third later is offered")
	}
	_, err := f.svc.PostponeCheckup(ctx, me, client)
	wantCode(t, err, gardien.CodeConflict)
	if err := f.svc.FinishCheckup(ctx, me, "", client); err != nil {
		t.Fatalf("finish (the login's code shows the app works): %v", err)
	}
	f.clock.Advance(90 * 24 * time.Hour)
	if st := state(); st.Due {
		t.Fatal("the check-up came back after it was done")
	}
	events, _ := f.svc.UserEvents(ctx, u.ID, 50)
	n := map[string]int{}
	for _, e := range events {
		n[e.Type]++
	}
	if n[gardien.EventTwoFactorCheckup] != 1 || n[gardien.EventTwoFactorCheckupLater] != 2 {
		t.Fatalf("events: %v", n)
	}
}

// TestACheckupAfterARecoveryCodeAsksForTheApp: a login by recovery code
// says nothing of the app, so the check-up asks for one of its codes (a
// recovery code does not do), under the second step's rules.
func TestACheckupAfterARecoveryCodeAsksForTheApp(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	u := f.signup(t, "ada@example.com", true)
	l := f.login(t, u.Email)
	e, err := f.svc.BeginTwoFactor(ctx, l.User)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := totp.GenerateCode(e.Secret, f.clock.Now())
	act, err := f.svc.ActivateTwoFactor(ctx, l.Session, l.User, first, client)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(gardien.CheckupAfter + time.Hour)
	l = f.secondStep(t, u.Email, "", act.RecoveryCodes[0])
	l.User.TwoFactorEnabled, l.User.AppEnabled = true, true
	st, err := f.svc.Checkup(ctx, l.User)
	if err != nil || !st.Due || st.AppWorks || st.CodesLeft != 9 {
		t.Fatalf("after a recovery code: %+v %v", st, err)
	}
	wantCode(t, f.svc.FinishCheckup(ctx, l.User, "", client), gardien.CodeValidationFailed)
	wantCode(t, f.svc.FinishCheckup(ctx, l.User, act.RecoveryCodes[1], client), gardien.CodeInvalidCode)
	right, _ := totp.GenerateCode(e.Secret, f.clock.Now())
	if err := f.svc.FinishCheckup(ctx, l.User, right, client); err != nil {
		t.Fatalf("finish with the app's code: %v", err)
	}
	if st, _ := f.svc.Checkup(ctx, l.User); st.Due {
		t.Fatal("still due")
	}
}

// TestADisabledAccountCannotLogIn: an operator's disable ends the sessions
// and refuses the right password (saying why); a wrong password still gets
// the usual answer (no oracle); enabled again, the login works.
func TestADisabledAccountCannotLogIn(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	u := f.signup(t, "ada@example.com", true)
	l := f.login(t, u.Email)
	if _, err := f.svc.OperatorSetDisabled(ctx, "ADA@example.com", "root", true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Authenticate(ctx, l.Token); err == nil {
		t.Fatal("a session of a disabled account still works")
	}
	_, err := f.svc.LogIn(ctx, u.Email, pw, "", client)
	wantCode(t, err, gardien.CodeForbidden)
	_, err = f.svc.LogIn(ctx, u.Email, "wrong password!!", "", client)
	wantCode(t, err, gardien.CodeInvalidCredentials)
	if _, err := f.svc.OperatorSetDisabled(ctx, u.Email, "root", false); err != nil {
		t.Fatal(err)
	}
	f.login(t, u.Email)
	events, _ := f.svc.UserEvents(ctx, u.ID, 20)
	seen := map[string]bool{}
	for _, e := range events {
		seen[e.Type] = true
	}
	if !seen[gardien.EventAccountDisabled] || !seen[gardien.EventAccountEnabled] {
		t.Fatalf("events: %v", seen)
	}
}
