package auth_test

import (
	"context"
	"testing"

	"github.com/descope/virtualwebauthn"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/webauthn/webauthntest"
)

// passwordless is the answer of key (held by a, whose user handle it
// gives) to a login with a passkey alone, begun here.
func (f *fixture) passwordless(t *testing.T, a virtualwebauthn.Authenticator, key virtualwebauthn.Credential) (string, []byte) {
	t.Helper()
	start, err := f.svc.BeginPasskeyLogin(context.Background(), client)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := virtualwebauthn.ParseAssertionOptions(string(start.Options))
	if err != nil {
		t.Fatal(err)
	}
	if len(parsed.AllowCredentials) != 0 {
		t.Fatalf("a login with a passkey alone names keys: %v", parsed.AllowCredentials)
	}
	return start.Token, []byte(virtualwebauthn.CreateAssertionResponse(testRP, a, key, *parsed))
}

// TestAPasskeyAloneLogsIn: a passkey's answer, with user verification,
// opens a full session counted as two factors (amr hwk user mfa), once;
// an answer without user verification, of an unknown key, for another
// browser's ceremony, or of a copied key, opens nothing; a disabled account
// stays closed.
func TestAPasskeyAloneLogsIn(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	f.signup(t, "ada@example.com", true)
	l := f.login(t, "ada@example.com")
	a := virtualwebauthn.NewAuthenticator()
	key, _ := f.addKey(t, l, &a, "Phone")
	a.Options.UserHandle = []byte(auth.Subject(l.User.ID))

	token, answer := f.passwordless(t, a, key)
	in, err := f.svc.FinishPasskeyLogin(ctx, token, "", answer, client)
	if err != nil {
		t.Fatalf("a passkey alone: %v", err)
	}
	if in.Status != auth.StatusOK || in.Session.Level != gardien.LevelFull || !in.Session.MFA || in.Session.AMR != "hwk user mfa" {
		t.Fatalf("session %+v, status %v", in.Session, in.Status)
	}
	if sess, _, err := f.svc.Authenticate(ctx, in.Token); err != nil || sess.AMR != "hwk user mfa" {
		t.Fatalf("the session as stored: %+v %v", sess, err)
	}
	// Its answer again.
	_, err = f.svc.FinishPasskeyLogin(ctx, token, "", answer, client)
	wantCode(t, err, gardien.CodeValidationFailed)

	// Without user verification: possession alone is one factor.
	a.Options.UserNotVerified = true
	token, answer = f.passwordless(t, a, key)
	_, err = f.svc.FinishPasskeyLogin(ctx, token, "", answer, client)
	wantCode(t, err, gardien.CodeInvalidCredentials)
	a.Options.UserNotVerified = false

	// A key nobody registered, naming Ada.
	stranger := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: a.Options.UserHandle})
	strangerKey := webauthntest.NewCredential()
	stranger.AddCredential(strangerKey)
	token, answer = f.passwordless(t, stranger, strangerKey)
	_, err = f.svc.FinishPasskeyLogin(ctx, token, "", answer, client)
	wantCode(t, err, gardien.CodeInvalidCredentials)

	// The answer to one browser's ceremony, sent with another's token.
	mine, _ := f.passwordless(t, a, key)
	_, theirs := f.passwordless(t, a, key)
	_, err = f.svc.FinishPasskeyLogin(ctx, mine, "", theirs, client)
	wantCode(t, err, gardien.CodeInvalidCredentials)

	// A copy of the key, behind the original.
	key.Counter = 10
	token, answer = f.passwordless(t, a, key)
	if _, err := f.svc.FinishPasskeyLogin(ctx, token, "", answer, client); err != nil {
		t.Fatal(err)
	}
	key.Counter = 4
	token, answer = f.passwordless(t, a, key)
	_, err = f.svc.FinishPasskeyLogin(ctx, token, "", answer, client)
	if e, _ := gardien.AsError(err); e == nil || e.Message != "err.passkey_cloned" {
		t.Fatalf("a copy: %v", err)
	}
	if eventTypes(t, f, l.User.ID)[gardien.EventPasskeyCloned] != 1 {
		t.Fatal("a copy refused without its audit line")
	}

	// A disabled account.
	if _, err := f.svc.OperatorSetDisabled(ctx, "ada@example.com", "ops", true); err != nil {
		t.Fatal(err)
	}
	key.Counter = 20
	token, answer = f.passwordless(t, a, key)
	_, err = f.svc.FinishPasskeyLogin(ctx, token, "", answer, client)
	wantCode(t, err, gardien.CodeForbidden)
}
