package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/mail"
	"github.com/gardien/gardien/internal/webauthn"
)

// PasskeyStore keeps people's passkeys and the WebAuthn ceremonies under way.
type PasskeyStore interface {
	// Passkeys lists a person's keys, the oldest first.
	Passkeys(ctx context.Context, userID int64) ([]gardien.Passkey, error)
	// AddPasskey saves a key and e; when the key turns 2FA on (the person
	// had no second factor: turnedOn), their recovery codes become
	// codeHashes and on is saved too. gardien.ErrDuplicate when the key is
	// registered already.
	AddPasskey(ctx context.Context, p *gardien.Passkey, codeHashes [][]byte, e, on *gardien.Event) (turnedOn bool, err error)
	// RenamePasskey changes the name of one of a person's keys and saves
	// e; gardien.ErrNotFound when they have none such.
	RenamePasskey(ctx context.Context, userID, id int64, name string, e *gardien.Event) error
	// DeletePasskey deletes one of a person's keys and saves e. When it was
	// their last second factor, 2FA goes off (recovery codes gone, their
	// sessions but keep ended, off saved: turnedOff) — unless keepOne,
	// when gardien.ErrLastFactor refuses it all; so does keepKey for
	// their last key. gardien.ErrNotFound when they have no such key.
	DeletePasskey(ctx context.Context, userID, id, keep int64, keepOne, keepKey bool, e, off *gardien.Event) (turnedOff bool, err error)
	// UsePasskey saves a key's credential after it was used (its counter).
	UsePasskey(ctx context.Context, userID int64, credentialID, credential []byte, at time.Time) error
	// SaveLoginCeremony keeps the ceremony of a login with a passkey alone,
	// under the hash of its browser's token; TakeLoginCeremony returns a
	// live one and ends it (gardien.ErrNotFound when none lives).
	SaveLoginCeremony(ctx context.Context, tokenHash, state []byte, expires time.Time) error
	TakeLoginCeremony(ctx context.Context, tokenHash []byte, now time.Time) ([]byte, error)
	// SaveCeremony keeps a session's ceremony of a kind (replacing the last).
	SaveCeremony(ctx context.Context, sessionID int64, kind string, state []byte, expires time.Time) error
	// TakeCeremony returns a session's live ceremony of a kind, and ends
	// it; gardien.ErrNotFound when none lives.
	TakeCeremony(ctx context.Context, sessionID int64, kind string, now time.Time) ([]byte, error)
}

// CeremonyLifetime: a key is to answer within it.
const CeremonyLifetime = 5 * time.Minute

// The kinds of ceremonies a session keeps: adding a key; proving one (at
// the second step, or before a sensitive change).
const (
	ceremonyRegister = "register"
	ceremonyProve    = "login"
)

var (
	errKeyChallenge    = gardien.Invalid("assertion", "err.passkey_challenge")
	errNoApp           = gardien.Invalid("code", "err.no_app")
	errPasskeyNotFound = gardien.Errorf(gardien.CodeNotFound, "err.passkey_not_found")
	errPasskeyCeremony = gardien.Errorf(gardien.CodeValidationFailed, "err.passkey_ceremony")
	errPasskeyTaken    = gardien.Errorf(gardien.CodeConflict, "err.passkey_taken")
	errPasskeysOff     = gardien.Errorf(gardien.CodeConflict, "err.passkeys_off")
)

// webauthnUser is a person and their keys as the ceremonies see them.
func (s *Service) webauthnUser(ctx context.Context, u *gardien.User) (webauthn.User, error) {
	keys, err := s.Store.Passkeys(ctx, u.ID)
	if err != nil {
		return webauthn.User{}, fmt.Errorf("auth: passkeys: %w", err)
	}
	return webauthnUserOf(u, keys)
}

func webauthnUserOf(u *gardien.User, keys []gardien.Passkey) (webauthn.User, error) {
	wu := webauthn.User{ID: []byte(Subject(u.ID)), Name: u.Email, DisplayName: u.Name}
	for _, k := range keys {
		var c webauthn.Credential
		if err := json.Unmarshal(k.Credential, &c); err != nil {
			return webauthn.User{}, fmt.Errorf("auth: passkey %d: %w", k.ID, err)
		}
		wu.Credentials = append(wu.Credentials, c)
	}
	return wu, nil
}

// BeginPasskey starts adding a passkey or security key to u's account (a
// full session, or one that must set a second factor up): the options for
// the browser. Not for SSO people (their provider owns their factors), and
// only with a validated email.
func (s *Service) BeginPasskey(ctx context.Context, sess *gardien.Session, u *gardien.User) ([]byte, error) {
	switch {
	case s.Passkeys == nil:
		return nil, errPasskeysOff
	case u.SSO:
		return nil, errSSOUser
	case !u.EmailVerified:
		return nil, errNotVerified
	}
	wu, err := s.webauthnUser(ctx, u)
	if err != nil {
		return nil, err
	}
	options, state, err := s.Passkeys.BeginRegistration(wu)
	if err != nil {
		return nil, fmt.Errorf("auth: begin passkey: %w", err)
	}
	if err := s.Store.SaveCeremony(ctx, sess.ID, ceremonyRegister, state, s.Now().Add(CeremonyLifetime)); err != nil {
		return nil, fmt.Errorf("auth: begin passkey: %w", err)
	}
	return options, nil
}

