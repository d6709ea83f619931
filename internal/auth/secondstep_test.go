package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
)

// disabledDuringStep is a store whose person turns out disabled when the
// second step reads them: as if an operator disabled the account and a
// session had been left behind.
type disabledDuringStep struct{ auth.Store }

func (d disabledDuringStep) TrySecondStep(ctx context.Context, key gardien.SessionKey, lim gardien.TryLimits, now time.Time,
	check func(*gardien.Session, *gardien.User, []byte, time.Time) (gardien.SecondStep, bool, error)) error {
	return d.Store.TrySecondStep(ctx, key, lim, now, func(s *gardien.Session, u *gardien.User, sealed []byte, due time.Time) (gardien.SecondStep, bool, error) {
		u.Disabled = true
		return check(s, u, sealed, due)
	})
}

// TestTheSecondStepReadsItsOwnSession: the second step reads the session
// of the cookie's token itself (in the transaction of its try), and refuses
// it as every other request would be: no live session is CodeUnauthorized
// (an ended one deleted), a session past its second step or owing 2FA's
// set-up gets auth.Allows' refusal, before the code is looked at and
// without counting a try; the session's state is said before a missing
// code is.
func TestTheSecondStepReadsItsOwnSession(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	f.signup(t, "ada@example.com", true)
	secret := f.enableTwoFactor(t, f.login(t, "ada@example.com"))
	code := func() string {
		f.clock.Advance(30 * time.Second)
		c, _ := totp.GenerateCode(secret, f.clock.Now())
		return c
	}

	for _, tok := range []string{"", "garbage", "1.", "99999.AAAA", f.login(t, "ada@example.com").Token + "x"} {
		_, err := f.svc.VerifySecondFactor(ctx, tok, code(), "", client)
		wantCode(t, err, gardien.CodeUnauthorized)
		_, err = f.svc.VerifySecondFactor(ctx, tok, "", "", client)
		wantCode(t, err, gardien.CodeUnauthorized)
	}

	// Ten minutes at the second step: the session ended, and deleted.
	late := f.login(t, "ada@example.com")
	f.clock.Advance(10*time.Minute + time.Second)
	_, err := f.svc.VerifySecondFactor(ctx, late.Token, code(), "", client)
	wantCode(t, err, gardien.CodeUnauthorized)
	ss, err := f.store.UserSessions(ctx, late.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ss {
		if s.ID == late.Session.ID {
			t.Fatalf("the session ended at its second step is still stored: %+v", s)
		}
	}
	_, err = f.svc.VerifySecondFactor(ctx, late.Token, "", "aaaa-bbbb", client)
	wantCode(t, err, gardien.CodeUnauthorized)

	// A full session has no second step to take, by code or recovery
	// code, nor without one.
	full := f.login(t, "ada@example.com")
	passed, err := f.svc.VerifySecondFactor(ctx, full.Token, code(), "", client)
	if err != nil {
		t.Fatal(err)
	}
	if !passed.Expires.Equal(f.clock.Now().Add(12 * time.Hour)) {
		t.Fatalf("the passed session ends %v, want twelve hours from now", passed.Expires)
	}
	for _, c := range [][2]string{{code(), ""}, {"", "aaaa-bbbb"}, {"", ""}} {
		_, err := f.svc.VerifySecondFactor(ctx, passed.Token, c[0], c[1], client)
		wantCode(t, err, gardien.CodeConflict)
	}
	if err := f.svc.SecondStepSession(ctx, passed.Token); gardien.ErrorCode(err) != gardien.CodeConflict {
		t.Fatalf("a full session's state: %v, want conflict", err)
	}

	// A session at its second step with nothing typed: the field.
	waiting := f.login(t, "ada@example.com")
	_, err = f.svc.VerifySecondFactor(ctx, waiting.Token, " ", "", client)
	wantCode(t, err, gardien.CodeValidationFailed)
	if err := f.svc.SecondStepSession(ctx, waiting.Token); err != nil {
		t.Fatalf("a session at its second step: %v", err)
	}

	// None of this counted a try: five wrong codes still come before a lock.
	for range 4 {
		_, err := f.svc.VerifySecondFactor(ctx, waiting.Token, "000000", "", client)
		wantCode(t, err, gardien.CodeInvalidCode)
	}
	if _, err := f.svc.VerifySecondFactor(ctx, waiting.Token, code(), "", client); err != nil {
		t.Fatalf("a right code after four wrong ones: %v", err)
	}
}

// TestADisabledPersonsSessionTakesNoSecondStep: the person read with the
// session in the step's transaction is held to the rules of every request.
func TestADisabledPersonsSessionTakesNoSecondStep(t *testing.T) {
	ctx := context.Background()
	f := newService(t, func(s auth.Store) auth.Store { return disabledDuringStep{s} })
	f.signup(t, "ada@example.com", true)
	secret := f.enableTwoFactor(t, f.login(t, "ada@example.com"))
	second := f.login(t, "ada@example.com")
	f.clock.Advance(30 * time.Second)
	c, _ := totp.GenerateCode(secret, f.clock.Now())
	_, err := f.svc.VerifySecondFactor(ctx, second.Token, c, "", client)
	wantCode(t, err, gardien.CodeUnauthorized)
	if _, _, err := f.svc.Authenticate(ctx, second.Token); err == nil {
		t.Fatal("the disabled person's session still opens")
	}
}

// promotedMeanwhile is a store in which another request of the same cookie
// (with another of the person's codes) promotes the session just before
// this step's pass does.
type promotedMeanwhile struct{ auth.Store }

func (p promotedMeanwhile) PassSecondStep(ctx context.Context, step gardien.SecondStep) error {
	if err := p.Store.RotateSession(ctx, step.SessionID, []byte("another request's secret hash...."), gardien.LevelFull, step.Expires, step.Event.Time); err != nil {
		return err
	}
	return p.Store.PassSecondStep(ctx, step)
}

// TestASecondStepBeatenByAnotherOfItsCookieIsUnauthorized: when another
// request of the same cookie passed the step first, this one's cookie opens
// nothing any more: 401, as for any cookie of no session — not a 500.
func TestASecondStepBeatenByAnotherOfItsCookieIsUnauthorized(t *testing.T) {
	ctx := context.Background()
	f := newService(t, func(s auth.Store) auth.Store { return promotedMeanwhile{s} })
	f.signup(t, "ada@example.com", true)
	l := f.login(t, "ada@example.com")
	e, err := f.svc.BeginTwoFactor(ctx, l.User)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := totp.GenerateCode(e.Secret, f.clock.Now())
	act, err := f.svc.ActivateTwoFactor(ctx, l.Session, l.User, c, client)
	if err != nil {
		t.Fatal(err)
	}
	second := f.login(t, "ada@example.com")
	_, err = f.svc.VerifySecondFactor(ctx, second.Token, "", act.RecoveryCodes[0], client)
	wantCode(t, err, gardien.CodeUnauthorized)
}
