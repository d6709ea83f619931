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

// The second-factor rules.
const (
	// pendingTTL is how long a secret shown for set-up waits for its first code.
	pendingTTL = 15 * time.Minute
	// RecoveryCodeCount codes are made at activation; each works once.
	RecoveryCodeCount = 10
)

// tryLimits bound guessing: 5 wrong codes in a row lock the second step
// (one minute, doubling with each lock in a row, at most a day); 10 in a
// day, whatever right codes came between, lock it until the day is over.
// docs/security.md works out what this leaves an attacker who knows the
// password: under 0.1% in 30 days.
var tryLimits = gardien.TryLimits{Consecutive: 5, Daily: 10, Day: 24 * time.Hour, LockFor: lockFor}

// lockFor is the lockout after the level-th lock in a row: one minute,
// doubling each time, at most a day.
func lockFor(level int) time.Duration {
	if level > 10 {
		return 24 * time.Hour
	}
	return min(time.Minute<<level, 24*time.Hour)
}

func (s *Service) sealContext(userID int64) []byte {
	return []byte("totp:" + strconv.FormatInt(userID, 10))
}

// BeginTwoFactor makes a new secret for u to scan, pending until a code
// from it activates it (within 15 minutes). Only for a validated email, not
// for SSO users, not when 2FA is on already.
func (s *Service) BeginTwoFactor(ctx context.Context, u *gardien.User) (*totp.Enrollment, error) {
	switch {
	case u.SSO:
		return nil, errSSOUser
	case !u.EmailVerified:
		return nil, errNotVerified
	case u.TwoFactorEnabled:
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

// Activated is what a person gets when 2FA turns on.
type Activated struct {
	RecoveryCodes []string // shown once, never stored in clear
	Token         string   // the session's new token
}

// ActivateTwoFactor turns 2FA on with a right code from the pending secret,
// and returns the recovery codes. The session is rotated: its privilege changed.
func (s *Service) ActivateTwoFactor(ctx context.Context, sess *gardien.Session, u *gardien.User, code string, c gardien.Client) (*Activated, error) {
	if u.TwoFactorEnabled {
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
	codes, hashes := s.newRecoveryCodes()
	if err := s.Store.ActivateTOTP(ctx, u.ID, step, hashes, s.newEvent(gardien.EventTwoFactorEnabled, u.ID, u.ID, c, nil)); err != nil {
		if errors.Is(err, gardien.ErrNotFound) {
			return nil, errNoPending
		}
		return nil, fmt.Errorf("auth: activate 2fa: %w", err)
	}
	tok, err := s.Rotate(ctx, sess, gardien.LevelFull)
	if err != nil {
		return nil, err
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

// SecondFactorPassed is a login's second step passed.
type SecondFactorPassed struct {
	Token   string    // the session's new token, at level full
	Expires time.Time // the session's end, for the cookie
	// RecoveryCodesLeft is set when a recovery code was used.
	RecoveryCodesLeft int
	UsedRecoveryCode  bool
	// CheckupDue: the 2FA check-up is due, to offer now (read with the
	// secret: no other query).
	CheckupDue bool
}

// VerifySecondFactor checks a code from the app, or a recovery code, for
// the session of a cookie's token, at its second step. Every try is
// counted in the database before it is checked, so guesses are limited per
// account across sessions, nodes and concurrent requests; while locked,
// even a right code is refused. A code's time step is accepted once (the
// replay guard). The session is read here, not by the server's middleware:
// a code's step reads it inside its own transaction (see
// verifySecondFactor), and it answers as the middleware and the guard would
// — CodeUnauthorized for a token of no live session, Allows' refusal for a
// session not at its second step.
func (s *Service) VerifySecondFactor(ctx context.Context, token, code, recovery string, c gardien.Client) (*SecondFactorPassed, error) {
	out, err := s.verifySecondFactor(ctx, token, code, recovery, c)
	s.Observer.SecondStep(codeOutcome(err))
	return out, err
}

func (s *Service) verifySecondFactor(ctx context.Context, token, code, recovery string, c gardien.Client) (*SecondFactorPassed, error) {
	key, ok := sessionKey(token)
	if !ok {
		return nil, errUnauthorized
	}
	now := s.Now()
	out := &SecondFactorPassed{}
	secret, hash := newToken()
	// A code is checked inside the transaction that reads the session,
	// counts the try and, when right, passes the step (TrySecondStep): one
	// commit, on SQLite all of it on the writer, whose pages are warm (a
	// reader's are dropped whenever anyone writes). A recovery code, or
	// nothing typed, reads the session first, as any request's.
	var sess *gardien.Session
	var u *gardien.User
	v := codeWrong
	var err error
	if strings.TrimSpace(code) == "" || strings.TrimSpace(recovery) != "" {
		if sess, u, err = s.secondStepSession(ctx, token); err != nil {
			return nil, err
		}
		if strings.TrimSpace(recovery) == "" {
			return nil, gardien.Invalid("code", "err.field_required")
		}
		// A recovery code is used up by its check: its try is counted
		// first, then it is checked, then the step passed (the failures
		// cleared, the login recorded, the session promoted with a new
		// secret, the event written: one transaction).
		if err := s.reserveTry(ctx, u.ID, now); err != nil {
			return nil, err
		}
		if v, err = s.checkRecoveryCode(ctx, u.ID, recovery, now, out); err != nil {
			return nil, err
		}
		if v == codeRight {
			err = s.Store.PassSecondStep(ctx, s.secondStep(key, sess, u, hash, 0, now, c))
		}
	} else {
		// A try refused does the same work for a right code as for a wrong
		// one: it must not tell one from the other by its time.
		dead := false
		err = s.Store.TrySecondStep(ctx, key, tryLimits, now, func(ss *gardien.Session, uu *gardien.User, sealed []byte, checkupDue time.Time) (gardien.SecondStep, bool, error) {
			sess, u = ss, uu
			if !s.live(ss, uu, now) {
				dead = true
				return gardien.SecondStep{}, false, errUnauthorized
			}
			if err := Allows(ss.Level, AreaSecondStep); err != nil {
				return gardien.SecondStep{}, false, err
			}
			if sealed == nil {
				return gardien.SecondStep{}, false, errNoSecondStep // 2FA turned off since the password step
			}
			step, right, err := s.checkCode(uu.ID, sealed, code, now)
			if right {
				v, out.CheckupDue = codeRight, !checkupDue.IsZero() && !now.Before(checkupDue)
			}
			return s.secondStep(key, ss, uu, hash, step, now, c), right, err
		})
		if dead {
			s.endDead(ctx, sess)
		}
		if e, ok := gardien.AsError(err); ok {
			return nil, e // the session's refusal, as the guard's: no try counted
		}
	}
	var exhausted *gardien.TriesExhaustedError
	switch {
	case errors.Is(err, gardien.ErrNotFound):
		// No session of that key, or one another request of the same
		// cookie promoted first (with another of the person's codes):
		// this cookie opens nothing now.
		return nil, errUnauthorized
	case errors.As(err, &exhausted):
		return nil, rateLimited(exhausted.Until, now)
	case errors.Is(err, gardien.ErrCodeUsed):
		s.Log.InfoContext(ctx, "replayed code refused", "user_id", u.ID)
		v = codeUsed
	case err != nil:
		return nil, fmt.Errorf("auth: second factor: %w", err)
	}
	if v != codeRight {
		if err := s.failedSecondFactor(ctx, u, c, now); err != nil {
			return nil, err
		}
		return nil, v.refusal()
	}
	out.Expires, out.Token = s.expiryAfter(sess, afterSecondStep(sess.Level), now), sessionToken(sess.ID, secret)
	if afterSecondStep(sess.Level) == gardien.LevelFull {
		s.noticeBrowser(ctx, u, c)
	}
	if out.UsedRecoveryCode {
		if err := s.event(ctx, gardien.EventRecoveryCodeUsed, u.ID, u.ID, c, gardien.EventData{"codes_left": strconv.Itoa(out.RecoveryCodesLeft)}); err != nil {
			return nil, err
		}
		s.send(ctx, mail.Letter{Kind: "recovery_code_used", To: u.Email, Name: u.Name, Lang: s.langOf(u, ""),
			Link: s.Links.TwoFactorSettings(), Args: []any{out.RecoveryCodesLeft}})
	}
	return out, nil
}

// SecondStepSession says whether a token's session may take its second
// step: nil, or the refusal a guarded route gives (CodeUnauthorized,
// auth.Allows'). A transport asks it when it refuses the request for
// another reason (a body it cannot read): the session's state is said
// first, as on every route.
func (s *Service) SecondStepSession(ctx context.Context, token string) error {
	_, _, err := s.secondStepSession(ctx, token)
	return err
}

func (s *Service) secondStepSession(ctx context.Context, token string) (*gardien.Session, *gardien.User, error) {
	sess, u, err := s.Authenticate(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	if err := Allows(sess.Level, AreaSecondStep); err != nil {
		return nil, nil, err
	}
	return sess, u, nil
}

// secondStep is what a passed second step makes of sess, opened by key:
// level full, a new secret (its hash), a new end, the event; step is the
// code's time step, to use up (0 for a recovery code, used up by its check).
func (s *Service) secondStep(key gardien.SessionKey, sess *gardien.Session, u *gardien.User, secretHash []byte, step int64, now time.Time, c gardien.Client) gardien.SecondStep {
	level := afterSecondStep(sess.Level)
	return gardien.SecondStep{UserID: u.ID, SessionID: sess.ID, Key: key, Step: step, SecretHash: secretHash,
		Level: level, Expires: s.expiryAfter(sess, level, now), Event: s.newEvent(gardien.EventTwoFactorPassed, u.ID, u.ID, c, nil)}
}

// reserveTry counts a second-factor try before its check (ReserveSecondFactorTry).
func (s *Service) reserveTry(ctx context.Context, userID int64, now time.Time) error {
	ok, until, err := s.Store.ReserveSecondFactorTry(ctx, userID, tryLimits, now)
	if err != nil {
		return fmt.Errorf("auth: second factor: %w", err)
	}
	if !ok {
		return rateLimited(until, now)
	}
	return nil
}

func rateLimited(until, now time.Time) *gardien.Error {
	return &gardien.Error{Code: gardien.CodeRateLimited, Message: "err.rate_limited", RetryAfter: until.Sub(now)}
}

// codeVerdict is what a second-factor check found.
type codeVerdict int

const (
	codeWrong codeVerdict = iota
	codeRight
	// codeUsed: the right code of a time step already used. Refused (and
	// counted as a failure) like a wrong one, but the person is told why:
	// they typed what their app shows and must wait for the next code.
	codeUsed
)

// refusal is the error for a refused code.
func (v codeVerdict) refusal() *gardien.Error {
	msg := "err.invalid_code"
	if v == codeUsed {
		msg = "err.code_used"
	}
	return &gardien.Error{Code: gardien.CodeInvalidCode, Message: msg}
}

// checkSecondFactor says, outside a login, whether the code (or recovery
// code) is right. A recovery code is used up here; a code's time step is
// returned for the caller to use up: until then the code is not yet
// accepted.
func (s *Service) checkSecondFactor(ctx context.Context, userID int64, code, recovery string, now time.Time, out *SecondFactorPassed) (codeVerdict, int64, error) {
	if strings.TrimSpace(recovery) != "" {
		v, err := s.checkRecoveryCode(ctx, userID, recovery, now, out)
		return v, 0, err
	}
	sealed, _, err := s.Store.TOTPSecret(ctx, userID)
	if err != nil {
		return codeWrong, 0, fmt.Errorf("auth: second factor: %w", err)
	}
	step, right, err := s.checkCode(userID, sealed, code, now)
	if err != nil || !right {
		return codeWrong, 0, err
	}
	return codeRight, step, nil
}

// checkRecoveryCode uses up a recovery code of the person's, if it is one.
func (s *Service) checkRecoveryCode(ctx context.Context, userID int64, recovery string, now time.Time, out *SecondFactorPassed) (codeVerdict, error) {
	left, err := s.Store.ConsumeRecoveryCode(ctx, userID, s.recoveryHash(recovery), now)
	if errors.Is(err, gardien.ErrNotFound) {
		return codeWrong, nil
	}
	if err != nil {
		return codeWrong, fmt.Errorf("auth: recovery code: %w", err)
	}
	out.UsedRecoveryCode, out.RecoveryCodesLeft = true, left
	if cu, err := s.Store.Checkup(ctx, userID); err == nil {
		out.CheckupDue = s.checkupState(cu).Due
	}
	return codeRight, nil
}

// checkCode checks a code against the person's sealed secret: the time step
// it matched, if it did.
func (s *Service) checkCode(userID int64, sealed []byte, code string, now time.Time) (int64, bool, error) {
	secret, err := s.Box.Open(sealed, s.sealContext(userID))
	if err != nil {
		return 0, false, fmt.Errorf("auth: second factor: %w", err)
	}
	step, match := totp.Verify(secret, code, now)
	return step, match, nil
}

// failedSecondFactor records a wrong code and, at the limit, locks the
// second step and tells the person: someone has their password. The try
// was counted before the check, so an error here loses no count.
func (s *Service) failedSecondFactor(ctx context.Context, u *gardien.User, c gardien.Client, now time.Time) error {
	if err := s.event(ctx, gardien.EventTwoFactorCodeFailed, u.ID, 0, c, nil); err != nil {
		return err
	}
	until, err := s.Store.LockIfExhausted(ctx, u.ID, tryLimits, now)
	if err != nil {
		return fmt.Errorf("auth: second factor lock: %w", err)
	}
	if until.IsZero() {
		return nil
	}
	s.Observer.Lockout()
	if err := s.event(ctx, gardien.EventTwoFactorLocked, u.ID, 0, c, gardien.EventData{"until": until.UTC().Format(time.RFC3339)}); err != nil {
		return err
	}
	s.send(ctx, mail.Letter{Kind: "two_factor_locked", To: u.Email, Name: u.Name, Lang: s.langOf(u, ""),
		Link: s.Links.PasswordSettings(), Args: []any{c.IP}})
	return nil
}

// TwoFactorStatus tells whether 2FA is on, since when, and how many
// recovery codes remain.
type TwoFactorStatus struct {
	Enabled           bool
	Since             time.Time
	RecoveryCodesLeft int
}

// TwoFactor returns a person's 2FA status.
func (s *Service) TwoFactor(ctx context.Context, userID int64) (*TwoFactorStatus, error) {
	since, left, err := s.Store.TwoFactorStatus(ctx, userID)
	if errors.Is(err, gardien.ErrNotFound) {
		return &TwoFactorStatus{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auth: 2fa status: %w", err)
	}
	return &TwoFactorStatus{Enabled: true, Since: since, RecoveryCodesLeft: left}, nil
}

// DisableTwoFactor turns 2FA off after the password is typed again: the
// secret and recovery codes are deleted, the person's other sessions end,
// and they are told by mail. Returns the session's new token.
func (s *Service) DisableTwoFactor(ctx context.Context, sess *gardien.Session, u *gardien.User, pw string, c gardien.Client) (string, error) {
	if !u.TwoFactorEnabled {
		return "", errTwoFactorMissing
	}
	if org, err := s.RequiringOrganization(ctx, u.ID); err != nil {
		return "", err
	} else if org != "" {
		return "", &gardien.Error{Code: gardien.CodeTwoFactorRequiredByOrg, Message: "err.two_factor_required_by_organization", Args: []any{org}}
	}
	if err := s.checkPassword(ctx, u, pw, "password", c); err != nil {
		return "", err
	}
	if err := s.Store.DisableTOTP(ctx, u.ID, sess.ID, s.newEvent(gardien.EventTwoFactorDisabled, u.ID, u.ID, c, nil)); err != nil {
		if errors.Is(err, gardien.ErrNotFound) {
			return "", errTwoFactorMissing
		}
		return "", fmt.Errorf("auth: disable 2fa: %w", err)
	}
	tok, err := s.Rotate(ctx, sess, gardien.LevelFull)
	if err != nil {
		return "", err
	}
	s.send(ctx, mail.Letter{Kind: "two_factor_disabled", To: u.Email, Name: u.Name, Lang: s.langOf(u, ""), Link: s.Links.TwoFactorSettings()})
	return tok, nil
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
	if err := s.Store.DisableTOTP(ctx, u.ID, 0, e); err != nil {
		if errors.Is(err, gardien.ErrNotFound) {
			return nil, errTwoFactorMissing
		}
		return nil, fmt.Errorf("auth: reset 2fa: %w", err)
	}
	s.send(ctx, mail.Letter{Kind: "two_factor_reset", To: u.Email, Name: u.Name, Lang: s.langOf(u, ""), Link: s.Links.Login()})
	u.TwoFactorEnabled = false
	return u, nil
}
