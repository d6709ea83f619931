package auth_test

import (
	"context"
	"sync"
	"sync/atomic"
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

func (d disabledDuringStep) SecondFactor(ctx context.Context, fn func(auth.SecondFactorTx) error) error {
	return d.Store.SecondFactor(ctx, func(tx auth.SecondFactorTx) error { return fn(disablingTx{tx}) })
}

type disablingTx struct{ auth.SecondFactorTx }

func (d disablingTx) StepOf(ctx context.Context, key auth.SessionKey) (*gardien.Session, *gardien.User, *auth.Factor, error) {
	s, u, f, err := d.SecondFactorTx.StepOf(ctx, key)
	if u != nil {
		u.Disabled = true
	}
	return s, u, f, err
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
// this step's pass does: the key the step read the session with opens it
// no more.
type promotedMeanwhile struct{ auth.Store }

func (p promotedMeanwhile) SecondFactor(ctx context.Context, fn func(auth.SecondFactorTx) error) error {
	return p.Store.SecondFactor(ctx, func(tx auth.SecondFactorTx) error { return fn(promotingTx{tx}) })
}

type promotingTx struct{ auth.SecondFactorTx }

func (p promotingTx) Promote(ctx context.Context, pr auth.Promotion) error {
	pr.Key.Hash = []byte("another request's secret hash....")
	return p.SecondFactorTx.Promote(ctx, pr)
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

// TestConcurrentGuessesStopAtTheLimit: twenty wrong codes sent at once, by
// code and by recovery code, from sessions of one person: five are judged
// (the person's proofs are judged one after the other), the rest refused
// without being looked at; one lock, one mail. Then a proof asked again
// before a sensitive change is under the same lock.
func TestConcurrentGuessesStopAtTheLimit(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	f.signup(t, "ada@example.com", true)
	l := f.login(t, "ada@example.com")
	f.enableTwoFactor(t, l)
	f.clock.Advance(30 * time.Second)
	var wrong, limited atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		second := f.login(t, "ada@example.com")
		wg.Go(func() {
			code, recovery := "000000", ""
			if i%2 == 1 {
				code, recovery = "", "aaaa-bbbb-cccc"
			}
			_, err := f.svc.VerifySecondFactor(ctx, second.Token, code, recovery, client)
			switch gardien.ErrorCode(err) {
			case gardien.CodeInvalidCode:
				wrong.Add(1)
			case gardien.CodeRateLimited:
				limited.Add(1)
			default:
				t.Errorf("a wrong code: %v", err)
			}
		})
	}
	wg.Wait()
	if wrong.Load() != 5 || limited.Load() != 15 {
		t.Fatalf("%d judged wrong, %d refused of 20 at once, want 5 and 15", wrong.Load(), limited.Load())
	}
	if n := len(f.mails.titled("ada@example.com", "Too many wrong codes for your account")); n != 1 {
		t.Fatalf("%d lock mails, want 1", n)
	}
	u, err := f.store.UserByID(ctx, l.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.BeginNewApp(ctx, u, pw, "000000", "", client)
	wantCode(t, err, gardien.CodeRateLimited)
}
