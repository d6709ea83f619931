package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/mail"
	"github.com/gardien/gardien/internal/totp"
	"github.com/gardien/gardien/internal/webauthn"
)

// Every proof of a second factor — a code at login, a recovery code at
// login, a proof asked again before a sensitive change — goes through one
// sequence (judge), inside one transaction that storage hands over
// (SecondFactorStore). Storage runs statements; the rules are here.

// SecondFactorStore is the storage of second-factor proofs.
type SecondFactorStore interface {
	// SecondFactor runs fn in one transaction, committed when fn returns
	// nil. The rows a Factor is read from stay locked until the end, so
	// that concurrent proofs of one person are judged one after the other,
	// on every node.
	SecondFactor(ctx context.Context, fn func(SecondFactorTx) error) error
}

// SecondFactorTx is a transaction of SecondFactorStore.
type SecondFactorTx interface {
	// StepOf reads the session key names, its person and their Factor;
	// gardien.ErrNotFound when the key opens no session.
	StepOf(ctx context.Context, key SessionKey) (*gardien.Session, *gardien.User, *Factor, error)
	// FactorOf reads a person's Factor.
	FactorOf(ctx context.Context, userID int64) (*Factor, error)
	// UseStep uses up a code's time step, the replay guard: false, and
	// nothing changed, when a code of that step or a later one was
	// accepted already (of two proofs with one code, on one node or
	// several, one changes the row).
	UseStep(ctx context.Context, userID, step int64) (bool, error)
	// UseRecoveryCode uses up a recovery code and says how many remain;
	// gardien.ErrNotFound for a code unknown or used.
	UseRecoveryCode(ctx context.Context, userID int64, codeHash []byte, at time.Time) (int, error)
	// SetTries writes a person's counts of tries, and their last login
	// when loginAt is not zero.
	SetTries(ctx context.Context, userID int64, t Tries, loginAt time.Time) error
	// Promote gives a session its new secret, level and end while the
	// key it was read with still opens it: gardien.ErrNotFound when
	// another request promoted it first.
	Promote(ctx context.Context, p Promotion) error
	// Passkeys reads a person's keys.
	Passkeys(ctx context.Context, userID int64) ([]gardien.Passkey, error)
	// TakeCeremony returns a session's live ceremony of a kind, and ends
	// it; gardien.ErrNotFound when none lives.
	TakeCeremony(ctx context.Context, sessionID int64, kind string, now time.Time) ([]byte, error)
	// UsePasskey saves a key's credential after it was used (its counter).
	UsePasskey(ctx context.Context, userID int64, credentialID, credential []byte, at time.Time) error
	// Record writes an audit line.
	Record(ctx context.Context, e *gardien.Event) error
}

// SessionKey is what a session cookie gives to find its session: the
// session's ID and the hash of the cookie's secret. A session opened
// before cookies named their session (ID 0) is found by the hash of its
// whole token, until its next rotation gives it a secret. IDs are not
// secret; the secret is, 256 random bits. A lookup by primary key reads
// one B-tree where a token's hash read an index and then the table.
type SessionKey struct {
	ID   int64
	Hash []byte
}

// Factor is what a proof is checked against.
type Factor struct {
	Sealed []byte // the app's secret, sealed; nil when no app is on
	Keys   bool   // passkeys or security keys are registered
	// KeysDue is when an organization of the person starts to ask for a
	// key (the earliest deadline of a requirement of a phishing-resistant
	// method; its start when it has none); zero: none asks.
	KeysDue    time.Time
	CheckupDue time.Time // zero: no check-up due
	Tries      Tries
}

// Tries are a person's counts of second-factor proofs that failed.
type Tries struct {
	Failures    int // in a row
	LockLevel   int // locks in a row
	DayFailures int // since DayStart
	DayStart    time.Time
	LastFailure time.Time
	LockedUntil time.Time
}

// Promotion is what a passed second step makes of its session.
type Promotion struct {
	SessionID  int64
	Key        SessionKey // the cookie's key the step was read with
	SecretHash []byte     // the session's new secret's
	Level      gardien.SessionLevel
	Expires    time.Time
	// AMR is how the person proved who they are (at level full).
	AMR   string
	Event *gardien.Event
}

