package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/mail"
	"github.com/gardien/gardien/internal/totp"
)

var errNoNextApp = gardien.Errorf(gardien.CodeConflict, "err.no_new_app")

// BeginNewApp starts the move to a new authenticator app (a new phone):
// the password again, and a code from the app in use (or a recovery code,
// when that phone is gone), both under their limits; then a new secret to
// scan, waiting fifteen minutes beside the one in use. It works while an
// organization requires 2FA: 2FA stays on throughout.
func (s *Service) BeginNewApp(ctx context.Context, u *gardien.User, pw, code, recovery string, c gardien.Client) (*totp.Enrollment, error) {
	if !u.AppEnabled {
		return nil, errTwoFactorMissing
	}
	if err := s.checkPassword(ctx, u, pw, "password", c); err != nil {
		return nil, err
	}
	if err := s.proveSecondFactor(ctx, u, Proof{Code: code, Recovery: recovery}, c); err != nil {
		return nil, err
	}
	secret := totp.NewSecret()
	sealed, err := s.Box.Seal(secret, s.sealContext(u.ID))
	if err != nil {
		return nil, fmt.Errorf("auth: new app: %w", err)
	}
	if err := s.Store.SaveNextTOTP(ctx, u.ID, sealed, s.Now().Add(pendingTTL)); err != nil {
		if errors.Is(err, gardien.ErrNotFound) {
			return nil, errTwoFactorMissing
		}
		return nil, fmt.Errorf("auth: new app: %w", err)
	}
	return totp.Enroll(secret, s.Issuer, u.Email)
}

// NextApp shows again the new app's secret awaiting its first code.
func (s *Service) NextApp(ctx context.Context, u *gardien.User) (*totp.Enrollment, error) {
	secret, err := s.nextSecret(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return totp.Enroll(secret, s.Issuer, u.Email)
}

func (s *Service) nextSecret(ctx context.Context, userID int64) ([]byte, error) {
	sealed, err := s.Store.NextTOTP(ctx, userID, s.Now())
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, errNoNextApp
	}
	if err != nil {
		return nil, fmt.Errorf("auth: new app: %w", err)
	}
	secret, err := s.Box.Open(sealed, s.sealContext(userID))
	if err != nil {
		return nil, fmt.Errorf("auth: new app: %w", err)
	}
	return secret, nil
}

// ConfirmNewApp takes a code from the new app: it replaces the old one,
// whose codes stop working at once, and a mail tells the person.
func (s *Service) ConfirmNewApp(ctx context.Context, u *gardien.User, code string, c gardien.Client) error {
	secret, err := s.nextSecret(ctx, u.ID)
	if err != nil {
		return err
	}
	step, ok := totp.Verify(secret, code, s.Now())
	if !ok {
		return &gardien.Error{Code: gardien.CodeInvalidCode, Message: "err.invalid_code",
			Fields: []gardien.FieldError{{Field: "code", Message: "err.invalid_code"}}}
	}
	if err := s.Store.SwapTOTP(ctx, u.ID, step, s.newEvent(gardien.EventTwoFactorNewApp, u.ID, u.ID, c, nil)); err != nil {
		if errors.Is(err, gardien.ErrNotFound) {
			return errNoNextApp
		}
		return fmt.Errorf("auth: new app: %w", err)
	}
	s.send(ctx, mail.Letter{Kind: "two_factor_new_app", To: u.Email, Name: u.Name, Lang: s.langOf(u, ""), Link: s.Links.TwoFactorSettings()})
	return nil
}

// ProofOf reads one field that takes either a code of the app in use or a
// recovery code: digits (with spaces or dashes) are a code, anything else
// a recovery code.
func ProofOf(input string) (code, recovery string) {
	for _, r := range input {
		if !(r >= '0' && r <= '9' || r == ' ' || r == '-') {
			return "", input
		}
	}
	return input, ""
}