// PasskeysOn says whether keys work here at all (Gardien at a domain name).
func (s *Service) PasskeysOn() bool { return s.Passkeys != nil }

// KeysOffered says whether u may add keys here: Gardien at a domain name,
// not an SSO person, a validated email.
func (s *Service) KeysOffered(u *gardien.User) bool {
	return s.Passkeys != nil && !u.SSO && u.EmailVerified
}

// BeginKeyProof starts a proof of one of u's keys, for their session at
// its second step (or, later, before a sensitive change): the options for
// the browser (navigator.credentials.get). Its challenge is kept for the
// session, CeremonyLifetime, and answered once (VerifyKey).
func (s *Service) BeginKeyProof(ctx context.Context, sess *gardien.Session, u *gardien.User) ([]byte, error) {
	switch {
	case s.Passkeys == nil:
		return nil, errPasskeysOff
	case !u.HasKeys:
		return nil, errPasskeyNotFound
	}
	wu, err := s.webauthnUser(ctx, u)
	if err != nil {
		return nil, err
	}
	options, state, err := s.Passkeys.BeginLogin(wu)
	if err != nil {
		return nil, fmt.Errorf("auth: key proof: %w", err)
	}
	if err := s.Store.SaveCeremony(ctx, sess.ID, ceremonyProve, state, s.Now().Add(CeremonyLifetime)); err != nil {
		return nil, fmt.Errorf("auth: key proof: %w", err)
	}
	return options, nil
}

// KeyAdded is a key added, and what it changed.
type KeyAdded struct {
	Passkey *gardien.Passkey
	// RecoveryCodes are set when the key turned 2FA on: shown once.
	RecoveryCodes []string
	// Token is the session's new token when the key turned 2FA on (a
	// change of privilege rotates it); "" otherwise.
	Token string
}

// FinishPasskey adds the key a browser made for BeginPasskey's options, in
// the same session and within CeremonyLifetime, once; audited and mailed.
// A first key turns 2FA on: recovery codes are made, the session rotated
// (and, at set-up, let in).
func (s *Service) FinishPasskey(ctx context.Context, sess *gardien.Session, u *gardien.User, rawName string, answer []byte, c gardien.Client) (*KeyAdded, error) {
	name, err := cleanPasskeyName(rawName)
	if err != nil {
		return nil, err
	}
	if s.Passkeys == nil {
		return nil, errPasskeysOff
	}
	state, err := s.Store.TakeCeremony(ctx, sess.ID, ceremonyRegister, s.Now())
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, errPasskeyCeremony
	}
	if err != nil {
		return nil, fmt.Errorf("auth: finish passkey: %w", err)
	}
	wu, err := s.webauthnUser(ctx, u)
	if err != nil {
		return nil, err
	}
	cred, err := s.Passkeys.FinishRegistration(wu, state, answer)
	if err != nil {
		s.Log.InfoContext(ctx, "passkey refused", "user_id", u.ID, "err", err)
		return nil, errPasskeyCeremony
	}
	blob, err := json.Marshal(cred)
	if err != nil {
		return nil, fmt.Errorf("auth: finish passkey: %w", err)
	}
	p := &gardien.Passkey{UserID: u.ID, Name: name, CredentialID: cred.ID, Credential: blob, CreatedAt: s.Now().UTC().Truncate(time.Second)}
	codes, hashes := s.newRecoveryCodes()
	on := s.newEvent(gardien.EventTwoFactorEnabled, u.ID, u.ID, c, gardien.EventData{"method": "passkey"})
	turnedOn, err := s.Store.AddPasskey(ctx, p, hashes, s.newEvent(gardien.EventPasskeyAdded, u.ID, u.ID, c, gardien.EventData{"name": name}), on)
	if err != nil {
		if errors.Is(err, gardien.ErrDuplicate) {
			return nil, errPasskeyTaken
		}
		return nil, fmt.Errorf("auth: finish passkey: %w", err)
	}
	out := &KeyAdded{Passkey: p}
	if turnedOn || sess.Level == gardien.LevelSetup {
		// 2FA turned on, or the key an organization asked for at the
		// set-up: a change of privilege, the session let in.
		if out.Token, err = s.Rotate(ctx, sess, gardien.LevelFull); err != nil {
			return nil, err
		}
		// Making the key proved it (user verification or presence): a
		// second factor passed, as the set-up's code is.
		if err := s.Store.SetSessionAMR(ctx, sess.ID, "pwd "+webauthn.Method(cred)+" mfa"); err != nil {
			return nil, fmt.Errorf("auth: finish passkey: %w", err)
		}
		if turnedOn {
			out.RecoveryCodes = codes
		}
	}
	s.send(ctx, mail.Letter{Kind: "passkey_added", To: u.Email, Name: u.Name, Lang: s.langOf(u, ""), Link: s.Links.TwoFactorSettings(), Args: []any{name}})
	return out, nil
}

