package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/mail"
	"github.com/gardien/gardien/internal/totp"
)

// TwoFactorStore is the storage of a person's second factor outside a
// proof of it (SecondFactorStore): set-up, recovery codes, a new app, the
// check-up.
type TwoFactorStore interface {
	SavePendingTOTP(ctx context.Context, userID int64, sealed []byte, expires, at time.Time) error
	PendingTOTP(ctx context.Context, userID int64, now time.Time) ([]byte, error)
	ActivateTOTP(ctx context.Context, userID, step int64, codeHashes [][]byte, e *gardien.Event) error
	ReplaceRecoveryCodes(ctx context.Context, userID int64, codeHashes [][]byte, e *gardien.Event) error
	TwoFactorStatus(ctx context.Context, userID int64) (time.Time, int, error)
	// DisableSecondFactors turns 2FA off (app, keys, recovery codes) and
	// ends the person's sessions but keep; gardien.ErrNotFound when it
	// was off.
	DisableSecondFactors(ctx context.Context, userID, keep int64, e *gardien.Event) error
	SaveNextTOTP(ctx context.Context, userID int64, sealed []byte, expires time.Time) error
	NextTOTP(ctx context.Context, userID int64, now time.Time) ([]byte, error)
	SwapTOTP(ctx context.Context, userID, step int64, e *gardien.Event) error
	Checkup(ctx context.Context, userID int64) (*gardien.Checkup, error)
	SetCheckup(ctx context.Context, userID int64, due time.Time, wasPostponed, postponed int, e *gardien.Event) error
	ClearSecondFactorLock(ctx context.Context, userID int64, e *gardien.Event) error
}

// The second-factor rules.
const (
	// pendingTTL is how long a secret shown for set-up waits for its first code.
	pendingTTL = 15 * time.Minute
	// RecoveryCodeCount codes are made at activation; each works once.
	RecoveryCodeCount = 10
)

func (s *Service) sealContext(userID int64) []byte {
	return []byte("totp:" + strconv.FormatInt(userID, 10))
}

// BeginTwoFactor makes a new secret for u to scan, pending until a code
// from it activates it (within 15 minutes). Only for a validated email, not
// for SSO users, not when an app is on already (a person with keys may add
// one).
func (s *Service) BeginTwoFactor(ctx context.Context, u *gardien.User) (*totp.Enrollment, error) {
	switch {
	case u.SSO:
		return nil, errSSOUser
	case !u.EmailVerified:
		return nil, errNotVerified
	case u.AppEnabled:
		return nil, errAlreadyEnabled
	}
	secret := totp.NewSecret()
	sealed, err := s.Box.Seal(secret, s.sealContext(u.ID))
	if err != nil {
		return nil, fmt.Errorf("auth: begin 2fa: %w", err)
	}
	now := s.Now()
	if err := s.Store.SavePendingTOTP(ctx, u.ID, sealed, now.Add(pendingTTL), now); err != nil {
		if errors.Is(err, gardien.ErrDuplicate) {
			return nil, errAlreadyEnabled
		}
		return nil, fmt.Errorf("auth: begin 2fa: %w", err)
	}
	return totp.Enroll(secret, s.Issuer, u.Email)
}

// PendingTwoFactor shows again the secret awaiting activation (a page
// reloaded); errNoPending when there is none or it expired.
func (s *Service) PendingTwoFactor(ctx context.Context, u *gardien.User) (*totp.Enrollment, error) {
	secret, err := s.pendingSecret(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return totp.Enroll(secret, s.Issuer, u.Email)
}

func (s *Service) pendingSecret(ctx context.Context, userID int64) ([]byte, error) {
	sealed, err := s.Store.PendingTOTP(ctx, userID, s.Now())
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, errNoPending
	}
	if err != nil {
		return nil, fmt.Errorf("auth: pending 2fa: %w", err)
	}
	secret, err := s.Box.Open(sealed, s.sealContext(userID))
	if err != nil {
		return nil, fmt.Errorf("auth: pending 2fa: %w", err)
	}
	return secret, nil
}

