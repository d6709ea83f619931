package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/mail"
)

// emailChangeTTL is how long the link to a new address works.
const emailChangeTTL = 24 * time.Hour

// RequestEmailChange starts a change of email: the password again (and
// the second factor, when on), then a link mailed to the new address; the
// address changes only when it is followed (ConfirmEmailChange). A new
// address that is another account's, or in a domain whose organization
// requires SSO, is refused, without saying whose.
func (s *Service) RequestEmailChange(ctx context.Context, u *gardien.User, rawEmail, pw string, p Proof, c gardien.Client) (string, error) {
	if u.SSO {
		return "", errSSONoPassword // their provider owns their address too
	}
	email, key, ok := NormalizeEmail(rawEmail)
	if !ok {
		return "", gardien.Invalid("email", "err.email_invalid")
	}
	if _, current, _ := NormalizeEmail(u.Email); current == key {
		return "", gardien.Invalid("email", "err.email_same")
	}
	if err := s.checkPassword(ctx, u, pw, "password", c); err != nil {
		return "", err
	}
	if u.TwoFactorEnabled {
		if err := s.proveSecondFactor(ctx, u, p, c); err != nil {
			return "", err
		}
	}
	if _, _, err := s.Store.UserByEmail(ctx, key); err == nil {
		return "", gardien.Invalid("email", "err.email_unavailable")
	} else if !errors.Is(err, gardien.ErrNotFound) {
		return "", fmt.Errorf("auth: email change: %w", err)
	}
	if conn, found, err := s.domainSSO(ctx, key); err != nil {
		return "", err
	} else if found && conn.RequireSSO {
		return "", gardien.Invalid("email", "err.email_sso_domain")
	}
	if err := s.mailAllowed(ctx, verifyMails, fmt.Sprint(u.ID)); err != nil {
		return "", err
	}
	tok, hash := newToken()
	now := s.Now()
	if err := s.Store.CreateEmailChange(ctx, hash, u.ID, email, key, now.Add(emailChangeTTL), now); err != nil {
		return "", fmt.Errorf("auth: email change: %w", err)
	}
	s.send(ctx, mail.Letter{Kind: "email_change", To: email, Name: u.Name, Lang: s.langOf(u, ""), Link: s.Links.ConfirmEmail(tok), Expires: now.Add(emailChangeTTL)})
	return email, nil
}

// ConfirmEmailChange follows the link of a change of email: the address
// changes (validated: the link came to it), and a mail to the old address
// says so and how to get help.
func (s *Service) ConfirmEmailChange(ctx context.Context, token string, c gardien.Client) (*gardien.User, error) {
	if token == "" || len(token) > 100 {
		return nil, errTokenInvalid
	}
	before, email, err := s.Store.ChangeEmail(ctx, hashToken(token), s.Now(), s.newEvent(gardien.EventEmailChanged, 0, 0, c, nil))
	switch {
	case errors.Is(err, gardien.ErrNotFound):
		return nil, errTokenInvalid
	case errors.Is(err, gardien.ErrDuplicate):
		return nil, gardien.Invalid("email", "err.email_unavailable")
	case err != nil:
		return nil, fmt.Errorf("auth: email change: %w", err)
	}
	s.send(ctx, mail.Letter{Kind: "email_changed", To: before.Email, Name: before.Name, Lang: s.langOf(before, ""),
		Link: s.Links.ForgotPassword(), Args: []any{email}})
	return s.Store.UserByID(ctx, before.ID)
}
