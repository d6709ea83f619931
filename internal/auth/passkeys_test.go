package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
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
	key := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)

	options, err := f.svc.BeginPasskey(ctx, l.Session, l.User)
	if err != nil {
		t.Fatal(err)
	}
	answer := keyAnswer(t, options, a, key)
	_, err = f.svc.FinishPasskey(ctx, l.Session, l.User, " ", answer, client)
	wantCode(t, err, gardien.CodeValidationFailed) // no name
	// (The ceremony stays for a named try: a name is checked first.)
	p, err := f.svc.FinishPasskey(ctx, l.Session, l.User, "  YubiKey  5 ", answer, client)
	if err != nil || p.Name != "YubiKey 5" {
		t.Fatalf("finish: %+v %v", p, err)
	}
	// The same answer again: its challenge was answered.
	_, err = f.svc.FinishPasskey(ctx, l.Session, l.User, "again", answer, client)
	wantCode(t, err, gardien.CodeValidationFailed)
	// A ceremony begun in one session is not finished in another.
	other := f.login(t, "ada@example.com")
	options, _ = f.svc.BeginPasskey(ctx, l.Session, l.User)
	_, err = f.svc.FinishPasskey(ctx, other.Session, other.User, "other", keyAnswer(t, options, a, virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)), client)
	wantCode(t, err, gardien.CodeValidationFailed)
	// Nor after five minutes.
	options, _ = f.svc.BeginPasskey(ctx, l.Session, l.User)
	f.clock.Advance(auth.CeremonyLifetime + time.Second)
	_, err = f.svc.FinishPasskey(ctx, l.Session, l.User, "late", keyAnswer(t, options, a, virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)), client)
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
	wantCode(t, f.svc.RemovePasskey(ctx, l.User, p.ID, "wrong password", client), gardien.CodeValidationFailed)
	if err := f.svc.RemovePasskey(ctx, l.User, p.ID, pw, client); err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.svc.RemovePasskey(ctx, l.User, p.ID, pw, client), gardien.CodeNotFound)
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
