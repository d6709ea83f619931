package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/mail"
)

// DeleteAccount deletes a person's account on their word: the password
// again and the second factor when on (an SSO user's provider vouched
// for them at login). Refused while they are an organization's last owner
// (the error names it). Their sessions end, their personal data goes, the
// audit trail keeps its lines (a deleted account), and a mail confirms it.
func (s *Service) DeleteAccount(ctx context.Context, u *gardien.User, pw string, p Proof, c gardien.Client) error {
	if !u.SSO {
		if err := s.checkPassword(ctx, u, pw, "password", c); err != nil {
			return err
		}
		if u.TwoFactorEnabled {
			if err := s.proveSecondFactor(ctx, u, p, c); err != nil {
				return err
			}
		}
	}
	return s.deleteUser(ctx, u, u.ID, c, nil)
}

// OperatorDeleteUser deletes an account on an operator's word
// (gardien user delete EMAIL).
func (s *Service) OperatorDeleteUser(ctx context.Context, rawEmail, operator string) (*gardien.User, error) {
	u, err := s.personOfEmail(ctx, rawEmail)
	if err != nil {
		return nil, err
	}
	return u, s.deleteUser(ctx, u, 0, gardien.Client{IP: "operator"}, gardien.EventData{"operator": operator})
}

func (s *Service) deleteUser(ctx context.Context, u *gardien.User, actorID int64, c gardien.Client, data gardien.EventData) error {
	// The apps the person signed in to are told first: their sign-ins go
	// with the account. (Should the deletion then be refused — a last
	// owner — they sign in again.)
	if err := s.endAppSignIns(ctx, GrantFilter{UserID: u.ID}); err != nil {
		return err
	}
	err := s.Store.DeleteUser(ctx, u.ID, s.newEvent(gardien.EventAccountDeleted, u.ID, actorID, c, data))
	var lo *gardien.LastOwnerError
	if errors.As(err, &lo) {
		return &gardien.Error{Code: gardien.CodeConflict, Message: "err.delete_last_owner", Args: []any{strings.Join(lo.Organizations, ", ")}}
	}
	if err != nil {
		return fmt.Errorf("auth: delete account: %w", err)
	}
	s.send(ctx, mail.Letter{Kind: "account_deleted", To: u.Email, Name: u.Name, Lang: s.langOf(u, "")})
	return nil
}
