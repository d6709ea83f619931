// Package webauthn is the WebAuthn ceremonies only (passkeys and security
// keys), over github.com/go-webauthn/webauthn, as internal/sso is for SSO:
// options to send a browser, and its answers checked into a credential.
// Who may add or use a key, and what a login with one counts for, are
// auth's; challenges are stored (and used once) by auth's storage.
package webauthn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"

	"github.com/go-webauthn/webauthn/protocol"
	gowebauthn "github.com/go-webauthn/webauthn/webauthn"
)

// Credential is a key as stored: the library's, kept as it is (JSON).
type Credential = gowebauthn.Credential

// User is a person as the ceremonies see them: a stable id (never their
// email), names for the authenticator to show, and their keys.
type User struct {
	ID          []byte
	Name        string
	DisplayName string
	Credentials []Credential
}

func (u User) WebAuthnID() []byte                           { return u.ID }
func (u User) WebAuthnName() string                         { return u.Name }
func (u User) WebAuthnDisplayName() string                  { return u.DisplayName }
func (u User) WebAuthnCredentials() []gowebauthn.Credential { return u.Credentials }

// ErrCloned is an answer whose signature counter went back: the key was
// copied, and the copy (or the original) is being used.
var ErrCloned = errors.New("webauthn: the key's signature counter went back (a cloned authenticator)")

// Ceremonies runs registrations and logins for one relying party.
type Ceremonies struct {
	w *gowebauthn.WebAuthn
}

// ErrNoDomain: Gardien is reached at an IP address, where browsers offer
// no passkey (a relying party is a domain name).
var ErrNoDomain = errors.New("webauthn: passkeys need Gardien at a domain name (GARDIEN_BASE_URL), not an IP address")

// New sets the relying party up: its ID (a host, or a parent domain of
// it; "" = base's host) and the origin pages are served from (base).
func New(name string, base *url.URL, rpID string) (*Ceremonies, error) {
	if rpID == "" {
		rpID = base.Hostname()
	}
	if net.ParseIP(rpID) != nil {
		return nil, ErrNoDomain
	}
	w, err := gowebauthn.New(&gowebauthn.Config{
		RPID: rpID, RPDisplayName: name, RPOrigins: []string{base.Scheme + "://" + base.Host},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementPreferred, UserVerification: protocol.VerificationPreferred,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("webauthn: %w", err)
	}
	return &Ceremonies{w: w}, nil
}

// BeginRegistration returns the options a browser creates a key with
// (JSON, for navigator.credentials.create), and the ceremony's state to
// keep until its answer (JSON). The person's keys are excluded: an
// authenticator holds one of theirs at most.
func (c *Ceremonies) BeginRegistration(u User) (options, state []byte, err error) {
	exclude := make([]protocol.CredentialDescriptor, len(u.Credentials))
	for i, k := range u.Credentials {
		exclude[i] = k.Descriptor()
	}
	creation, session, err := c.w.BeginRegistration(u, gowebauthn.WithExclusions(exclude))
	if err != nil {
		return nil, nil, fmt.Errorf("webauthn: begin registration: %w", err)
	}
	return marshalPair(creation, session)
}

// FinishRegistration checks a browser's answer to BeginRegistration's
// options (state) and returns the new key.
func (c *Ceremonies) FinishRegistration(u User, state, answer []byte) (*Credential, error) {
	var session gowebauthn.SessionData
	if err := json.Unmarshal(state, &session); err != nil {
		return nil, fmt.Errorf("webauthn: registration state: %w", err)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBody(bytes.NewReader(answer))
	if err != nil {
		return nil, fmt.Errorf("webauthn: registration answer: %w", err)
	}
	cred, err := c.w.CreateCredential(u, session, parsed)
	if err != nil {
		return nil, fmt.Errorf("webauthn: registration: %w", err)
	}
	return cred, nil
}

// BeginLogin returns the options a browser proves one of u's keys with
// (JSON, for navigator.credentials.get), and the ceremony's state.
func (c *Ceremonies) BeginLogin(u User) (options, state []byte, err error) {
	assertion, session, err := c.w.BeginLogin(u)
	if err != nil {
		return nil, nil, fmt.Errorf("webauthn: begin login: %w", err)
	}
	return marshalPair(assertion, session)
}

// FinishLogin checks a browser's answer to BeginLogin's options and
// returns the key used, its counter updated (to store); ErrCloned when
// the counter went back.
func (c *Ceremonies) FinishLogin(u User, state, answer []byte) (*Credential, error) {
	var session gowebauthn.SessionData
	if err := json.Unmarshal(state, &session); err != nil {
		return nil, fmt.Errorf("webauthn: login state: %w", err)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBody(bytes.NewReader(answer))
	if err != nil {
		return nil, fmt.Errorf("webauthn: login answer: %w", err)
	}
	cred, err := c.w.ValidateLogin(u, session, parsed)
	if err != nil {
		return nil, fmt.Errorf("webauthn: login: %w", err)
	}
	if cred.Authenticator.CloneWarning {
		return nil, ErrCloned
	}
	return cred, nil
}

// BeginPasswordless returns the options of a login with a passkey alone:
// no person named (the browser offers the passkeys it holds for Gardien,
// discoverable credentials), user verification required (the passkey's
// PIN or fingerprint is the second factor), and the ceremony's state.
func (c *Ceremonies) BeginPasswordless() (options, state []byte, err error) {
	assertion, session, err := c.w.BeginDiscoverableLogin(gowebauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, nil, fmt.Errorf("webauthn: begin passwordless: %w", err)
	}
	return marshalPair(assertion, session)
}

// FinishPasswordless checks a browser's answer to BeginPasswordless's
// options: owner finds the person of the key's user handle (their ID) with
// their keys. It returns that person and the key used, its counter moved;
// ErrCloned when the counter went back.
func (c *Ceremonies) FinishPasswordless(owner func(userHandle []byte) (User, error), state, answer []byte) (User, *Credential, error) {
	var session gowebauthn.SessionData
	if err := json.Unmarshal(state, &session); err != nil {
		return User{}, nil, fmt.Errorf("webauthn: passwordless state: %w", err)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBody(bytes.NewReader(answer))
	if err != nil {
		return User{}, nil, fmt.Errorf("webauthn: passwordless answer: %w", err)
	}
	var who User
	cred, err := c.w.ValidateDiscoverableLogin(func(_, userHandle []byte) (gowebauthn.User, error) {
		u, err := owner(userHandle)
		who = u
		return u, err
	}, session, parsed)
	if err != nil {
		return User{}, nil, fmt.Errorf("webauthn: passwordless: %w", err)
	}
	if cred.Authenticator.CloneWarning {
		return who, nil, ErrCloned
	}
	return who, cred, nil
}

// Method is how RFC 8176 names a key's proof: "swk" for a passkey that may
// be copied to other devices (backup eligible: synced), "hwk" for a key
// bound to its hardware.
func Method(c *Credential) string {
	if c.Flags.BackupEligible {
		return "swk"
	}
	return "hwk"
}

func marshalPair(options any, session *gowebauthn.SessionData) ([]byte, []byte, error) {
	o, err := json.Marshal(options)
	if err != nil {
		return nil, nil, fmt.Errorf("webauthn: options: %w", err)
	}
	s, err := json.Marshal(session)
	if err != nil {
		return nil, nil, fmt.Errorf("webauthn: state: %w", err)
	}
	return o, s, nil
}