// TryLimits bound second-factor guessing on one account. The counts are
// kept with the account, so they hold across sessions, nodes and
// concurrent requests.
type TryLimits struct {
	// Consecutive failures lock the second factor for LockFor(level),
	// level counting the locks in a row.
	Consecutive int
	// Daily failures within Day, whatever passed between, lock it until
	// the Day is over.
	Daily int
	// Day is the window of Daily; counts and lock levels older than a Day
	// are forgotten.
	Day     time.Duration
	LockFor func(level int) time.Duration
}

// tryLimits bound guessing: 5 wrong codes in a row lock the second step
// (one minute, doubling with each lock in a row, at most a day); 10 in a
// day, whatever right codes came between, lock it until the day is over.
// docs/security.md works out what this leaves an attacker who knows the
// password: under 0.1% in 30 days.
var tryLimits = TryLimits{Consecutive: 5, Daily: 10, Day: 24 * time.Hour, LockFor: lockFor}

// lockFor is the lockout after the level-th lock in a row: one minute,
// doubling each time, at most a day.
func lockFor(level int) time.Duration {
	if level > 10 {
		return 24 * time.Hour
	}
	return min(time.Minute<<level, 24*time.Hour)
}

// current is t as of now: counts older than a Day forgotten.
func (l TryLimits) current(t Tries, now time.Time) Tries {
	dayAgo := now.Add(-l.Day)
	if !t.LastFailure.After(dayAgo) {
		t.Failures, t.LockLevel = 0, 0
	}
	if !t.DayStart.After(dayAgo) {
		t.DayFailures, t.DayStart = 0, now
	}
	return t
}

// RefusedUntil says until when no proof is heard (zero: one is).
func (l TryLimits) RefusedUntil(t Tries, now time.Time) time.Time {
	if now.Before(t.LockedUntil) {
		return t.LockedUntil
	}
	// A lock begins with the failure that reaches a limit; a count at its
	// limit without one (the limits lowered since) waits out its window.
	if t = l.current(t, now); t.DayFailures >= l.Daily {
		return t.DayStart.Add(l.Day)
	}
	if t.Failures >= l.Consecutive {
		return t.LastFailure.Add(l.Day)
	}
	return time.Time{}
}

// Failed counts a failed proof; locked says it began a lock.
func (l TryLimits) Failed(t Tries, now time.Time) (_ Tries, locked bool) {
	t = l.current(t, now)
	t.Failures++
	t.DayFailures++
	t.LastFailure = now
	if t.Failures < l.Consecutive && t.DayFailures < l.Daily {
		return t, false
	}
	until := now.Add(l.LockFor(t.LockLevel))
	if dayEnd := t.DayStart.Add(l.Day); t.DayFailures >= l.Daily && dayEnd.After(until) {
		until = dayEnd
	}
	t.LockedUntil, t.LockLevel, t.Failures = until, t.LockLevel+1, 0
	return t, true
}

// Passed clears the failures in a row after a right proof; the day's
// count and the lock level stay.
func (l TryLimits) Passed(t Tries, now time.Time) Tries {
	t = l.current(t, now)
	t.Failures = 0
	return t
}

// proof is what a person gives as their second factor: a code of their
// app, a recovery code, or a key's answer (assertion) to the challenge of
// the ceremony their session began (sessionID).
type proof struct {
	code, recovery string
	assertion      []byte
	sessionID      int64
}

func (p proof) empty() bool { return p.code == "" && p.recovery == "" && len(p.assertion) == 0 }

func newProof(code, recovery string) proof {
	return proof{code: strings.TrimSpace(code), recovery: strings.TrimSpace(recovery)}
}

// judgment is what judge found.
type judgment struct {
	verdict codeVerdict
	// usedRecovery: a recovery code was used; codesLeft are left.
	usedRecovery bool
	codesLeft    int
	// lockedUntil is set when this failure locked the second factor.
	lockedUntil time.Time
	// method is the RFC 8176 name of the factor that passed: otp (an
	// app's code or a recovery code), hwk or swk (a key).
	method string
}