// Activated is what a person gets when an app turns on.
type Activated struct {
	// RecoveryCodes are shown once, never stored in clear; none when the
	// person's keys had turned 2FA on already (their codes stay).
	RecoveryCodes []string
	Token         string // the session's new token
}

// ActivateTwoFactor turns 2FA on with a right code from the pending secret,
// and returns the recovery codes. The session is rotated: its privilege changed.
func (s *Service) ActivateTwoFactor(ctx context.Context, sess *gardien.Session, u *gardien.User, code string, c gardien.Client) (*Activated, error) {
	if u.AppEnabled {
		return nil, errAlreadyEnabled
	}
	secret, err := s.pendingSecret(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	step, ok := totp.Verify(secret, code, s.Now())
	if !ok {
		return nil, errInvalidCode
	}
	var codes []string
	var hashes [][]byte
	if !u.TwoFactorEnabled {
		codes, hashes = s.newRecoveryCodes()
	}
	if err := s.Store.ActivateTOTP(ctx, u.ID, step, hashes, s.newEvent(gardien.EventTwoFactorEnabled, u.ID, u.ID, c, gardien.EventData{"method": "app"})); err != nil {
		if errors.Is(err, gardien.ErrNotFound) {
			return nil, errNoPending
		}
		return nil, fmt.Errorf("auth: activate 2fa: %w", err)
	}
	tok, err := s.Rotate(ctx, sess, gardien.LevelFull)
	if err != nil {
		return nil, err
	}
	// The set-up's code is a second factor passed: an app that needs one
	// takes this session.
	if err := s.Store.SetSessionAMR(ctx, sess.ID, "pwd otp mfa"); err != nil {
		return nil, fmt.Errorf("auth: activate 2fa: %w", err)
	}
	s.send(ctx, mail.Letter{Kind: "two_factor_enabled", To: u.Email, Name: u.Name, Lang: s.langOf(u, ""), Link: s.Links.TwoFactorSettings()})
	return &Activated{RecoveryCodes: codes, Token: tok}, nil
}

// Recovery codes: 12 letters and digits without look-alikes (about 59
// bits), shown as xxxx-xxxx-xxxx. Stored as an HMAC under a server key, so a
// copy of the database alone does not let anyone try them offline.
const recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

func (s *Service) newRecoveryCodes() ([]string, [][]byte) {
	codes := make([]string, RecoveryCodeCount)
	hashes := make([][]byte, RecoveryCodeCount)
	for i := range codes {
		b := make([]byte, 12)
		rand.Read(b)
		var sb strings.Builder
		for j, x := range b {
			if j > 0 && j%4 == 0 {
				sb.WriteByte('-')
			}
			// 256 % 31 skews a few letters by under 0.4%: harmless here.
			sb.WriteByte(recoveryAlphabet[int(x)%len(recoveryAlphabet)])
		}
		codes[i] = sb.String()
		hashes[i] = s.recoveryHash(codes[i])
	}
	return codes, hashes
}

func (s *Service) recoveryHash(code string) []byte {
	norm := strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(code)))
	m := hmac.New(sha256.New, s.RecoveryKey)
	m.Write([]byte(norm))
	return m.Sum(nil)
}

// TwoFactorStatus tells whether 2FA is on, with what, and how many
// recovery codes remain.
type TwoFactorStatus struct {
	Enabled bool
	// App: an authenticator app is on, since Since.
	App   bool
	Since time.Time
	// Keys are the person's passkeys and security keys, the oldest first.
	Keys              []gardien.Passkey
	RecoveryCodesLeft int
	// KeysOffered: keys can be added here (Gardien at a domain name; not
	// for SSO people, and after the email is validated).
	KeysOffered bool
}

