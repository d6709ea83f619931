package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/totp"
)

const (
	// appFreshFor: a code of the app accepted this recently (at this
	// login) shows the app works; nobody is asked for a second one.
	appFreshFor = 15 * time.Minute
	// checkupLater is how long "remind me later" puts the check-up off,
	// and checkupMaxLater how many times it may.
	checkupLater    = 24 * time.Hour
	checkupMaxLater = 2
)

// CheckupState is what the check-up page and API show.
type CheckupState struct {
	Due bool
	// AppWorks: a code of the app was accepted in the last minutes (the
	// login's); otherwise the check-up asks for one.
	AppWorks    bool
	CodesLeft   int
	CanPostpone bool
}

// Checkup says whether the person owes the 2FA check-up (28 days after
// turning 2FA on), and what it needs.
func (s *Service) Checkup(ctx context.Context, u *gardien.User) (*CheckupState, error) {
	if !u.AppEnabled { // a check-up of the app: keys need none
		return &CheckupState{}, nil
	}
	c, err := s.Store.Checkup(ctx, u.ID)
	if errors.Is(err, gardien.ErrNotFound) {
		return &CheckupState{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auth: checkup: %w", err)
	}
	return s.checkupState(c), nil
}

func (s *Service) checkupState(c *gardien.Checkup) *CheckupState {
	now := s.Now()
	lastCode := time.Unix(c.LastStep*totp.Period, 0)
	return &CheckupState{
		Due:         !c.Due.IsZero() && !now.Before(c.Due),
		AppWorks:    c.LastStep > 0 && now.Sub(lastCode) <= appFreshFor,
		CodesLeft:   c.CodesLeft,
		CanPostpone: c.Postponed < checkupMaxLater,
	}
}

// errNoCheckup: nothing is due (done already, or by another answer).
var errNoCheckup = &gardien.Error{Code: gardien.CodeConflict, Message: "err.no_checkup"}

// FinishCheckup records that the person's app gives codes — the code this
// login used, or code (from the app: a recovery code proves nothing about
// it), checked under the second step's limits — and that their recovery
// codes are kept. Nothing more is asked afterwards.
func (s *Service) FinishCheckup(ctx context.Context, u *gardien.User, code string, c gardien.Client) error {
	st, cu, err := s.dueCheckup(ctx, u)
	if err != nil {
		return err
	}
	if !st.AppWorks {
		if err := s.proveSecondFactor(ctx, u, Proof{Code: code}, c); err != nil {
			return err
		}
	}
	err = s.Store.SetCheckup(ctx, u.ID, time.Time{}, cu.Postponed, cu.Postponed, s.newEvent(gardien.EventTwoFactorCheckup, u.ID, u.ID, c, nil))
	if errors.Is(err, gardien.ErrNotFound) {
		return nil // answered at the same moment elsewhere: done all the same
	}
	return err
}

// PostponeCheckup is "remind me later": the check-up comes back at a login
// a day from now, twice at most; it returns when.
func (s *Service) PostponeCheckup(ctx context.Context, u *gardien.User, c gardien.Client) (time.Time, error) {
	st, cu, err := s.dueCheckup(ctx, u)
	if err != nil {
		return time.Time{}, err
	}
	if !st.CanPostpone {
		return time.Time{}, &gardien.Error{Code: gardien.CodeConflict, Message: "err.checkup_no_later"}
	}
	next := s.Now().Add(checkupLater).UTC()
	e := s.newEvent(gardien.EventTwoFactorCheckupLater, u.ID, u.ID, c, gardien.EventData{"until": next.Format(time.RFC3339)})
	if err := s.Store.SetCheckup(ctx, u.ID, next, cu.Postponed, cu.Postponed+1, e); err != nil {
		if errors.Is(err, gardien.ErrNotFound) {
			return time.Time{}, errNoCheckup
		}
		return time.Time{}, err
	}
	return next, nil
}

// dueCheckup reads a check-up that is due, or answers errNoCheckup.
func (s *Service) dueCheckup(ctx context.Context, u *gardien.User) (*CheckupState, *gardien.Checkup, error) {
	if !u.AppEnabled {
		return nil, nil, errNoCheckup
	}
	cu, err := s.Store.Checkup(ctx, u.ID)
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, nil, errNoCheckup
	}
	if err != nil {
		return nil, nil, fmt.Errorf("auth: checkup: %w", err)
	}
	st := s.checkupState(cu)
	if !st.Due {
		return nil, nil, errNoCheckup
	}
	return st, cu, nil
}