// judge is the one sequence of a proof of u's second factor, f, read in tx
// (its rows locked): refused while locked; a code checked against the
// secret — doing the same work whether it is right or not — and its step
// used up; a recovery code used up; then the failure counted (at a limit,
// the lock begun) or the failures cleared, with the audit lines. The
// failure is committed with the transaction: the caller refuses after.
// loginAt is the login a passed proof records (zero: none).
func (s *Service) judge(ctx context.Context, tx SecondFactorTx, u *gardien.User, f *Factor, p proof, now, loginAt time.Time, c gardien.Client) (judgment, error) {
	var j judgment
	if f.Sealed == nil && !f.Keys {
		return j, errNoSecondStep
	}
	refused := func() (judgment, error) {
		return j, rateLimited(tryLimits.RefusedUntil(f.Tries, now), now)
	}
	locked := !tryLimits.RefusedUntil(f.Tries, now).IsZero()
	switch {
	case len(p.assertion) > 0:
		if locked {
			return refused()
		}
		var err error
		if j.verdict, j.method, err = s.judgeKey(ctx, tx, u, p, now); err != nil {
			return j, err
		}
		if j.verdict == codeCloned {
			if err := tx.Record(ctx, s.newEvent(gardien.EventPasskeyCloned, u.ID, 0, c, nil)); err != nil {
				return j, err
			}
		}
	case p.recovery != "":
		if locked {
			return refused()
		}
		left, err := tx.UseRecoveryCode(ctx, u.ID, s.recoveryHash(p.recovery), now)
		switch {
		case err == nil:
			j.verdict, j.usedRecovery, j.codesLeft, j.method = codeRight, true, left, "otp"
		case !errors.Is(err, gardien.ErrNotFound):
			return j, fmt.Errorf("auth: recovery code: %w", err)
		}
	case f.Sealed == nil:
		// Keys only: no code of an app can be right, and saying so is no
		// guess (their way in is their key, or a recovery code).
		return j, errNoApp
	default:
		step, right, err := s.checkCode(u.ID, f.Sealed, p.code, now)
		if err != nil {
			return j, err
		}
		if locked {
			return refused()
		}
		if right {
			fresh, err := tx.UseStep(ctx, u.ID, step)
			if err != nil {
				return j, fmt.Errorf("auth: second factor: %w", err)
			}
			j.verdict, j.method = codeUsed, "otp"
			if fresh {
				j.verdict = codeRight
			}
		}
	}
	if j.verdict == codeRight {
		if err := tx.SetTries(ctx, u.ID, tryLimits.Passed(f.Tries, now), loginAt); err != nil {
			return j, fmt.Errorf("auth: second factor: %w", err)
		}
		if j.usedRecovery {
			return j, tx.Record(ctx, s.newEvent(gardien.EventRecoveryCodeUsed, u.ID, u.ID, c, gardien.EventData{"codes_left": strconv.Itoa(j.codesLeft)}))
		}
		return j, nil
	}
	t, locked := tryLimits.Failed(f.Tries, now)
	if err := tx.SetTries(ctx, u.ID, t, time.Time{}); err != nil {
		return j, fmt.Errorf("auth: second factor: %w", err)
	}
	if err := tx.Record(ctx, s.newEvent(gardien.EventTwoFactorCodeFailed, u.ID, 0, c, nil)); err != nil {
		return j, err
	}
	if locked {
		j.lockedUntil = t.LockedUntil
		return j, tx.Record(ctx, s.newEvent(gardien.EventTwoFactorLocked, u.ID, 0, c, gardien.EventData{"until": t.LockedUntil.UTC().Format(time.RFC3339)}))
	}
	return j, nil
}

// judgeKey checks a key's answer to the challenge of its session's
// ceremony (taken: it answers once) against the person's keys, and saves
// the key's moved counter. A ceremony gone (answered, or older than
// CeremonyLifetime) is refused without counting a try: no answer can be
// guessed, and the person only has to ask their key again.
func (s *Service) judgeKey(ctx context.Context, tx SecondFactorTx, u *gardien.User, p proof, now time.Time) (codeVerdict, string, error) {
	if s.Passkeys == nil {
		return codeWrong, "", errPasskeysOff
	}
	state, err := tx.TakeCeremony(ctx, p.sessionID, ceremonyProve, now)
	if errors.Is(err, gardien.ErrNotFound) {
		return codeWrong, "", errKeyChallenge
	}
	if err != nil {
		return codeWrong, "", fmt.Errorf("auth: key: %w", err)
	}
	keys, err := tx.Passkeys(ctx, u.ID)
	if err != nil {
		return codeWrong, "", fmt.Errorf("auth: key: %w", err)
	}
	wu, err := webauthnUserOf(u, keys)
	if err != nil {
		return codeWrong, "", err
	}
	cred, err := s.Passkeys.FinishLogin(wu, state, p.assertion)
	switch {
	case errors.Is(err, webauthn.ErrCloned):
		s.Log.WarnContext(ctx, "cloned key refused", "user_id", u.ID)
		return codeCloned, "", nil
	case err != nil:
		s.Log.InfoContext(ctx, "key refused", "user_id", u.ID, "err", err)
		return codeWrong, "", nil
	}
	blob, err := json.Marshal(cred)
	if err != nil {
		return codeWrong, "", fmt.Errorf("auth: key: %w", err)
	}
	if err := tx.UsePasskey(ctx, u.ID, cred.ID, blob, now); err != nil {
		return codeWrong, "", fmt.Errorf("auth: key: %w", err)
	}
	return codeRight, webauthn.Method(cred), nil
}

