package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/webauthn"
)

// A login with a passkey alone: no email, no password, no code. The
// passkey's user verification (its PIN or fingerprint) and its possession
// are the two factors, so the login satisfies a 2FA requirement. The
// ceremony is bound to the browser that asked (a token in its cookie,
// stored hashed), lives CeremonyLifetime and is answered once.

// passkeyLoginsPerAddress bounds the ceremonies one address may begin (each
// is a row until it is answered or swept). A login page begins one as it
// opens (the passkeys offered in its email box): an office behind one
// address opening it a thousand times in ten minutes is still served.
var passkeyLoginsPerAddress = countLimit{"passkey-login-address", 1000, 10 * time.Minute}

var errPasskeyLogin = gardien.Errorf(gardien.CodeInvalidCredentials, "err.passkey_login")

// PasskeyLoginStart is a login with a passkey begun: the token the browser
// keeps (a cookie), and the options for navigator.credentials.get.
type PasskeyLoginStart struct {
	Token   string
	Options []byte
}

// BeginPasskeyLogin begins a login with a passkey alone.
func (s *Service) BeginPasskeyLogin(ctx context.Context, c gardien.Client) (*PasskeyLoginStart, error) {
	if s.Passkeys == nil {
		return nil, errPasskeysOff
	}
	if err := s.limitAllowed(ctx, passkeyLoginsPerAddress, addressBucket(c.IP)); err != nil {
		return nil, err
	}
	options, state, err := s.Passkeys.BeginPasswordless()
	if err != nil {
		return nil, fmt.Errorf("auth: begin passkey login: %w", err)
	}
	token, hash := newToken()
	if err := s.Store.SaveLoginCeremony(ctx, hash, state, s.Now().Add(CeremonyLifetime)); err != nil {
		return nil, fmt.Errorf("auth: begin passkey login: %w", err)
	}
	return &PasskeyLoginStart{Token: token, Options: options}, nil
}

// FinishPasskeyLogin checks a passkey's answer to the ceremony of token and
// opens a session at level full for its person, as a login with password
// and second factor would — the account's rules first: disabled accounts
// and people whose organization requires SSO are refused. Any session the
// browser held before (oldToken) ends. A copied key (its counter went
// back) is refused and audited; other failures say only that the key did
// not open an account.
func (s *Service) FinishPasskeyLogin(ctx context.Context, token, oldToken string, answer []byte, c gardien.Client) (*Login, error) {
	l, err := s.finishPasskeyLogin(ctx, token, oldToken, answer, c)
	s.Observer.Login(loginOutcome(l, err))
	return l, err
}

func (s *Service) finishPasskeyLogin(ctx context.Context, token, oldToken string, answer []byte, c gardien.Client) (*Login, error) {
	if s.Passkeys == nil {
		return nil, errPasskeysOff
	}
	if token == "" || len(token) > 100 {
		return nil, errKeyChallenge
	}
	now := s.Now()
	state, err := s.Store.TakeLoginCeremony(ctx, hashToken(token), now)
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, errKeyChallenge
	}
	if err != nil {
		return nil, fmt.Errorf("auth: passkey login: %w", err)
	}
	var u *gardien.User
	owner := func(handle []byte) (webauthn.User, error) {
		id := SubjectID(string(handle))
		if id == 0 {
			return webauthn.User{}, gardien.ErrNotFound
		}
		var err error
		if u, err = s.Store.UserByID(ctx, id); err != nil {
			return webauthn.User{}, err
		}
		return s.webauthnUser(ctx, u)
	}
	_, cred, err := s.Passkeys.FinishPasswordless(owner, state, answer)
	switch {
	case errors.Is(err, webauthn.ErrCloned) && u != nil:
		s.Log.WarnContext(ctx, "cloned key refused", "user_id", u.ID)
		if err := s.event(ctx, gardien.EventPasskeyCloned, u.ID, 0, c, nil); err != nil {
			return nil, err
		}
		return nil, &gardien.Error{Code: gardien.CodeInvalidCredentials, Message: "err.passkey_cloned"}
	case err != nil:
		s.Log.InfoContext(ctx, "passkey login refused", "err", err)
		return nil, errPasskeyLogin
	}
	switch required, err := s.ssoRequiredOf(ctx, u); {
	case err != nil:
		return nil, err
	case u.Disabled:
		return nil, errAccountDisabled
	case u.SSO || required:
		// Their provider owns their way in (an SSO person has no key; an
		// organization that requires SSO lets only its owners by).
		return nil, errSSORequired
	}
	blob, err := json.Marshal(cred)
	if err != nil {
		return nil, fmt.Errorf("auth: passkey login: %w", err)
	}
	if err := s.Store.UsePasskey(ctx, u.ID, cred.ID, blob, now); err != nil {
		return nil, fmt.Errorf("auth: passkey login: %w", err)
	}
	s.endToken(ctx, oldToken)
	sess, tok, err := s.openSession(ctx, u.ID, gardien.LevelFull, c, "", webauthn.Method(cred)+" user mfa")
	if err != nil {
		return nil, err
	}
	if err := s.event(ctx, gardien.EventLogin, u.ID, u.ID, c, gardien.EventData{"level": string(gardien.LevelFull), "method": "passkey"}); err != nil {
		return nil, err
	}
	s.recordLogin(ctx, u.ID)
	s.noticeBrowser(ctx, u, c)
	return &Login{User: u, Session: sess, Token: tok, Status: StatusOK}, nil
}

// ssoRequiredOf says whether u's domain belongs to an organization that
// requires SSO and u is not one of its owners (who keep Gardien's own way
// in, for when the provider is down).
func (s *Service) ssoRequiredOf(ctx context.Context, u *gardien.User) (bool, error) {
	_, key, ok := NormalizeEmail(u.Email)
	if !ok {
		return false, nil
	}
	conn, found, err := s.domainSSO(ctx, key)
	if err != nil || !found || !conn.RequireSSO {
		return false, err
	}
	m, err := s.Store.Membership(ctx, conn.OrgID, u.ID)
	if errors.Is(err, gardien.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("auth: passkey login: %w", err)
	}
	return m.Role != gardien.RoleOwner, nil
}
