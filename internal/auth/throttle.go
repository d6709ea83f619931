package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/password"
)

// ThrottleStore counts tries per key (an address, an account, a domain)
// across nodes.
type ThrottleStore interface {
	ReserveTry(ctx context.Context, key []byte, max int, window time.Duration, now time.Time) (bool, time.Time, error)
	TriesLeft(ctx context.Context, key []byte, max int, window time.Duration, now time.Time) (bool, time.Time, error)
	ReleaseTry(ctx context.Context, key []byte) error
	ClearTries(ctx context.Context, key []byte) error
}

// PasswordLimits bound password guessing, on every form that checks a
// password (login, and the re-authentication before a password change,
// disabling 2FA or new recovery codes). They are counted in the database
// before any hash is computed, so they hold across concurrent requests and
// nodes. The account alone is never locked: that would let anyone lock
// anyone out.
type PasswordLimits struct {
	// PerAccount wrong passwords for one account from one address (an IPv6
	// client's /64) within Window answer rate_limited until it ends.
	PerAccount int
	// PerAddress wrong passwords from one address, across accounts.
	PerAddress int
	Window     time.Duration
}

// maxTryWindow is the longest window of the fixed limits (mails): counts
// older than it are swept.
const maxTryWindow = 24 * time.Hour

// DefaultPasswordLimits: 10 per account and address, 100 per address, in 15 minutes.
var DefaultPasswordLimits = PasswordLimits{PerAccount: 10, PerAddress: 100, Window: 15 * time.Minute}

// throttleKey is what a count is kept under: a digest, so no email or
// address is stored in clear.
func throttleKey(parts ...string) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum(nil)
}

