package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	"github.com/pquerna/otp/totp"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/webauthn/webauthntest"
)

var testRP = virtualwebauthn.RelyingParty{Name: "Gardien", ID: "gardien.test", Origin: "http://gardien.test"}

// keyAnswer is what a browser and key answer to BeginPasskey's options.
func keyAnswer(t *testing.T, options []byte, a virtualwebauthn.Authenticator, key virtualwebauthn.Credential) []byte {
	t.Helper()
	parsed, err := virtualwebauthn.ParseAttestationOptions(string(options))
	if err != nil {
		t.Fatalf("options: %v", err)
	}
	return []byte(virtualwebauthn.CreateAttestationResponse(testRP, a, key, *parsed))
}

func TestAPasskeyIsAddedOnceInItsSession(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	f.signup(t, "ada@example.com", true)
	l := f.login(t, "ada@example.com")
	a := virtualwebauthn.NewAuthenticator()
	key := webauthntest.NewCredential()

	options, err := f.svc.BeginPasskey(ctx, l.Session, l.User)
	if err != nil {
		t.Fatal(err)
	}
	answer := keyAnswer(t, options, a, key)
	_, err = f.svc.FinishPasskey(ctx, l.Session, l.User, " ", answer, client)
	wantCode(t, err, gardien.CodeValidationFailed) // no name
	// (The ceremony stays for a named try: a name is checked first.)
	added, err := f.svc.FinishPasskey(ctx, l.Session, l.User, "  YubiKey  5 ", answer, client)
	if err != nil || added.Passkey.Name != "YubiKey 5" {
		t.Fatalf("finish: %+v %v", added, err)
	}
	p := added.Passkey
	l.Token = added.Token
	// The same answer again: its challenge was answered.
	_, err = f.svc.FinishPasskey(ctx, l.Session, l.User, "again", answer, client)
	wantCode(t, err, gardien.CodeValidationFailed)
	// A ceremony begun in one session is not finished in another.
	other := f.login(t, "ada@example.com")
	options, _ = f.svc.BeginPasskey(ctx, l.Session, l.User)
	_, err = f.svc.FinishPasskey(ctx, other.Session, other.User, "other", keyAnswer(t, options, a, webauthntest.NewCredential()), client)
	wantCode(t, err, gardien.CodeValidationFailed)
	// Nor after five minutes.
	options, _ = f.svc.BeginPasskey(ctx, l.Session, l.User)
	f.clock.Advance(auth.CeremonyLifetime + time.Second)
	_, err = f.svc.FinishPasskey(ctx, l.Session, l.User, "late", keyAnswer(t, options, a, webauthntest.NewCredential()), client)
	wantCode(t, err, gardien.CodeValidationFailed)
	// The same key twice: 409.
	options, _ = f.svc.BeginPasskey(ctx, l.Session, l.User)
	_, err = f.svc.FinishPasskey(ctx, l.Session, l.User, "twice", keyAnswer(t, options, a, key), client)
	wantCode(t, err, gardien.CodeConflict)
	keys, err := f.svc.PasskeysOf(ctx, l.User)
	if err != nil || len(keys) != 1 || keys[0].Name != "YubiKey 5" {
		t.Fatalf("keys: %+v %v", keys, err)
	}

	// Renamed; removed only with the password; another's key is not found.
	if err := f.svc.RenamePasskey(ctx, l.User, p.ID, "Desk key", client); err != nil {
		t.Fatal(err)
	}
	eve := f.signup(t, "eve@example.com", true)
	wantCode(t, f.svc.RenamePasskey(ctx, eve, p.ID, "mine", client), gardien.CodeNotFound)
	_, err = f.svc.RemovePasskey(ctx, l.Session, l.User, p.ID, "wrong password", client)
	wantCode(t, err, gardien.CodeValidationFailed)
	if _, err := f.svc.RemovePasskey(ctx, l.Session, l.User, p.ID, pw, client); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.RemovePasskey(ctx, l.Session, l.User, p.ID, pw, client)
	wantCode(t, err, gardien.CodeNotFound)
	events, err := f.svc.UserEvents(ctx, l.User.ID, 20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range events {
		seen[e.Type] = true
	}
	for _, typ := range []string{gardien.EventPasskeyAdded, gardien.EventPasskeyRenamed, gardien.EventPasskeyRemoved} {
		if !seen[typ] {
			t.Errorf("no %s in the audit trail", typ)
		}
	}
}

func TestNoPasskeyForSSOPeopleOrUnvalidatedEmails(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	f.signup(t, "new@example.com", false)
	l, err := f.svc.LogIn(ctx, "new@example.com", pw, "", client)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.BeginPasskey(ctx, l.Session, l.User)
	wantCode(t, err, gardien.CodeEmailNotVerified)
	sso := *l.User
	sso.SSO, sso.EmailVerified = true, true
	_, err = f.svc.BeginPasskey(ctx, l.Session, &sso)
	wantCode(t, err, gardien.CodeSSOUser)
	// Gardien at an IP address: no passkeys, said so.
	f.svc.Passkeys = nil
	sso.SSO = false
	_, err = f.svc.BeginPasskey(ctx, l.Session, &sso)
	wantCode(t, err, gardien.CodeConflict)
}

// addKey adds a new key of a to the account of l's session, and returns
// what it changed (l's token follows a rotation).
func (f *fixture) addKey(t *testing.T, l *auth.Login, a *virtualwebauthn.Authenticator, name string) (virtualwebauthn.Credential, *auth.KeyAdded) {
	t.Helper()
	ctx := context.Background()
	key := webauthntest.NewCredential()
	options, err := f.svc.BeginPasskey(ctx, l.Session, l.User)
	if err != nil {
		t.Fatal(err)
	}
	added, err := f.svc.FinishPasskey(ctx, l.Session, l.User, name, keyAnswer(t, options, *a, key), client)
	if err != nil {
		t.Fatal(err)
	}
	a.AddCredential(key)
	if added.Token != "" {
		l.Token = added.Token
	}
	if l.User, err = f.store.UserByID(ctx, l.User.ID); err != nil {
		t.Fatal(err)
	}
	return key, added
}

// keyProof is the answer of key to the challenge of a proof begun for l's session.
func (f *fixture) keyProof(t *testing.T, l *auth.Login, a virtualwebauthn.Authenticator, key virtualwebauthn.Credential) []byte {
	t.Helper()
	options, err := f.svc.BeginKeyProof(context.Background(), l.Session, l.User)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := virtualwebauthn.ParseAssertionOptions(string(options))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(virtualwebauthn.CreateAssertionResponse(testRP, a, key, *parsed))
}

func eventTypes(t *testing.T, f *fixture, userID int64) map[string]int {
	t.Helper()
	events, err := f.svc.UserEvents(context.Background(), userID, 100)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range events {
		seen[e.Type]++
	}
	return seen
}

// TestAKeyAloneIsASecondFactor: a first key turns 2FA on (recovery codes
// shown once, the session rotated, a mail); every login then asks for it;
// its answer works once, a stranger key's and a copy's do not (counted,
// a copy audited); a recovery code still works; a code of an app the
// person does not have is refused as such.
func TestAKeyAloneIsASecondFactor(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	f.signup(t, "ada@example.com", true)
	l := f.login(t, "ada@example.com")
	before := l.Token
	a := virtualwebauthn.NewAuthenticator()
	key, added := f.addKey(t, l, &a, "Phone")
	if len(added.RecoveryCodes) != auth.RecoveryCodeCount || added.Token == "" || added.Token == before {
		t.Fatalf("a first key: %d recovery codes, token rotated %v", len(added.RecoveryCodes), added.Token != before)
	}
	if !l.User.TwoFactorEnabled || !l.User.HasKeys || l.User.AppEnabled {
		t.Fatalf("after a first key: %+v", l.User)
	}
	if len(f.mails.titled("ada@example.com", "A passkey or security key was added")) != 1 {
		t.Fatal("no mail of the key added")
	}
	if eventTypes(t, f, l.User.ID)[gardien.EventTwoFactorEnabled] != 1 {
		t.Fatal("2FA turned on without its audit line")
	}
	// A second key changes nothing else.
	_, second := f.addKey(t, l, &a, "Laptop")
	if second.RecoveryCodes != nil || second.Token != "" {
		t.Fatalf("a second key: %+v", second)
	}

	in := f.login(t, "ada@example.com")
	if in.Status != auth.StatusTwoFactorRequired {
		t.Fatalf("login with a key: status %v", in.Status)
	}
	_, err := f.svc.VerifySecondFactor(ctx, in.Token, "123456", "", client)
	wantCode(t, err, gardien.CodeValidationFailed) // no app: said so, not counted
	answer := f.keyProof(t, in, a, key)
	passed, err := f.svc.VerifyKey(ctx, in.Token, answer, client)
	if err != nil {
		t.Fatalf("the key's answer: %v", err)
	}
	// What apps are told (amr): the password, a hardware key, two factors.
	if sess, _, err := f.svc.Authenticate(ctx, passed.Token); err != nil || sess.AMR != "pwd hwk mfa" || !sess.MFA {
		t.Fatalf("session after the key: %+v %v", sess, err)
	}

	// The same answer in another login: its challenge was answered.
	again := f.login(t, "ada@example.com")
	_, err = f.svc.VerifyKey(ctx, again.Token, answer, client)
	wantCode(t, err, gardien.CodeValidationFailed)
	// A key that is not theirs.
	stranger := virtualwebauthn.NewAuthenticator()
	strangerKey := webauthntest.NewCredential()
	stranger.AddCredential(strangerKey)
	_, err = f.svc.VerifyKey(ctx, again.Token, f.keyProof(t, again, stranger, strangerKey), client)
	wantCode(t, err, gardien.CodeInvalidCode)
	// A copy of their key, its counter behind the original's.
	key.Counter = 10
	if _, err := f.svc.VerifyKey(ctx, again.Token, f.keyProof(t, again, a, key), client); err != nil {
		t.Fatal(err)
	}
	copied := f.login(t, "ada@example.com")
	key.Counter = 3
	_, err = f.svc.VerifyKey(ctx, copied.Token, f.keyProof(t, copied, a, key), client)
	if e, _ := gardien.AsError(err); e == nil || e.Message != "err.passkey_cloned" {
		t.Fatalf("a copy's answer: %v", err)
	}
	seen := eventTypes(t, f, l.User.ID)
	if seen[gardien.EventPasskeyCloned] != 1 || seen[gardien.EventTwoFactorCodeFailed] != 2 {
		t.Fatalf("audit after a stranger key and a copy: %v", seen)
	}
	// A recovery code still opens the account.
	if _, err := f.svc.VerifySecondFactor(ctx, copied.Token, "", added.RecoveryCodes[0], client); err != nil {
		t.Fatalf("recovery code with keys only: %v", err)
	}
}

// TestKeysMeetTheRequirementAndTheLastOneStays: at set-up, a key lets a
// member of an organization that requires 2FA in; their last second
// factor cannot be removed while it does; without a requirement, removing
// the last key turns 2FA off (other sessions end, a mail), and removing one
// of two changes nothing else.
func TestKeysMeetTheRequirementAndTheLastOneStays(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.org(t, "owner@example.com")
	u := f.signup(t, "ada@example.com", true)
	f.join(t, owner.User, u, o.ID, gardien.RoleMember)
	if err := f.svc.SetRequireTwoFactor(ctx, owner.User, o.ID, true, auth.RequireOptions{}, client); err != nil {
		t.Fatal(err)
	}
	l := f.login(t, "ada@example.com")
	if l.Status != auth.StatusSetupRequired {
		t.Fatalf("status %v, want set-up", l.Status)
	}
	a := virtualwebauthn.NewAuthenticator()
	_, first := f.addKey(t, l, &a, "Phone")
	sess, _, err := f.svc.Authenticate(ctx, l.Token)
	if err != nil || sess.Level != gardien.LevelFull || !sess.MFA {
		t.Fatalf("after a key at set-up: %+v %v", sess, err)
	}
	l.Session = sess
	_, err = f.svc.RemovePasskey(ctx, l.Session, l.User, first.Passkey.ID, pw, client)
	wantCode(t, err, gardien.CodeTwoFactorRequiredByOrg)
	_, err = f.svc.DisableTwoFactor(ctx, l.Session, l.User, pw, client)
	wantCode(t, err, gardien.CodeTwoFactorRequiredByOrg)

	// Without the requirement.
	if err := f.svc.SetRequireTwoFactor(ctx, owner.User, o.ID, false, auth.RequireOptions{}, client); err != nil {
		t.Fatal(err)
	}
	_, second := f.addKey(t, l, &a, "Laptop")
	tok, err := f.svc.RemovePasskey(ctx, l.Session, l.User, first.Passkey.ID, pw, client)
	if err != nil || tok != "" {
		t.Fatalf("one key of two: %q %v", tok, err)
	}
	other := f.login(t, "ada@example.com")
	tok, err = f.svc.RemovePasskey(ctx, l.Session, l.User, second.Passkey.ID, pw, client)
	if err != nil || tok == "" {
		t.Fatalf("the last key: %q %v", tok, err)
	}
	if _, _, err := f.svc.Authenticate(ctx, other.Token); err == nil {
		t.Fatal("another session outlived 2FA turned off")
	}
	if _, _, err := f.svc.Authenticate(ctx, tok); err != nil {
		t.Fatalf("this session, rotated: %v", err)
	}
	if u, _ := f.store.UserByID(ctx, u.ID); u.TwoFactorEnabled || u.HasKeys {
		t.Fatalf("after the last key: %+v", u)
	}
	if len(f.mails.titled("ada@example.com", "Two-factor authentication is off")) != 1 {
		t.Fatal("no mail of 2FA turned off")
	}
	if len(f.mails.titled("ada@example.com", "A passkey or security key was removed")) != 2 {
		t.Fatal("a key removed without its mail")
	}
	if f.login(t, "ada@example.com").Status != auth.StatusOK {
		t.Fatal("a second step asked with no second factor")
	}
}

// TestAnOrganizationMayAskForAKey: with the requirement's phishing-resistant
// option (turned on only by someone with a key), a member whose only 2FA is
// an app passes their code, then may only add a key (set-up), which lets
// them in; their last key then stays; before a deadline they get the
// banner instead; the counts and the mails say "a key".
func TestAnOrganizationMayAskForAKey(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.org(t, "owner@example.com")
	ada := f.signup(t, "ada@example.com", true)
	bob := f.signup(t, "bob@example.com", true)
	f.join(t, owner.User, ada, o.ID, gardien.RoleMember)
	f.join(t, owner.User, bob, o.ID, gardien.RoleMember)
	adaIn := f.login(t, "ada@example.com")
	secret := f.enableTwoFactor(t, adaIn)
	code := func() string {
		f.clock.Advance(30 * time.Second)
		c, _ := totp.GenerateCode(secret, f.clock.Now())
		return c
	}

	keys := auth.RequireOptions{PhishingResistant: true, Notify: true}
	wantCode(t, f.svc.SetRequireTwoFactor(ctx, owner.User, o.ID, true, keys, client), gardien.CodeForbidden) // the owner has no key
	ownerKeys := virtualwebauthn.NewAuthenticator()
	f.addKey(t, owner, &ownerKeys, "Owner's key")
	if err := f.svc.SetRequireTwoFactor(ctx, owner.User, o.ID, true, keys, client); err != nil {
		t.Fatal(err)
	}
	sec, err := f.svc.OrgSecurity(ctx, owner.User, o.ID)
	if err != nil || sec.WithoutKey != 2 || sec.WithoutTwoFactor != 1 {
		t.Fatalf("counts: %+v %v", sec, err)
	}
	f.svc.Wait(ctx) // the mails go in the background
	if len(f.mails.titled("ada@example.com", "Your organization now requires a passkey or security key")) != 1 ||
		len(f.mails.titled("bob@example.com", "Your organization now requires two-factor authentication")) != 1 {
		t.Fatal("the requirement's mails do not say what each member lacks")
	}

	// Ada: her code, then only the set-up (add a key).
	in := f.login(t, "ada@example.com")
	passed, err := f.svc.VerifySecondFactor(ctx, in.Token, code(), "", client)
	if err != nil || !passed.KeyRequired {
		t.Fatalf("second step: %+v %v", passed, err)
	}
	sess, _, err := f.svc.Authenticate(ctx, passed.Token)
	if err != nil || sess.Level != gardien.LevelSetup {
		t.Fatalf("after the code: %+v %v", sess, err)
	}
	in.Token, in.Session = passed.Token, sess
	adaKeys := virtualwebauthn.NewAuthenticator()
	_, added := f.addKey(t, in, &adaKeys, "Ada's key")
	if added.Token == "" || added.RecoveryCodes != nil {
		t.Fatalf("the key asked for: %+v", added)
	}
	if sess, _, err := f.svc.Authenticate(ctx, added.Token); err != nil || sess.Level != gardien.LevelFull {
		t.Fatalf("after the key: %+v %v", sess, err)
	}
	in.Session.Level = gardien.LevelFull
	_, err = f.svc.RemovePasskey(ctx, in.Session, in.User, added.Passkey.ID, pw, client)
	wantCode(t, err, gardien.CodeTwoFactorRequiredByOrg) // her last key, her app beside it
	if sec, _ := f.svc.OrgSecurity(ctx, owner.User, o.ID); sec.WithoutKey != 1 {
		t.Fatalf("members without a key after Ada's: %d", sec.WithoutKey)
	}

	// With a deadline ahead, an app still lets Carol in, and the banner says it.
	carol := f.signup(t, "carol@example.com", true)
	f.join(t, owner.User, carol, o.ID, gardien.RoleMember)
	carolSecret := f.enableTwoFactor(t, f.login(t, "carol@example.com"))
	keys.Deadline, keys.Notify = f.clock.Now().Add(7*24*time.Hour), false
	if err := f.svc.SetRequireTwoFactor(ctx, owner.User, o.ID, true, keys, client); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(30 * time.Second)
	carolCode, _ := totp.GenerateCode(carolSecret, f.clock.Now())
	if passed, err := f.svc.VerifySecondFactor(ctx, f.login(t, "carol@example.com").Token, carolCode, "", client); err != nil || passed.KeyRequired {
		t.Fatalf("Carol before the deadline: %+v %v", passed, err)
	}
	carolUser, _ := f.store.UserByID(ctx, carol.ID)
	if d, found, err := f.svc.PendingDeadline(ctx, carolUser); err != nil || !found || d.OrgID != o.ID {
		t.Fatalf("Carol's banner: %+v %v %v", d, found, err)
	}
	// Without the option, her app meets the requirement: no banner.
	keys.PhishingResistant = false
	if err := f.svc.SetRequireTwoFactor(ctx, owner.User, o.ID, true, keys, client); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := f.svc.PendingDeadline(ctx, carolUser); found {
		t.Fatal("a banner for an app where no key is asked for")
	}
}