// PasskeysOf lists a person's keys.
func (s *Service) PasskeysOf(ctx context.Context, u *gardien.User) ([]gardien.Passkey, error) {
	keys, err := s.Store.Passkeys(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("auth: passkeys: %w", err)
	}
	return keys, nil
}

// RenamePasskey renames one of u's keys; audited.
func (s *Service) RenamePasskey(ctx context.Context, u *gardien.User, id int64, rawName string, c gardien.Client) error {
	name, err := cleanPasskeyName(rawName)
	if err != nil {
		return err
	}
	e := s.newEvent(gardien.EventPasskeyRenamed, u.ID, u.ID, c, gardien.EventData{"name": name})
	return s.passkeyResult(s.Store.RenamePasskey(ctx, u.ID, id, name, e))
}

// RemovePasskey removes one of u's keys after their password; audited and
// mailed. Their last second factor turns 2FA off (their other sessions end,
// this one is rotated: the new token is returned, "" when nothing but the
// key changed) — refused while an organization of theirs requires 2FA.
func (s *Service) RemovePasskey(ctx context.Context, sess *gardien.Session, u *gardien.User, id int64, pw string, c gardien.Client) (string, error) {
	if err := s.checkPassword(ctx, u, pw, "password", c); err != nil {
		return "", err
	}
	org, keysRequired, err := s.requirementOf(ctx, u.ID)
	if err != nil {
		return "", err
	}
	keys, err := s.PasskeysOf(ctx, u)
	if err != nil {
		return "", err
	}
	var name string
	for _, k := range keys {
		if k.ID == id {
			name = k.Name
		}
	}
	e := s.newEvent(gardien.EventPasskeyRemoved, u.ID, u.ID, c, gardien.EventData{"name": name})
	off := s.newEvent(gardien.EventTwoFactorDisabled, u.ID, u.ID, c, gardien.EventData{"method": "passkey"})
	turnedOff, err := s.Store.DeletePasskey(ctx, u.ID, id, sess.ID, org != "", keysRequired, e, off)
	switch {
	case errors.Is(err, gardien.ErrLastFactor):
		return "", requiredBy(org)
	case err != nil:
		return "", s.passkeyResult(err)
	}
	s.send(ctx, mail.Letter{Kind: "passkey_removed", To: u.Email, Name: u.Name, Lang: s.langOf(u, ""), Link: s.Links.TwoFactorSettings(), Args: []any{name}})
	if !turnedOff {
		return "", nil
	}
	return s.secondFactorsGone(ctx, sess, u)
}

// secondFactorsGone rotates the session whose person just turned 2FA off
// (a change of privilege), marks it as without a second factor, and tells
// them by mail.
func (s *Service) secondFactorsGone(ctx context.Context, sess *gardien.Session, u *gardien.User) (string, error) {
	tok, err := s.Rotate(ctx, sess, gardien.LevelFull)
	if err != nil {
		return "", err
	}
	if err := s.Store.SetSessionAMR(ctx, sess.ID, "pwd"); err != nil {
		return "", fmt.Errorf("auth: 2fa off: %w", err)
	}
	s.send(ctx, mail.Letter{Kind: "two_factor_disabled", To: u.Email, Name: u.Name, Lang: s.langOf(u, ""), Link: s.Links.TwoFactorSettings()})
	return tok, nil
}

// requiredBy is the refusal of a change that would leave a person without
// the second factor organization org requires.
func requiredBy(org string) error {
	return &gardien.Error{Code: gardien.CodeTwoFactorRequiredByOrg, Message: "err.two_factor_required_by_organization", Args: []any{org}}
}

func (s *Service) passkeyResult(err error) error {
	if errors.Is(err, gardien.ErrNotFound) {
		return errPasskeyNotFound
	}
	if err != nil {
		return fmt.Errorf("auth: passkey: %w", err)
	}
	return nil
}

func cleanPasskeyName(raw string) (string, error) { return cleanLabel(raw, "name", "err.passkey_name") }

// cleanLabel is a name people give a thing (a key, a token): a name as
// cleanName takes it; else field's error msg.
func cleanLabel(raw, field, msg string) (string, error) {
	name, bad := cleanName(raw)
	if bad != "" {
		return "", gardien.Invalid(field, msg)
	}
	return name, nil
}
