package auth_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/pquerna/otp/totp"
)

func TestWhatALoginNeedsNext(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.org(t, "owner@example.com")
	bob := f.signup(t, "bob@example.com", true)
	f.join(t, owner.User, bob, o.ID, gardien.RoleMember)
	f.signup(t, "solo@example.com", false)
	for email, want := range map[string]auth.Status{"solo@example.com": auth.StatusOK, "bob@example.com": auth.StatusOK, "owner@example.com": auth.StatusTwoFactorRequired} {
		if got := f.login(t, email).Status; got != want {
			t.Errorf("%s before the requirement: %s, want %s", email, got, want)
		}
	}
	if err := f.svc.SetRequireTwoFactor(ctx, owner.User, o.ID, true, auth.RequireOptions{}, client); err != nil {
		t.Fatal(err)
	}
	for email, want := range map[string]auth.Status{"solo@example.com": auth.StatusOK, "bob@example.com": auth.StatusSetupRequired, "owner@example.com": auth.StatusTwoFactorRequired} {
		if got := f.login(t, email).Status; got != want {
			t.Errorf("%s with the requirement on: %s, want %s", email, got, want)
		}
	}
	// Leaving the organization lifts it.
	if err := f.svc.RemoveMember(ctx, bob, o.ID, bob.ID, client); err != nil {
		t.Fatal(err)
	}
	if got := f.login(t, "bob@example.com").Status; got != auth.StatusOK {
		t.Errorf("after leaving: %s", got)
	}
}

func TestWhatEachSessionLevelReaches(t *testing.T) {
	for _, tc := range []struct {
		level gardien.SessionLevel
		area  auth.Area
		code  gardien.Code // "" = allowed
	}{
		{gardien.LevelSecondFactor, auth.AreaAny, ""},
		{gardien.LevelSecondFactor, auth.AreaSecondStep, ""},
		{gardien.LevelSecondFactor, auth.AreaSetup, gardien.CodeTwoFactorRequired},
		{gardien.LevelSecondFactor, auth.AreaFull, gardien.CodeTwoFactorRequired},
		{gardien.LevelSetup, auth.AreaAny, ""},
		{gardien.LevelSetup, auth.AreaSetup, ""},
		{gardien.LevelSetup, auth.AreaSecondStep, gardien.CodeTwoFactorSetupRequired},
		{gardien.LevelSetup, auth.AreaFull, gardien.CodeTwoFactorSetupRequired},
		{gardien.LevelFull, auth.AreaFull, ""},
		{gardien.LevelFull, auth.AreaSetup, ""},
		{gardien.LevelFull, auth.AreaSecondStep, gardien.CodeConflict},
		{gardien.LevelFull, auth.AreaSSOLink, ""},
		{gardien.LevelSecondFactor, auth.AreaSSOLink, gardien.CodeTwoFactorRequired},
		{gardien.LevelSetup, auth.AreaSSOLink, gardien.CodeTwoFactorSetupRequired},
		{gardien.LevelLinkSecondFactor, auth.AreaSecondStep, ""},
		{gardien.LevelLinkSecondFactor, auth.AreaSSOLink, gardien.CodeTwoFactorRequired},
		{gardien.LevelLinkSecondFactor, auth.AreaFull, gardien.CodeTwoFactorRequired},
		{gardien.LevelSSOLink, auth.AreaAny, ""},
		{gardien.LevelSSOLink, auth.AreaSSOLink, ""},
		{gardien.LevelSSOLink, auth.AreaFull, gardien.CodeSSORequired},
		{gardien.LevelSSOLink, auth.AreaSetup, gardien.CodeSSORequired},
		{gardien.LevelSSOLink, auth.AreaSecondStep, gardien.CodeSSORequired},
	} {
		err := auth.Allows(tc.level, tc.area)
		if got := gardien.Code(""); err != nil {
			got = gardien.ErrorCode(err)
			if got != tc.code {
				t.Errorf("level %s, area %d: %s, want %q", tc.level, tc.area, got, tc.code)
			}
		} else if tc.code != "" {
			t.Errorf("level %s, area %d: allowed, want %s", tc.level, tc.area, tc.code)
		}
	}
}