// told tells, once the judgment is committed, what a person must hear of
// it: a lock (someone has their password), a recovery code used.
func (s *Service) told(ctx context.Context, u *gardien.User, j judgment, c gardien.Client) {
	if j.verdict == codeUsed {
		s.Log.InfoContext(ctx, "replayed code refused", "user_id", u.ID)
	}
	if !j.lockedUntil.IsZero() {
		s.Observer.Lockout()
		s.send(ctx, mail.Letter{Kind: "two_factor_locked", To: u.Email, Name: u.Name, Lang: s.langOf(u, ""),
			Link: s.Links.PasswordSettings(), Args: []any{c.IP}})
	}
	if j.usedRecovery {
		s.send(ctx, mail.Letter{Kind: "recovery_code_used", To: u.Email, Name: u.Name, Lang: s.langOf(u, ""),
			Link: s.Links.TwoFactorSettings(), Args: []any{j.codesLeft}})
	}
}

// SecondFactorPassed is a login's second step passed.
type SecondFactorPassed struct {
	Token   string    // the session's new token, at level full
	Expires time.Time // the session's end, for the cookie
	// RecoveryCodesLeft is set when a recovery code was used.
	RecoveryCodesLeft int
	UsedRecoveryCode  bool
	// CheckupDue: the 2FA check-up is due, to offer now.
	CheckupDue bool
	// KeyRequired: an organization of the person asks for a passkey or
	// security key: the session may only add one (set-up) before anything.
	KeyRequired bool
}

// VerifySecondFactor checks a code from the app, or a recovery code, for
// the session of a cookie's token, at its second step (judge). The session
// is read here, in the proof's transaction, not by the server's
// middleware, and refused as the middleware and the guard would refuse it
// — CodeUnauthorized for a token of no live session, Allows' refusal for a
// session not at its second step — before the proof is looked at and
// without counting a try.
func (s *Service) VerifySecondFactor(ctx context.Context, token, code, recovery string, c gardien.Client) (*SecondFactorPassed, error) {
	out, err := s.verifySecondFactor(ctx, token, newProof(code, recovery), c)
	s.Observer.SecondStep(codeOutcome(err))
	return out, err
}

// VerifyKey checks a key's answer (assertion) to the challenge BeginKeyProof
// gave the session of a cookie's token, at its second step: the same
// sequence and limits as VerifySecondFactor's.
func (s *Service) VerifyKey(ctx context.Context, token string, assertion []byte, c gardien.Client) (*SecondFactorPassed, error) {
	out, err := s.verifySecondFactor(ctx, token, proof{assertion: assertion}, c)
	s.Observer.SecondStep(codeOutcome(err))
	return out, err
}

