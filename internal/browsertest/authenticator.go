package browsertest

import (
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// Authenticator is a virtual WebAuthn authenticator of the tab (DevTools'
// WebAuthn domain): a CTAP2 key with user verification, whose presence and
// verification succeed at once.
type Authenticator struct {
	b  *Browser
	ID webauthn.AuthenticatorID
}

// AddAuthenticator plugs a new virtual authenticator into the tab; the
// browser then answers navigator.credentials with it, without any prompt.
// With residentKeys, its keys are passkeys (discoverable: a login page
// asking for any passkey gets one at once); without, a security key that
// answers only when its key is named.
func (b *Browser) AddAuthenticator(residentKeys bool) *Authenticator {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		b.t.Fatalf("webauthn: %v", err)
	}
	res, err := chromedp.Call(b.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
		HasResidentKey: residentKeys, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
	}})
	if err != nil {
		b.t.Fatalf("virtual authenticator: %v", err)
	}
	return &Authenticator{b: b, ID: res.AuthenticatorID}
}

// Credentials are the keys the authenticator holds (their private keys and
// signature counters too).
func (a *Authenticator) Credentials() []*webauthn.Credential {
	a.b.t.Helper()
	res, err := chromedp.Call(a.b.ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: a.ID})
	if err != nil {
		a.b.t.Fatalf("credentials: %v", err)
	}
	return res.Credentials
}

// addCredential is WebAuthn.addCredential with its parameters as written
// here: cdproto's always sends generateCmtgKeyOnNextOperation, which
// Chromium refuses from an authenticator without that extension.
var addCredential = cdp.Command[map[string]any, cdp.Empty]{Method: webauthn.CommandAddCredential}

// AddCredential puts a key into the authenticator (a copy of another's).
func (a *Authenticator) AddCredential(c *webauthn.Credential) {
	a.b.t.Helper()
	cred := map[string]any{"credentialId": c.CredentialID, "isResidentCredential": c.IsResidentCredential, "rpId": c.RpID,
		"privateKey": c.PrivateKey, "userHandle": c.UserHandle, "signCount": c.SignCount}
	if _, err := chromedp.Call(a.b.ctx, addCredential, map[string]any{"authenticatorId": a.ID, "credential": cred}); err != nil {
		a.b.t.Fatalf("add credential: %v", err)
	}
}

// Present says whether a person touches the key when asked (false: the
// browser's requests wait).
func (a *Authenticator) Present(on bool) {
	a.b.t.Helper()
	if _, err := chromedp.Call(a.b.ctx, webauthn.SetAutomaticPresenceSimulation, webauthn.SetAutomaticPresenceSimulationParams{AuthenticatorID: a.ID, Enabled: on}); err != nil {
		a.b.t.Fatalf("presence: %v", err)
	}
}

// Remove unplugs the authenticator.
func (a *Authenticator) Remove() {
	a.b.t.Helper()
	if _, err := chromedp.Call(a.b.ctx, webauthn.RemoveVirtualAuthenticator, webauthn.RemoveVirtualAuthenticatorParams{AuthenticatorID: a.ID}); err != nil {
		a.b.t.Fatalf("remove authenticator: %v", err)
	}
}