func TestWrongCodesLockTheSecondStepEvenForARightCode(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	f.signup(t, "ada@example.com", true)
	secret := f.enableTwoFactor(t, f.login(t, "ada@example.com"))
	f.clock.Advance(30 * time.Second)
	second := f.login(t, "ada@example.com")
	for range 5 {
		_, err := f.svc.VerifySecondFactor(ctx, second.Token, "000000", "", client)
		wantCode(t, err, gardien.CodeInvalidCode)
	}
	right, _ := totp.GenerateCode(secret, f.clock.Now())
	_, err := f.svc.VerifySecondFactor(ctx, second.Token, right, "", client)
	wantCode(t, err, gardien.CodeRateLimited)
	e, _ := gardien.AsError(err)
	if e.RetryAfter <= 0 || e.RetryAfter > time.Minute {
		t.Fatalf("first lock: retry after %v, want at most a minute", e.RetryAfter)
	}
	// A wrong code while locked: the same answer, nothing more counted.
	_, err = f.svc.VerifySecondFactor(ctx, second.Token, "000000", "", client)
	if w, _ := gardien.AsError(err); w == nil || w.Code != e.Code || w.RetryAfter != e.RetryAfter {
		t.Fatalf("a wrong code while locked: %v, want the right code's answer %v", err, e)
	}
	if got := f.mails.to("ada@example.com"); got[len(got)-1].Subject != "Too many wrong codes for your account" {
		t.Fatalf("last mail %q, want the lock's", got[len(got)-1].Subject)
	}
	f.clock.Advance(time.Minute + time.Second)
	right, _ = totp.GenerateCode(secret, f.clock.Now())
	if _, err := f.svc.VerifySecondFactor(ctx, second.Token, right, "", client); err != nil {
		t.Fatalf("a right code once the lock ended: %v", err)
	}
}

func TestNewRecoveryCodesAreMailed(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	f.signup(t, "ada@example.com", true)
	l := f.login(t, "ada@example.com")
	f.enableTwoFactor(t, l)
	if _, err := f.svc.RegenerateRecoveryCodes(ctx, l.User, pw, client); err != nil {
		t.Fatal(err)
	}
	got := f.mails.to("ada@example.com")
	if last := got[len(got)-1]; last.Subject != "New recovery codes were made" {
		t.Fatalf("last mail %q", last.Subject)
	}
}

func TestMovingToANewAuthenticatorApp(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	f.signup(t, "ada@example.com", true)
	l := f.login(t, "ada@example.com")
	old := f.enableTwoFactor(t, l)
	f.clock.Advance(30 * time.Second)
	codeOf := func(secret string) string {
		code, _ := totp.GenerateCode(secret, f.clock.Now())
		return code
	}
	_, err := f.svc.BeginNewApp(ctx, l.User, "a wrong password", codeOf(old), "", client)
	wantCode(t, err, gardien.CodeValidationFailed)
	_, err = f.svc.BeginNewApp(ctx, l.User, pw, "000000", "", client)
	wantCode(t, err, gardien.CodeInvalidCode)
	e, err := f.svc.BeginNewApp(ctx, l.User, pw, codeOf(old), "", client)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(30 * time.Second)
	wantCode(t, f.svc.ConfirmNewApp(ctx, l.User, codeOf(old), client), gardien.CodeInvalidCode) // the old app's code is not the new one's
	if err := f.svc.ConfirmNewApp(ctx, l.User, codeOf(e.Secret), client); err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.svc.ConfirmNewApp(ctx, l.User, codeOf(e.Secret), client), gardien.CodeConflict) // once
	// At the next login, the old app's codes are refused and the new one's work.
	f.clock.Advance(30 * time.Second)
	second := f.login(t, "ada@example.com")
	_, err = f.svc.VerifySecondFactor(ctx, second.Token, codeOf(old), "", client)
	wantCode(t, err, gardien.CodeInvalidCode)
	if _, err := f.svc.VerifySecondFactor(ctx, second.Token, codeOf(e.Secret), "", client); err != nil {
		t.Fatalf("the new app's code: %v", err)
	}
	got := f.mails.to("ada@example.com")
	if last := got[len(got)-1]; last.Subject != "Your account uses a new authenticator app" {
		t.Fatalf("last mail %q", last.Subject)
	}
	if c, r := auth.ProofOf("123 456"); c != "123 456" || r != "" {
		t.Errorf("ProofOf of a code: %q %q", c, r)
	}
	if c, r := auth.ProofOf("abcd-efgh-jkmn"); c != "" || r != "abcd-efgh-jkmn" {
		t.Errorf("ProofOf of a recovery code: %q %q", c, r)
	}
}

