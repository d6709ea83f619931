package webauthn_test

import (
	"errors"
	"net/url"
	"testing"

	"github.com/descope/virtualwebauthn"

	"github.com/gardien/gardien/internal/webauthn"
	"github.com/gardien/gardien/internal/webauthn/webauthntest"
)

var base, _ = url.Parse("https://gardien.example.com")

func setup(t *testing.T) (*webauthn.Ceremonies, virtualwebauthn.RelyingParty, webauthn.User) {
	t.Helper()
	c, err := webauthn.New("Gardien", base, "")
	if err != nil {
		t.Fatal(err)
	}
	rp := virtualwebauthn.RelyingParty{Name: "Gardien", ID: "gardien.example.com", Origin: "https://gardien.example.com"}
	return c, rp, webauthn.User{ID: []byte("42"), Name: "ada@example.com", DisplayName: "Ada Lovelace"}
}

// register adds a new key of a (virtual) authenticator to u.
func register(t *testing.T, c *webauthn.Ceremonies, rp virtualwebauthn.RelyingParty, auth *virtualwebauthn.Authenticator, u *webauthn.User) virtualwebauthn.Credential {
	t.Helper()
	options, state, err := c.BeginRegistration(*u)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := virtualwebauthn.ParseAttestationOptions(string(options))
	if err != nil {
		t.Fatalf("options a browser cannot read: %v\n%s", err, options)
	}
	key := webauthntest.NewCredential()
	cred, err := c.FinishRegistration(*u, state, []byte(virtualwebauthn.CreateAttestationResponse(rp, *auth, key, *parsed)))
	if err != nil {
		t.Fatalf("registration: %v", err)
	}
	auth.AddCredential(key)
	u.Credentials = append(u.Credentials, *cred)
	return key
}

// login proves one of u's keys with auth, the key's counter at counter.
func login(c *webauthn.Ceremonies, rp virtualwebauthn.RelyingParty, auth virtualwebauthn.Authenticator, key virtualwebauthn.Credential, u webauthn.User) (*webauthn.Credential, error) {
	options, state, err := c.BeginLogin(u)
	if err != nil {
		return nil, err
	}
	parsed, err := virtualwebauthn.ParseAssertionOptions(string(options))
	if err != nil {
		return nil, err
	}
	return c.FinishLogin(u, state, []byte(virtualwebauthn.CreateAssertionResponse(rp, auth, key, *parsed)))
}

func TestAKeyIsAddedThenProvesItsPerson(t *testing.T) {
	c, rp, u := setup(t)
	auth := virtualwebauthn.NewAuthenticator()
	key := register(t, c, rp, &auth, &u)
	key.Counter = 5
	cred, err := login(c, rp, auth, key, u)
	if err != nil {
		t.Fatalf("login with the key: %v", err)
	}
	if cred.Authenticator.SignCount != 5 {
		t.Fatalf("counter %d, want 5", cred.Authenticator.SignCount)
	}
}

func TestAClonedKeyIsRefused(t *testing.T) {
	c, rp, u := setup(t)
	auth := virtualwebauthn.NewAuthenticator()
	key := register(t, c, rp, &auth, &u)
	key.Counter = 10
	cred, err := login(c, rp, auth, key, u)
	if err != nil {
		t.Fatal(err)
	}
	u.Credentials[0] = *cred // the counter stored: 10
	key.Counter = 7          // a copy, behind the original
	if _, err := login(c, rp, auth, key, u); !errors.Is(err, webauthn.ErrCloned) {
		t.Fatalf("a counter going back: %v, want ErrCloned", err)
	}
}

func TestAnswersThatDoNotHoldAreRefused(t *testing.T) {
	c, rp, u := setup(t)
	auth := virtualwebauthn.NewAuthenticator()
	key := register(t, c, rp, &auth, &u)

	// Another person's key: not among u's.
	other := webauthn.User{ID: []byte("7"), Name: "eve@example.com", DisplayName: "Eve"}
	otherAuth := virtualwebauthn.NewAuthenticator()
	otherKey := register(t, c, rp, &otherAuth, &other)
	options, state, err := c.BeginLogin(u)
	if err != nil {
		t.Fatal(err)
	}
	parsed, _ := virtualwebauthn.ParseAssertionOptions(string(options))
	parsed.AllowCredentials = nil
	if _, err := c.FinishLogin(u, state, []byte(virtualwebauthn.CreateAssertionResponse(rp, otherAuth, otherKey, *parsed))); err == nil {
		t.Fatal("another person's key proved u")
	}
	// Another site's answer (a phishing page's origin).
	phish := rp
	phish.Origin = "https://gardien.example.com.evil.example"
	if _, err := login(c, phish, auth, key, u); err == nil {
		t.Fatal("an answer made for another origin was taken")
	}
	// An answer to another ceremony's challenge.
	_, otherState, _ := c.BeginLogin(u)
	options, _, _ = c.BeginLogin(u)
	parsed, _ = virtualwebauthn.ParseAssertionOptions(string(options))
	if _, err := c.FinishLogin(u, otherState, []byte(virtualwebauthn.CreateAssertionResponse(rp, auth, key, *parsed))); err == nil {
		t.Fatal("an answer to another challenge was taken")
	}
	// Malformed answers and states.
	for _, bad := range []string{"", "{}", "null", `{"id":"x","rawId":"x","type":"public-key","response":{}}`, "\xff\xfe"} {
		if _, err := c.FinishLogin(u, state, []byte(bad)); err == nil {
			t.Errorf("a malformed answer %q was taken", bad)
		}
		if _, err := c.FinishRegistration(u, state, []byte(bad)); err == nil {
			t.Errorf("a malformed registration %q was taken", bad)
		}
	}
	if _, err := c.FinishLogin(u, []byte("not json"), []byte("{}")); err == nil {
		t.Error("a malformed state was taken")
	}
}

// At an IP address there are no passkeys (browsers refuse), and no error
// that stops Gardien.
func TestNoPasskeysAtAnIPAddress(t *testing.T) {
	ip, _ := url.Parse("http://127.0.0.1:8080")
	if _, err := webauthn.New("Gardien", ip, ""); !errors.Is(err, webauthn.ErrNoDomain) {
		t.Fatalf("at 127.0.0.1: %v, want ErrNoDomain", err)
	}
	local, _ := url.Parse("http://localhost:8080")
	if _, err := webauthn.New("Gardien", local, ""); err != nil {
		t.Fatalf("at localhost: %v", err)
	}
}

// TestAParentDomainIsTheRelyingParty: with GARDIEN_PASSKEY_RP_ID a parent
// domain, keys are made for it from Gardien's pages, and a key made for
// Gardien's host alone does not answer it.
func TestAParentDomainIsTheRelyingParty(t *testing.T) {
	c, err := webauthn.New("Gardien", base, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	u := webauthn.User{ID: []byte("42"), Name: "ada@example.com", DisplayName: "Ada Lovelace"}
	parent := virtualwebauthn.RelyingParty{Name: "Gardien", ID: "example.com", Origin: "https://gardien.example.com"}
	auth := virtualwebauthn.NewAuthenticator()
	key := register(t, c, parent, &auth, &u)
	if _, err := login(c, parent, auth, key, u); err != nil {
		t.Fatalf("a key of the parent domain: %v", err)
	}
	host := virtualwebauthn.RelyingParty{Name: "Gardien", ID: "gardien.example.com", Origin: "https://gardien.example.com"}
	if _, err := login(c, host, auth, key, u); err == nil {
		t.Fatal("an answer for another relying party ID was taken")
	}
}
