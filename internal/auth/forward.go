package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gardien/gardien"
)

// ForwardStore keeps the passes of browsers to proxy apps (forward-auth).
type ForwardStore interface {
	// CreateForwardSession saves a pass tied to a Gardien session.
	CreateForwardSession(ctx context.Context, tokenHash []byte, sessionID int64, created, expires time.Time) error
	// ForwardSession returns the Gardien session of a pass, and its
	// person; gardien.ErrNotFound when the pass or its session is gone.
	ForwardSession(ctx context.Context, tokenHash []byte, now time.Time) (*gardien.Session, *gardien.User, error)
}

// ForwardVerdict is the answer to a reverse proxy asking whether a
// request may reach a protected host.
type ForwardVerdict int

const (
	// ForwardAllow: in, as Person with Role.
	ForwardAllow ForwardVerdict = iota
	// ForwardLogin: no live pass; the person logs in at Gardien first.
	ForwardLogin
	// ForwardStepUp: logged in, but the host needs more (a second factor,
	// 2FA set up): Gardien's start page takes them through it.
	ForwardStepUp
	// ForwardDeny: this person may not enter this host (Refusal says why).
	ForwardDeny
)

// ForwardAnswer is what CheckForward decides.
type ForwardAnswer struct {
	Verdict ForwardVerdict
	Person  *gardien.User
	Role    gardien.Role
	App     *gardien.App
	Refusal error
}

// ProxyApp returns the proxy app of a host (normalized as registered);
// errAppNotFound when none protects it.
func (s *Service) ProxyApp(ctx context.Context, rawHost string) (*gardien.App, error) {
	host, ok := NormalizeDomain(rawHost)
	if !ok {
		return nil, errAppNotFound
	}
	a, err := s.Store.AppByHost(ctx, host)
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, errAppNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("auth: proxy app: %w", err)
	}
	return a, nil
}

// CheckForward decides whether the browser holding the pass token may
// reach host now: the one decision every app gets (ContinueAppSignIn's),
// on the live Gardien session behind the pass, which ends with it.
func (s *Service) CheckForward(ctx context.Context, token, host string, c gardien.Client) (*ForwardAnswer, error) {
	// Without a live pass: to the login, for a protected host.
	noPass := func() (*ForwardAnswer, error) {
		a, err := s.ProxyApp(ctx, host)
		if err != nil {
			if _, ok := gardien.AsError(err); ok {
				return &ForwardAnswer{Verdict: ForwardDeny, Refusal: err}, nil
			}
			return nil, err
		}
		return &ForwardAnswer{App: a, Verdict: ForwardLogin}, nil
	}
	if token == "" || len(token) > 100 {
		return noPass()
	}
	now := s.Now()
	sess, u, err := s.Store.ForwardSession(ctx, hashToken(token), now)
	if errors.Is(err, gardien.ErrNotFound) {
		return noPass()
	}
	if err != nil {
		return nil, fmt.Errorf("auth: forward session: %w", err)
	}
	if !s.live(sess, u, now) || sess.Level != gardien.LevelFull {
		return noPass()
	}
	if now.Unix()-sess.LastSeenAt.Unix() >= touchEvery {
		if err := s.Store.TouchSession(ctx, sess.ID, now); err != nil {
			s.Log.ErrorContext(ctx, "session not touched", "err", err)
		}
	}
	name, ok := NormalizeDomain(host)
	if !ok {
		return &ForwardAnswer{Verdict: ForwardDeny, Refusal: errAppNotFound}, nil
	}
	a, m, ssoRequired, err := s.Store.ProxyAppOf(ctx, name, u.ID)
	if errors.Is(err, gardien.ErrNotFound) {
		return &ForwardAnswer{Verdict: ForwardDeny, Refusal: errAppNotFound}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auth: proxy app: %w", err)
	}
	ans := &ForwardAnswer{App: a, Person: u}
	step, err := s.decideKnowing(ctx, sess, u, &gardien.Grant{CreatedAt: sess.CreatedAt}, a, &known{m: m, ssoRequired: ssoRequired}, c, false)
	if err != nil {
		if _, ok := gardien.AsError(err); ok {
			ans.Verdict, ans.Refusal = ForwardDeny, err
			return ans, nil
		}
		return nil, err
	}
	ans.Role = step.Role
	switch step.Next {
	case AppNextApp:
		ans.Verdict = ForwardAllow
	case AppNextLogin:
		ans.Verdict = ForwardLogin
	default:
		ans.Verdict = ForwardStepUp
	}
	return ans, nil
}

// StartForward is Gardien's page a browser comes to from a protected host:
// the person logged in (sess), the decision is taken with its effects
// (a session moved back to the code page or the set-up, a refusal
// audited); allowed, it returns a new pass (its token, for the cookie of
// the hosts' domain) that lives as long as the session.
func (s *Service) StartForward(ctx context.Context, sess *gardien.Session, u *gardien.User, host string, c gardien.Client) (*AppStep, string, error) {
	a, err := s.ProxyApp(ctx, host)
	if err != nil {
		return nil, "", err
	}
	step, err := s.decide(ctx, sess, u, &gardien.Grant{CreatedAt: sess.CreatedAt}, a, c, true)
	if err != nil || step.Next != AppNextApp {
		return step, "", err
	}
	token, hash := newToken()
	if err := s.Store.CreateForwardSession(ctx, hash, sess.ID, s.Now(), sess.ExpiresAt); err != nil {
		return nil, "", fmt.Errorf("auth: forward session: %w", err)
	}
	return step, token, nil
}