func TestChangingEmail(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	ada := f.signup(t, "ada@example.com", true)
	f.signup(t, "bob@example.com", true)
	_, err := f.svc.RequestEmailChange(ctx, ada, "ada.new@example.com", "a wrong password", auth.Proof{}, client)
	wantCode(t, err, gardien.CodeValidationFailed)
	_, err = f.svc.RequestEmailChange(ctx, ada, "BOB@example.com", pw, auth.Proof{}, client)
	if e, _ := gardien.AsError(err); e == nil || e.Fields[0].Message != "err.email_unavailable" {
		t.Fatalf("another account's address: %v", err)
	}
	if _, err := f.svc.RequestEmailChange(ctx, ada, "ada.new@example.com", pw, auth.Proof{}, client); err != nil {
		t.Fatal(err)
	}
	// Nothing changes until the link is followed.
	if u, _ := f.store.UserByID(ctx, ada.ID); u.Email != "ada@example.com" {
		t.Fatalf("changed before the link: %s", u.Email)
	}
	link := f.mails.to("ada.new@example.com")
	if len(link) != 1 {
		t.Fatalf("%d mails to the new address", len(link))
	}
	tok := tokenOf(t, link[0].Text)
	u, err := f.svc.ConfirmEmailChange(ctx, tok, client)
	if err != nil || u.Email != "ada.new@example.com" || !u.EmailVerified {
		t.Fatalf("after the link: %+v %v", u, err)
	}
	_, err = f.svc.ConfirmEmailChange(ctx, tok, client)
	wantCode(t, err, gardien.CodeInvalidToken) // once
	old := f.mails.to("ada@example.com")
	if last := old[len(old)-1]; last.Subject != "The email of your account was changed" || !strings.Contains(last.Text, "ada.new@example.com") {
		t.Fatalf("mail to the old address: %q", last.Subject)
	}
	if _, err := f.svc.LogIn(ctx, "ada.new@example.com", pw, "", client); err != nil {
		t.Fatalf("login with the new address: %v", err)
	}
}

func TestNoEmailChangeIntoADomainThatRequiresSSO(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.ssoOrg(t)
	c, _ := f.svc.SSO(ctx, owner.User, o.ID)
	if _, err := f.svc.SaveSSO(ctx, owner.User, o.ID, auth.SSOInput{Protocol: "oidc", Enabled: true, RequireSSO: true,
		Domains: []string{"acme.test"}, Issuer: c.Issuer, ClientID: "gardien"}, client); err != nil {
		t.Fatal(err)
	}
	carol := f.signup(t, "carol@example.com", true)
	_, err := f.svc.RequestEmailChange(ctx, carol, "carol@acme.test", pw, auth.Proof{}, client)
	if e, _ := gardien.AsError(err); e == nil || e.Fields[0].Message != "err.email_sso_domain" {
		t.Fatalf("into an SSO-required domain: %v", err)
	}
}

