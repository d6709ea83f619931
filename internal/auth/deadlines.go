package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/mail"
)

// DeadlineStore is the storage of the 2FA requirement's deadlines and
// their reminders.
type DeadlineStore interface {
	PendingDeadline(ctx context.Context, userID int64, now time.Time) (*gardien.Deadline, error)
	DeadlinesWithin(ctx context.Context, now time.Time, within time.Duration) ([]gardien.Deadline, error)
	UnremindedMembers(ctx context.Context, d gardien.Deadline, days int, after int64, limit int) ([]gardien.Member, error)
	ClaimDeadlineReminder(ctx context.Context, d gardien.Deadline, userID int64, days int, at time.Time) (bool, error)
	MarkReminded(ctx context.Context, orgID int64, at time.Time) error
}

// maxDeadline bounds how far ahead a requirement's deadline may be: a
// requirement is a plan for weeks, not years.
const maxDeadline = 366 * 24 * time.Hour

// reminderDays are the reminders members without 2FA get before a
// deadline, in days, nearest first.
var reminderDays = []int{1, 3, 7}

// checkDeadline refuses a deadline that has passed or is too far.
func (s *Service) checkDeadline(d time.Time) error {
	now := s.Now()
	switch {
	case d.IsZero():
		return nil
	case !d.After(now):
		return gardien.Invalid("deadline", "err.deadline_past")
	case d.After(now.Add(maxDeadline)):
		return gardien.Invalid("deadline", "err.deadline_far")
	}
	return nil
}

// DaysLeft counts the days from now until at, a part of a day counting as
// one: a deadline 30 hours away is "2 days" away, one in 5 minutes "1 day".
func DaysLeft(now, at time.Time) int {
	d := at.Sub(now)
	if d <= 0 {
		return 0
	}
	return int((d + 24*time.Hour - 1) / (24 * time.Hour))
}

// PendingDeadline is the nearest deadline of a requirement the person has
// not met yet (no 2FA, not SSO), for the banner on every page; found is
// false when there is none.
func (s *Service) PendingDeadline(ctx context.Context, u *gardien.User) (d *gardien.Deadline, found bool, err error) {
	if u.HasKeys || u.SSO {
		return nil, false, nil
	}
	d, err = s.Store.PendingDeadline(ctx, u.ID, s.Now())
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("auth: pending deadline: %w", err)
	}
	return d, true, nil
}

// DeadlineAmong is PendingDeadline from the person's memberships already
// read (GET /me reads them anyway): the same answer without a query of its
// own, a tenth of that call's cost on PostgreSQL.
func (s *Service) DeadlineAmong(u *gardien.User, ms []gardien.Membership) *gardien.Deadline {
	if u.HasKeys || u.SSO {
		return nil
	}
	now := s.Now().Unix() // the store compares whole seconds too
	var best *gardien.Deadline
	for _, m := range ms {
		at := m.TwoFactorDeadline
		if !m.RequireTwoFactor || at.IsZero() || at.Unix() <= now || u.TwoFactorEnabled && !m.RequirePhishingResistant {
			continue
		}
		if best == nil || at.Before(best.At) || at.Equal(best.At) && m.ID < best.OrgID {
			best = &gardien.Deadline{OrgID: m.ID, OrgName: m.Name, At: at}
		}
	}
	return best
}

// SendDeadlineReminders mails the members without 2FA of organizations
// whose deadline is 7, 3 and 1 days away, each reminder once per member
// (claimed in the database, so two nodes or two sweeps send it once), in
// the member's language. A deadline set 2 days ahead sends the 3-day
// reminder only. It returns how many mails it queued.
func (s *Service) SendDeadlineReminders(ctx context.Context) (int, error) {
	now := s.Now()
	deadlines, err := s.Store.DeadlinesWithin(ctx, now, time.Duration(reminderDays[len(reminderDays)-1])*24*time.Hour)
	if err != nil {
		return 0, fmt.Errorf("auth: deadline reminders: %w", err)
	}
	sent := 0
	for _, d := range deadlines {
		left := DaysLeft(now, d.At)
		days := 0
		for _, r := range reminderDays {
			if left <= r {
				days = r
				break
			}
		}
		if days == 0 {
			continue
		}
		for after := int64(0); ; {
			list, err := s.Store.UnremindedMembers(ctx, d, days, after, 500)
			if err != nil {
				return sent, fmt.Errorf("auth: deadline reminders: %w", err)
			}
			for _, m := range list {
				after = m.UserID
				claimed, err := s.Store.ClaimDeadlineReminder(ctx, d, m.UserID, days, now)
				if err != nil {
					return sent, fmt.Errorf("auth: deadline reminders: %w", err)
				}
				if !claimed {
					continue // another node sent it
				}
				s.send(ctx, mail.Letter{Kind: reminderKind("two_factor_deadline", m), To: m.Email, Name: m.Name,
					Lang: s.langOf(&gardien.User{Locale: m.Locale}, ""), Link: s.Links.TwoFactorSettings(),
					Args: []any{d.OrgName, left, d.At}})
				sent++
			}
			if len(list) < 500 {
				break
			}
		}
	}
	return sent, nil
}

// reminderKind is the mail a member held by a requirement gets: to set 2FA
// up, or — their app on, where a passkey or security key is asked for — to
// add a key.
func reminderKind(kind string, m gardien.Member) string {
	if m.TwoFactorEnabled {
		return kind + "_key"
	}
	return kind
}