func (s *Service) verifySecondFactor(ctx context.Context, token string, p proof, c gardien.Client) (*SecondFactorPassed, error) {
	key, ok := sessionKey(token)
	if !ok {
		return nil, errUnauthorized
	}
	now := s.Now()
	secret, hash := newToken()
	var sess *gardien.Session
	var u *gardien.User
	var j judgment
	var pr Promotion
	var due, dead bool
	err := s.Store.SecondFactor(ctx, func(tx SecondFactorTx) error {
		var f *Factor
		var err error
		if sess, u, f, err = tx.StepOf(ctx, key); err != nil {
			return err
		}
		if !s.live(sess, u, now) {
			dead = true
			return errUnauthorized
		}
		if err := Allows(sess.Level, AreaSecondStep); err != nil {
			return err
		}
		if p.empty() {
			return gardien.Invalid("code", "err.field_required")
		}
		p.sessionID = sess.ID
		if j, err = s.judge(ctx, tx, u, f, p, now, now, c); err != nil || j.verdict != codeRight {
			return err
		}
		due = !f.CheckupDue.IsZero() && !now.Before(f.CheckupDue)
		level := afterSecondStep(sess.Level)
		if level == gardien.LevelFull && !u.HasKeys && !u.SSO && !f.KeysDue.IsZero() && !now.Before(f.KeysDue) {
			// An organization that asks for a key holds an app's code
			// at the set-up (add a key) once its deadline has come.
			level = gardien.LevelSetup
		}
		pr = Promotion{SessionID: sess.ID, Key: key, SecretHash: hash, Level: level, AMR: "pwd " + j.method + " mfa",
			Expires: s.expiryAfter(sess, level, now), Event: s.newEvent(gardien.EventTwoFactorPassed, u.ID, u.ID, c, gardien.EventData{"method": j.method})}
		return tx.Promote(ctx, pr)
	})
	if dead {
		s.endDead(ctx, sess)
	}
	switch {
	case errors.Is(err, gardien.ErrNotFound):
		// No session of that key, or one another request of the same
		// cookie promoted first (with another of the person's codes):
		// this cookie opens nothing now.
		return nil, errUnauthorized
	case err != nil:
		return nil, proofError(err)
	}
	s.told(ctx, u, j, c)
	if j.verdict != codeRight {
		return nil, j.verdict.refusal()
	}
	if pr.Level == gardien.LevelFull {
		s.noticeBrowser(ctx, u, c)
	}
	return &SecondFactorPassed{Token: sessionToken(sess.ID, secret), Expires: pr.Expires,
		UsedRecoveryCode: j.usedRecovery, RecoveryCodesLeft: j.codesLeft, CheckupDue: due, KeyRequired: pr.Level == gardien.LevelSetup}, nil
}

// Proof is a second factor given before a sensitive change (a new email,
// deleting the account): a code of the app, a recovery code, or a key's
// answer to the challenge BeginKeyProof gave the session SessionID.
type Proof struct {
	Code, Recovery string
	Assertion      []byte
	SessionID      int64
}

// proveSecondFactor checks, outside a login, a code of the app in use, a
// recovery code or a key's answer (judge): under the same limits as a
// login's, a recovery code used up, a key's challenge answered once.
func (s *Service) proveSecondFactor(ctx context.Context, u *gardien.User, given Proof, c gardien.Client) error {
	p := newProof(given.Code, given.Recovery)
	p.assertion, p.sessionID = given.Assertion, given.SessionID
	if p.empty() {
		return gardien.Invalid("code", "err.field_required")
	}
	now := s.Now()
	var j judgment
	err := s.Store.SecondFactor(ctx, func(tx SecondFactorTx) error {
		f, err := tx.FactorOf(ctx, u.ID)
		if err != nil {
			return err
		}
		j, err = s.judge(ctx, tx, u, f, p, now, time.Time{}, c)
		return err
	})
	switch {
	case errors.Is(err, errNoSecondStep) || errors.Is(err, gardien.ErrNotFound):
		return errTwoFactorMissing
	case err != nil:
		return proofError(err)
	}
	s.told(ctx, u, j, c)
	if j.verdict != codeRight {
		e := j.verdict.refusal()
		e.Fields = []gardien.FieldError{{Field: "code", Message: e.Message}}
		return e
	}
	return nil
}

// proofError is a proof's transaction's error as auth returns it: a
// refusal as it is, anything else wrapped.
func proofError(err error) error {
	if e, ok := gardien.AsError(err); ok {
		return e
	}
	return fmt.Errorf("auth: second factor: %w", err)
}

// SecondStepSession says whether a token's session may take its second
// step: nil, or the refusal a guarded route gives (CodeUnauthorized,
// auth.Allows'). A transport asks it when it refuses the request for
// another reason (a body it cannot read): the session's state is said
// first, as on every route.
func (s *Service) SecondStepSession(ctx context.Context, token string) error {
	sess, _, err := s.Authenticate(ctx, token)
	if err != nil {
		return err
	}
	return Allows(sess.Level, AreaSecondStep)
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
	// codeCloned: a key whose signature counter went back, a copy of it
	// at work. Refused, counted and audited.
	codeCloned
)

// refusal is the error for a refused code.
func (v codeVerdict) refusal() *gardien.Error {
	msg := "err.invalid_code"
	switch v {
	case codeUsed:
		msg = "err.code_used"
	case codeCloned:
		msg = "err.passkey_cloned"
	}
	return &gardien.Error{Code: gardien.CodeInvalidCode, Message: msg}
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