func TestDeletingAnAccount(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.org(t, "owner@example.com")
	bob := f.signup(t, "bob@example.com", true)
	f.join(t, owner.User, bob, o.ID, gardien.RoleMember)
	// With 2FA on, a code is due as well as the password.
	wantCode(t, f.svc.DeleteAccount(ctx, owner.User, pw, auth.Proof{}, client), gardien.CodeValidationFailed)
	// The last owner of an organization cannot go: the error names it.
	solo := f.signup(t, "solo@example.com", true)
	if _, err := f.svc.CreateOrganization(ctx, solo, "Solo Corp", client); err != nil {
		t.Fatal(err)
	}
	err := f.svc.DeleteAccount(ctx, solo, pw, auth.Proof{}, client)
	if e, _ := gardien.AsError(err); e == nil || e.Code != gardien.CodeConflict || !strings.Contains(fmt.Sprint(e.Args...), "Solo Corp") {
		t.Fatalf("the last owner of Solo Corp: %v", err)
	}
	// Bob deletes his account with his password.
	wantCode(t, f.svc.DeleteAccount(ctx, bob, "a wrong password", auth.Proof{}, client), gardien.CodeValidationFailed)
	if err := f.svc.DeleteAccount(ctx, bob, pw, auth.Proof{}, client); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.LogIn(ctx, "bob@example.com", pw, "", client)
	wantCode(t, err, gardien.CodeInvalidCredentials)
	page, err := f.svc.Members(ctx, owner.User, o.ID, false, 1)
	if err != nil || len(page.Members) != 1 {
		t.Fatalf("members after Bob left by deletion: %d %v", len(page.Members), err)
	}
	events, _ := f.svc.AuditLog(ctx, owner.User, o.ID, gardien.EventFilter{Type: gardien.EventOrgMemberJoined})
	found := false
	for _, e := range events {
		if e.UserID == bob.ID && e.UserEmail == "" {
			found = true // the line stays; the person is gone
		}
	}
	if !found {
		t.Fatalf("the audit log lost Bob's line, or still names him: %+v", events)
	}
	got := f.mails.to("bob@example.com")
	if last := got[len(got)-1]; last.Subject != "Your account was deleted" {
		t.Fatalf("last mail %q", last.Subject)
	}
}

func TestAReusedCodeIsRefusedAndSaidToBeUsed(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	f.signup(t, "ada@example.com", true)
	secret := f.enableTwoFactor(t, f.login(t, "ada@example.com"))
	f.clock.Advance(30 * time.Second)
	code, _ := totp.GenerateCode(secret, f.clock.Now())
	first := f.login(t, "ada@example.com")
	if _, err := f.svc.VerifySecondFactor(ctx, first.Token, code, "", client); err != nil {
		t.Fatal(err)
	}
	second := f.login(t, "ada@example.com")
	_, err := f.svc.VerifySecondFactor(ctx, second.Token, code, "", client)
	wantCode(t, err, gardien.CodeInvalidCode)
	if e, _ := gardien.AsError(err); e.Message != "err.code_used" {
		t.Fatalf("a reused code: %v, want it said to be used", err)
	}
	_, err = f.svc.VerifySecondFactor(ctx, second.Token, "000000", "", client)
	if e, _ := gardien.AsError(err); e == nil || e.Message != "err.invalid_code" {
		t.Fatalf("a wrong code: %v", err)
	}
}