// addressBucket is the unit an address is counted in: an IPv4 address, or
// an IPv6 client's /64 (one customer's network is given a /64 at least, so
// counting single IPv6 addresses would let one machine rotate through 2^64).
func addressBucket(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// passwordTry is a try counted before its password is checked.
type passwordTry struct{ account, address []byte }

func newPasswordTry(emailKey string, c gardien.Client) passwordTry {
	bucket := addressBucket(c.IP)
	return passwordTry{account: throttleKey("account", emailKey, bucket), address: throttleKey("address", bucket)}
}

// passwordTriesLeft refuses, without counting, a try whose limits are
// already reached (rate_limited), before it waits for a hashing slot.
func (s *Service) passwordTriesLeft(ctx context.Context, t passwordTry) error {
	lim, now := s.PasswordLimits, s.Now()
	for _, c := range []struct {
		key []byte
		max int
	}{{t.address, lim.PerAddress}, {t.account, lim.PerAccount}} {
		ok, until, err := s.Store.TriesLeft(ctx, c.key, c.max, lim.Window, now)
		if err != nil {
			return fmt.Errorf("auth: password try: %w", err)
		}
		if !ok {
			return &gardien.Error{Code: gardien.CodeRateLimited, Message: "err.rate_limited", RetryAfter: until.Sub(now)}
		}
	}
	return nil
}

// reservePasswordTry counts a try for the account (emailKey, "" for an
// unknown or malformed email: counted all the same) from the client's
// address, or refuses it with rate_limited when a limit is reached.
func (s *Service) reservePasswordTry(ctx context.Context, t passwordTry) error {
	lim, now := s.PasswordLimits, s.Now()
	ok, until, err := s.Store.ReserveTry(ctx, t.address, lim.PerAddress, lim.Window, now)
	if err != nil {
		return fmt.Errorf("auth: password try: %w", err)
	}
	if ok {
		ok, until, err = s.Store.ReserveTry(ctx, t.account, lim.PerAccount, lim.Window, now)
		if err != nil || !ok {
			s.giveBack(ctx, t.address)
		}
		if err != nil {
			return fmt.Errorf("auth: password try: %w", err)
		}
	}
	if !ok {
		return &gardien.Error{Code: gardien.CodeRateLimited, Message: "err.rate_limited", RetryAfter: until.Sub(now)}
	}
	return nil
}

func (s *Service) giveBack(ctx context.Context, key []byte) {
	if err := s.Store.ReleaseTry(ctx, key); err != nil {
		s.Log.ErrorContext(ctx, "a counted try not given back", "err", err)
	}
}

// passed gives back the try of a right password: the address's count loses
// it, and the account's count (for this address) starts again.
func (s *Service) passed(ctx context.Context, t passwordTry) {
	s.giveBack(ctx, t.address)
	if err := s.Store.ClearTries(ctx, t.account); err != nil {
		s.Log.ErrorContext(ctx, "password tries not cleared", "err", err)
	}
}

// verifyPassword checks pw against hash under the limits. A try already
// over a limit is refused at once; otherwise it is counted once it holds a
// hashing slot, just before its hash, and given back when the password is
// right. So concurrent wrong passwords are bounded per account and per
// address whatever their number (each is counted before its hash), while
// right ones waiting for a slot count nothing: an office logging in at once
// from one address is not refused for its own burst. It returns
// password.ErrMismatch for a wrong password.
func (s *Service) verifyPassword(ctx context.Context, emailKey, hash, pw string, c gardien.Client) error {
	t := newPasswordTry(emailKey, c)
	if err := s.passwordTriesLeft(ctx, t); err != nil {
		return err
	}
	if err := s.Hasher.VerifyCounted(ctx, hash, pw, func() error { return s.reservePasswordTry(ctx, t) }); err != nil {
		if errors.Is(err, password.ErrMismatch) {
			return err
		}
		if _, ok := gardien.AsError(err); ok {
			return err // rate_limited
		}
		return fmt.Errorf("auth: password: %w", err)
	}
	s.passed(ctx, t)
	return nil
}

// checkPassword is the re-authentication before a sensitive change: the
// person's password again, under the same limits as a login. A wrong one
// is a validation error on field.
func (s *Service) checkPassword(ctx context.Context, u *gardien.User, pw, field string, c gardien.Client) error {
	if u.SSO {
		return errSSONoPassword // their identity provider keeps their password
	}
	hash, err := s.Store.PasswordHash(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("auth: password: %w", err)
	}
	_, key, _ := NormalizeEmail(u.Email)
	if err := s.verifyPassword(ctx, key, hash, pw, c); err != nil {
		if errors.Is(err, password.ErrMismatch) {
			return gardien.Invalid(field, "err.current_password_wrong")
		}
		return err
	}
	return nil
}

// countLimit bounds what requests can make Gardien do, per someone: the
// mails of one kind, per recipient or per sender (without it anyone could
// flood a mailbox through the reset form, or use Gardien to spam), or the
// SSO logins started, per address and per domain. (Counts are kept under
// "mail" for all: the name they had when only mails were counted.)
type countLimit struct {
	name   string
	max    int
	window time.Duration
}

var (
	resetMails             = countLimit{"reset", 3, time.Hour}                // per account
	verifyMails            = countLimit{"verify", 5, time.Hour}               // resends, per account
	inviteMailsBySender    = countLimit{"invite-sender", 200, 24 * time.Hour} // per inviting account
	inviteMailsByRecipient = countLimit{"invite-to", 3, 24 * time.Hour}       // per invited address
	reminderMails          = countLimit{"reminder", 1, time.Hour}             // per organization
)

// allowMail counts a mail of kind l for who; false when the limit is
// reached (the mail is not to be sent).
func (s *Service) allowMail(ctx context.Context, l countLimit, who string) (bool, error) {
	ok, _, err := s.Store.ReserveTry(ctx, throttleKey("mail", l.name, who), l.max, l.window, s.Now())
	if err != nil {
		return false, fmt.Errorf("auth: mail limit: %w", err)
	}
	return ok, nil
}

// mailAllowed is allowMail for a request that may say so: rate_limited.
// mailNotSent gives back a try mailAllowed counted for a mail that was not
// sent after all (an invitation refused: a member, or invited already).
func (s *Service) mailNotSent(ctx context.Context, l countLimit, who string) { s.notUsed(ctx, l, who) }

// notUsed gives back one of l counted for who, for what was not done.
func (s *Service) notUsed(ctx context.Context, l countLimit, who string) {
	s.giveBack(ctx, throttleKey("mail", l.name, who))
}

func (s *Service) mailAllowed(ctx context.Context, l countLimit, who string) error {
	return s.limitAllowed(ctx, l, who)
}

// limitAllowed counts one of l for who, or refuses it with rate_limited.
func (s *Service) limitAllowed(ctx context.Context, l countLimit, who string) error {
	now := s.Now()
	ok, until, err := s.Store.ReserveTry(ctx, throttleKey("mail", l.name, who), l.max, l.window, now)
	if err != nil {
		return fmt.Errorf("auth: mail limit: %w", err)
	}
	if !ok {
		return &gardien.Error{Code: gardien.CodeRateLimited, Message: "err.rate_limited", RetryAfter: until.Sub(now)}
	}
	return nil
}
