package auth

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/gardien/gardien"
)

// The operator's commands (gardien user …, gardien throttle clear): each
// names the operator in the audit trail.

// OperatorSetDisabled disables an account — its sessions end, and it
// cannot log in, by password or SSO, until enabled — or enables it again.
func (s *Service) OperatorSetDisabled(ctx context.Context, rawEmail, operator string, disabled bool) (*gardien.User, error) {
	u, err := s.personOfEmail(ctx, rawEmail)
	if err != nil {
		return nil, err
	}
	typ := gardien.EventAccountEnabled
	if disabled {
		typ = gardien.EventAccountDisabled
	}
	e := s.newEvent(typ, u.ID, 0, gardien.Client{IP: "operator"}, gardien.EventData{"operator": operator})
	if err := s.Store.SetDisabled(ctx, u.ID, disabled, e); err != nil {
		return nil, fmt.Errorf("auth: disable: %w", err)
	}
	u.Disabled = disabled
	return u, nil
}

// OperatorEndSessions ends every session of a person (a lost laptop, a
// doubt); it returns how many ended.
func (s *Service) OperatorEndSessions(ctx context.Context, rawEmail, operator string) (*gardien.User, int64, error) {
	u, err := s.personOfEmail(ctx, rawEmail)
	if err != nil {
		return nil, 0, err
	}
	e := s.newEvent(gardien.EventSessionEnded, u.ID, 0, gardien.Client{IP: "operator"}, gardien.EventData{"sessions": "all", "operator": operator})
	n, err := s.Store.EndAllSessions(ctx, u.ID, e)
	return u, n, err
}

// OperatorClearThrottle lifts a person's second-factor lock and forgets
// their wrong codes; with ip, it also forgets the wrong passwords counted
// for that person from that address, and from that address at all (a
// whole office behind one address locked out by one person's typos).
func (s *Service) OperatorClearThrottle(ctx context.Context, rawEmail, ip, operator string) (*gardien.User, error) {
	u, err := s.personOfEmail(ctx, rawEmail)
	if err != nil {
		return nil, err
	}
	data := gardien.EventData{"operator": operator}
	if ip != "" {
		if _, err := netip.ParseAddr(ip); err != nil {
			return nil, gardien.Invalid("ip", "err.ip_invalid")
		}
		_, key, _ := NormalizeEmail(u.Email)
		bucket := addressBucket(ip)
		for _, k := range [][]byte{throttleKey("account", key, bucket), throttleKey("address", bucket)} {
			if err := s.Store.ClearTries(ctx, k); err != nil {
				return nil, fmt.Errorf("auth: clear throttle: %w", err)
			}
		}
		data["text"] = bucket
	}
	e := s.newEvent(gardien.EventThrottleCleared, u.ID, 0, gardien.Client{IP: "operator"}, data)
	if err := s.Store.ClearSecondFactorLock(ctx, u.ID, e); err != nil {
		return nil, fmt.Errorf("auth: clear throttle: %w", err)
	}
	return u, nil
}