// A session's cookie names its session and carries its secret: it opens
// that session only, another session's ID with it opens nothing, and each
// rotation (here the second step's) ends the cookie before it.
func TestASessionCookieOpensItsOwnSessionOnly(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	f.signup(t, "ada@example.com", true)
	f.signup(t, "bea@example.com", true)
	secret := f.enableTwoFactor(t, f.login(t, "ada@example.com"))
	ada, bea := f.login(t, "ada@example.com"), f.login(t, "bea@example.com")
	for _, l := range []*auth.Login{ada, bea} {
		id, _, _ := strings.Cut(l.Token, ".")
		if id != fmt.Sprint(l.Session.ID) {
			t.Fatalf("token %q, want session %d's ID before its secret", l.Token, l.Session.ID)
		}
		sess, u, err := f.svc.Authenticate(ctx, l.Token)
		if err != nil || sess.ID != l.Session.ID || u.ID != l.User.ID {
			t.Fatalf("%s's own token: %+v %v", l.User.Email, sess, err)
		}
	}
	_, adaSecret, _ := strings.Cut(ada.Token, ".")
	_, beaSecret, _ := strings.Cut(bea.Token, ".")
	for name, tok := range map[string]string{
		"bea's ID, ada's secret": fmt.Sprint(bea.Session.ID, ".", adaSecret),
		"ada's ID, bea's secret": fmt.Sprint(ada.Session.ID, ".", beaSecret),
		"ada's secret alone":     adaSecret,
		"ada's ID spelt 0…":      "0" + ada.Token,
	} {
		if _, _, err := f.svc.Authenticate(ctx, tok); gardien.ErrorCode(err) != gardien.CodeUnauthorized {
			t.Errorf("%s: %v, want unauthorized", name, err)
		}
	}
	f.clock.Advance(30 * time.Second)
	code, _ := totp.GenerateCode(secret, f.clock.Now())
	passed, err := f.svc.VerifySecondFactor(ctx, ada.Token, code, "", client)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = f.svc.Authenticate(ctx, ada.Token)
	wantCode(t, err, gardien.CodeUnauthorized)
	if sess, _, err := f.svc.Authenticate(ctx, passed.Token); err != nil || sess.ID != ada.Session.ID || sess.Level != gardien.LevelFull {
		t.Fatalf("the token after the second step: %+v %v", sess, err)
	}
}

// Concurrent wrong passwords are bounded per account and per address,
// whatever their number; a burst of right passwords from one address (an
// office behind one NAT at nine) is never refused for the tries in flight
// beside it.
func TestAnOfficeBurstLogsInWhileGuessesStopAtTheLimit(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	office := gardien.Client{IP: "198.51.100.20"}
	f.signup(t, "ada@example.com", true)
	var mu sync.Mutex
	codes := map[gardien.Code]int{}
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Go(func() {
			_, err := f.svc.LogIn(ctx, "ada@example.com", fmt.Sprintf("wrong guess %d", i), "", office)
			mu.Lock()
			codes[gardien.ErrorCode(err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes[gardien.CodeInvalidCredentials] != 10 || codes[gardien.CodeRateLimited] != 50 {
		t.Fatalf("60 concurrent wrong passwords: %v, want 10 heard and 50 rate_limited", codes)
	}

	const people = 300
	for i := range people {
		f.signup(t, fmt.Sprintf("p%d@office.example", i), true)
	}
	codes = map[gardien.Code]int{}
	for i := range people {
		wg.Go(func() {
			_, err := f.svc.LogIn(ctx, fmt.Sprintf("p%d@office.example", i), pw, "", office)
			mu.Lock()
			if err == nil {
				codes["ok"]++
			} else {
				codes[gardien.ErrorCode(err)]++
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes["ok"] != people {
		t.Fatalf("%d concurrent right passwords from one address: %v, want all %d logged in", people, codes, people)
	}
}

// The session in use comes first in the person's list ("this browser").
func TestTheCurrentSessionIsListedFirst(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	f.signup(t, "ada@example.com", true)
	var logins []*auth.Login
	for range 3 {
		l, err := f.svc.LogIn(ctx, "ada@example.com", pw, "", client)
		if err != nil {
			t.Fatal(err)
		}
		logins = append(logins, l)
	}
	for _, l := range logins {
		list, err := f.svc.Sessions(ctx, l.Session)
		if err != nil || len(list) < 3 || !list[0].Current || list[0].ID != l.Session.ID {
			t.Fatalf("sessions seen from %d: %+v %v", l.Session.ID, list, err)
		}
	}
}