// TwoFactor returns a person's 2FA status.
func (s *Service) TwoFactor(ctx context.Context, u *gardien.User) (*TwoFactorStatus, error) {
	since, left, err := s.Store.TwoFactorStatus(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("auth: 2fa status: %w", err)
	}
	keys, err := s.PasskeysOf(ctx, u)
	if err != nil {
		return nil, err
	}
	st := &TwoFactorStatus{Enabled: !since.IsZero() || len(keys) > 0, App: !since.IsZero(), Since: since, Keys: keys,
		KeysOffered: s.KeysOffered(u)}
	if st.Enabled {
		st.RecoveryCodesLeft = left
	}
	return st, nil
}

// DisableTwoFactor turns 2FA off after the password is typed again: the
// app's secret, the keys and the recovery codes are deleted, the person's
// other sessions end, and they are told by mail. Returns the session's new
// token.
func (s *Service) DisableTwoFactor(ctx context.Context, sess *gardien.Session, u *gardien.User, pw string, c gardien.Client) (string, error) {
	if !u.TwoFactorEnabled {
		return "", errTwoFactorMissing
	}
	if org, err := s.RequiringOrganization(ctx, u.ID); err != nil {
		return "", err
	} else if org != "" {
		return "", requiredBy(org)
	}
	if err := s.checkPassword(ctx, u, pw, "password", c); err != nil {
		return "", err
	}
	if err := s.Store.DisableSecondFactors(ctx, u.ID, sess.ID, s.newEvent(gardien.EventTwoFactorDisabled, u.ID, u.ID, c, nil)); err != nil {
		if errors.Is(err, gardien.ErrNotFound) {
			return "", errTwoFactorMissing
		}
		return "", fmt.Errorf("auth: disable 2fa: %w", err)
	}
	return s.secondFactorsGone(ctx, sess, u)
}

// RegenerateRecoveryCodes replaces the recovery codes, after the password.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, u *gardien.User, pw string, c gardien.Client) ([]string, error) {
	if !u.TwoFactorEnabled {
		return nil, errTwoFactorMissing
	}
	if err := s.checkPassword(ctx, u, pw, "password", c); err != nil {
		return nil, err
	}
	codes, hashes := s.newRecoveryCodes()
	if err := s.Store.ReplaceRecoveryCodes(ctx, u.ID, hashes, s.newEvent(gardien.EventRecoveryCodesRegenerated, u.ID, u.ID, c, nil)); err != nil {
		return nil, fmt.Errorf("auth: recovery codes: %w", err)
	}
	// Like every change to 2FA, the person is told: new codes void the old.
	s.send(ctx, mail.Letter{Kind: "recovery_codes_new", To: u.Email, Name: u.Name, Lang: s.langOf(u, ""), Link: s.Links.TwoFactorSettings()})
	return codes, nil
}

// ResetTwoFactor removes a person's 2FA on an operator's word (lost phone,
// no codes left): every session ends, the person is told by mail, and the
// trail says who did it.
func (s *Service) ResetTwoFactor(ctx context.Context, rawEmail, operator string) (*gardien.User, error) {
	u, err := s.personOfEmail(ctx, rawEmail)
	if err != nil {
		return nil, err
	}
	e := s.newEvent(gardien.EventTwoFactorReset, u.ID, 0, gardien.Client{IP: "operator"}, gardien.EventData{"operator": operator})
	if err := s.Store.DisableSecondFactors(ctx, u.ID, 0, e); err != nil {
		if errors.Is(err, gardien.ErrNotFound) {
			return nil, errTwoFactorMissing
		}
		return nil, fmt.Errorf("auth: reset 2fa: %w", err)
	}
	s.send(ctx, mail.Letter{Kind: "two_factor_reset", To: u.Email, Name: u.Name, Lang: s.langOf(u, ""), Link: s.Links.Login()})
	u.TwoFactorEnabled, u.AppEnabled, u.HasKeys = false, false, false
	return u, nil
}
