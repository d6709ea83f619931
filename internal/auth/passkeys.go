package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/webauthn"
)

// PasskeyStore keeps people's passkeys and the WebAuthn ceremonies under way.
type PasskeyStore interface {
	// Passkeys lists a person's keys, the oldest first.
	Passkeys(ctx context.Context, userID int64) ([]gardien.Passkey, error)
	// AddPasskey saves a key and e; gardien.ErrDuplicate when registered already.
	AddPasskey(ctx context.Context, p *gardien.Passkey, e *gardien.Event) error
	// RenamePasskey and DeletePasskey change one of a person's keys, and
	// save e; gardien.ErrNotFound when they have none such.
	RenamePasskey(ctx context.Context, userID, id int64, name string, e *gardien.Event) error
	DeletePasskey(ctx context.Context, userID, id int64, e *gardien.Event) error
	// SaveCeremony keeps a session's ceremony of a kind (replacing the last).
	SaveCeremony(ctx context.Context, sessionID int64, kind string, state []byte, expires time.Time) error
	// TakeCeremony returns a session's live ceremony of a kind, and ends
	// it; gardien.ErrNotFound when none lives.
	TakeCeremony(ctx context.Context, sessionID int64, kind string, now time.Time) ([]byte, error)
}

// CeremonyLifetime: a key is to answer within it.
const CeremonyLifetime = 5 * time.Minute

var (
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
// full session): the options for the browser. Not for SSO people (their
// provider owns their factors), and only with a validated email.
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
	if err := s.Store.SaveCeremony(ctx, sess.ID, "register", state, s.Now().Add(CeremonyLifetime)); err != nil {
		return nil, fmt.Errorf("auth: begin passkey: %w", err)
	}
	return options, nil
}

// FinishPasskey adds the key a browser made for BeginPasskey's options, in
// the same session and within CeremonyLifetime, once; audited.
func (s *Service) FinishPasskey(ctx context.Context, sess *gardien.Session, u *gardien.User, rawName string, answer []byte, c gardien.Client) (*gardien.Passkey, error) {
	name, err := cleanPasskeyName(rawName)
	if err != nil {
		return nil, err
	}
	if s.Passkeys == nil {
		return nil, errPasskeysOff
	}
	state, err := s.Store.TakeCeremony(ctx, sess.ID, "register", s.Now())
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
	e := s.newEvent(gardien.EventPasskeyAdded, u.ID, u.ID, c, gardien.EventData{"name": name})
	if err := s.Store.AddPasskey(ctx, p, e); err != nil {
		if errors.Is(err, gardien.ErrDuplicate) {
			return nil, errPasskeyTaken
		}
		return nil, fmt.Errorf("auth: finish passkey: %w", err)
	}
	return p, nil
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

// RemovePasskey removes one of u's keys, after their password; audited.
func (s *Service) RemovePasskey(ctx context.Context, u *gardien.User, id int64, pw string, c gardien.Client) error {
	if err := s.checkPassword(ctx, u, pw, "password", c); err != nil {
		return err
	}
	e := s.newEvent(gardien.EventPasskeyRemoved, u.ID, u.ID, c, gardien.EventData{"text": strconv.FormatInt(id, 10)})
	return s.passkeyResult(s.Store.DeletePasskey(ctx, u.ID, id, e))
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

func cleanPasskeyName(raw string) (string, error) {
	name := strings.Join(strings.FieldsFunc(raw, unicode.IsSpace), " ")
	if name == "" || !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) || utf8.RuneCountInString(name) > 100 {
		return "", gardien.Invalid("name", "err.passkey_name")
	}
	return name, nil
}
