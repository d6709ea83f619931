package auth

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/mail"
	"github.com/gardien/gardien/internal/password"
)

// AccountStore is the storage of accounts: people, their passwords and
// emails, the single-use tokens of mailed links.
type AccountStore interface {
	CreateUser(ctx context.Context, u *gardien.User, emailKey, passwordHash string) error
	UserByID(ctx context.Context, id int64) (*gardien.User, error)
	UserByEmail(ctx context.Context, emailKey string) (*gardien.User, string, error)
	PasswordHash(ctx context.Context, userID int64) (string, error)
	UpdateProfile(ctx context.Context, userID int64, name, locale string, at time.Time) error
	SetEmailVerified(ctx context.Context, userID int64, at time.Time) error
	SetPassword(ctx context.Context, userID int64, hash string, keepSession int64, at time.Time) error
	CreateToken(ctx context.Context, kind string, tokenHash []byte, userID int64, expires, at time.Time) error
	ConsumeToken(ctx context.Context, kind string, tokenHash []byte, at time.Time) (int64, error)
	TokenUser(ctx context.Context, kind string, tokenHash []byte, at time.Time) (int64, error)
	CreateEmailChange(ctx context.Context, tokenHash []byte, userID int64, email, key string, expires, at time.Time) error
	ChangeEmail(ctx context.Context, tokenHash []byte, at time.Time, e *gardien.Event) (*gardien.User, string, error)
	DeleteUser(ctx context.Context, userID int64, e *gardien.Event) error
	SetDisabled(ctx context.Context, userID int64, disabled bool, e *gardien.Event) error
}

// NormalizeEmail trims an address and maps its domain (IDNA: lower case,
// fullwidth letters narrowed …); it returns the
// address to show and the key that makes it unique (all lower case: nobody
// wants two accounts that differ by the case of one letter).
func NormalizeEmail(raw string) (email, key string, ok bool) {
	email = strings.TrimSpace(raw)
	// U+FFFD is what a JSON decoder made of bytes that were not UTF-8:
	// never part of a real address.
	if !utf8.ValidString(email) || strings.ContainsRune(email, utf8.RuneError) {
		return "", "", false
	}
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || at == len(email)-1 || len(email) > 254 {
		return "", "", false
	}
	// The domain as IDNA maps it, in its Unicode form: the spellings that
	// name the same domain (fullwidth letters, capitals, ß …) give one
	// address, as NormalizeDomain gives one domain for SSO, so one person
	// has one account.
	domain, err := idna.Lookup.ToASCII(email[at+1:])
	if err == nil {
		domain, err = idna.Lookup.ToUnicode(domain)
	}
	if err != nil {
		return "", "", false
	}
	email = email[:at] + "@" + domain
	a, err := netmail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" || !hostname(email[at+1:]) ||
		strings.ContainsFunc(email, unicode.IsSpace) {
		return "", "", false
	}
	return email, strings.ToLower(email), true
}

// hostname says whether a mail domain is a host name: dot-separated labels
// of letters, digits and hyphens (or non-ASCII letters, for international
// names), a last label that is not all digits. Address literals such as
// [127.0.0.1] and bare IP addresses are refused: mail to them goes to
// whatever machine the sender names, not to a mailbox anyone verified.
func hostname(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 || len(d) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 0x80 && unicode.IsLetter(r) || r >= 0x80 && unicode.IsMark(r)) {
				return false
			}
		}
	}
	return strings.ContainsFunc(labels[len(labels)-1], func(r rune) bool { return r < '0' || r > '9' })
}

// SignupInput is what a person types to sign up.
type SignupInput struct {
	Email, Password, Name string
	Lang                  string // language of the page they signed up on
	// Invitation is the token of the invitation they answer, if any: they
	// join its organization at once.
	Invitation string
}

func cleanName(raw string) (string, string) {
	name := strings.Join(strings.FieldsFunc(raw, unicode.IsSpace), " ")
	switch {
	case name == "" || !utf8.ValidString(name):
		return "", "err.name_required"
	case utf8.RuneCountInString(name) > 100:
		return "", "err.name_too_long"
	case strings.ContainsFunc(name, unicode.IsControl):
		return "", "err.name_required"
	}
	return name, ""
}

// SignedUp is a new account, logged in.
type SignedUp struct {
	*Login
	// Joined is the organization joined through the invitation answered,
	// nil when none was, or when it no longer holds (the account is made
	// all the same).
	Joined *Joined
}

// SignUp is the whole sign-up, the same for the pages and the API: the
// account is made (Signup), a session opened (any the browser held ends),
// and the invitation it answers, if any, accepted — which may hold the
// session at the 2FA set-up at once.
func (s *Service) SignUp(ctx context.Context, in SignupInput, oldToken string, c gardien.Client) (*SignedUp, error) {
	u, err := s.createAccount(ctx, in, c)
	if err != nil {
		return nil, err
	}
	s.endToken(ctx, oldToken)
	// A new account has no second factor and no organization yet.
	sess, tok, err := s.openSession(ctx, u.ID, gardien.LevelFull, c, "", "")
	if err != nil {
		return nil, err
	}
	if err := s.event(ctx, gardien.EventLogin, u.ID, u.ID, c, gardien.EventData{"level": string(gardien.LevelFull)}); err != nil {
		return nil, err
	}
	s.recordLogin(ctx, u.ID)
	s.noticeBrowser(ctx, u, c) // the account's first browser
	out := &SignedUp{Login: &Login{User: u, Session: sess, Token: tok, Status: StatusOK}}
	if in.Invitation != "" {
		j, err := s.AcceptInvitation(ctx, sess, u, in.Invitation, c)
		switch {
		case err == nil:
			out.Joined = j
			if j.Token != "" {
				out.Token, out.Status = j.Token, j.Status
			}
		case gardien.ErrorCode(err) == gardien.CodeInternal:
			return nil, err
		}
	}
	return out, nil
}

// createAccount creates an account and mails a validation link. The
// account works at once; what needs a validated email waits for the link.
func (s *Service) createAccount(ctx context.Context, in SignupInput, c gardien.Client) (*gardien.User, error) {
	verr := &gardien.Error{Code: gardien.CodeValidationFailed, Message: "err.validation_failed"}
	name, msg := cleanName(in.Name)
	if msg != "" {
		verr.Fields = append(verr.Fields, gardien.FieldError{Field: "name", Message: msg})
	}
	email, key, ok := NormalizeEmail(in.Email)
	if !ok {
		verr.Fields = append(verr.Fields, gardien.FieldError{Field: "email", Message: "err.email_invalid"})
	}
	if msg := password.Check(in.Password); msg != "" {
		verr.Fields = append(verr.Fields, gardien.FieldError{Field: "password", Message: msg})
	}
	if len(verr.Fields) > 0 {
		return nil, verr
	}
	hash, err := s.Hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, fmt.Errorf("auth: signup: %w", err)
	}
	lang := ""
	if in.Lang != "" && in.Lang != s.DefaultLang {
		lang = in.Lang // remembered so that mails come in the language they chose
	}
	u := &gardien.User{Email: email, Name: name, Locale: lang, CreatedAt: s.Now().UTC()}
	if err := s.Store.CreateUser(ctx, u, key, hash); err != nil {
		if errors.Is(err, gardien.ErrDuplicate) {
			// Saying so reveals that the address has an account; a sign-up
			// form cannot avoid that without leaving the person puzzled, and
			// the answer costs a full hash, like a new account, so it is no
			// faster way to enumerate than the form itself.
			return nil, &gardien.Error{Code: gardien.CodeConflict, Message: "err.validation_failed",
				Fields: []gardien.FieldError{{Field: "email", Message: "err.email_taken"}}}
		}
		return nil, fmt.Errorf("auth: signup: %w", err)
	}
	if err := s.event(ctx, gardien.EventSignup, u.ID, u.ID, c, nil); err != nil {
		return nil, err
	}
	if err := s.sendVerification(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

func (s *Service) sendVerification(ctx context.Context, u *gardien.User) error {
	tok, hash := newToken()
	now := s.Now()
	if err := s.Store.CreateToken(ctx, kindVerifyEmail, hash, u.ID, now.Add(verifyTTL), now); err != nil {
		return fmt.Errorf("auth: verification token: %w", err)
	}
	s.send(ctx, mail.Letter{Kind: "verify_email", To: u.Email, Name: u.Name, Lang: s.langOf(u, ""),
		Link: s.Links.VerifyEmail(tok), Expires: now.Add(verifyTTL)})
	return nil
}

// ResendVerification mails a new validation link, unless the email is
// validated already (an error with code conflict says so).
func (s *Service) ResendVerification(ctx context.Context, userID int64) error {
	u, err := s.Store.UserByID(ctx, userID)
	if err != nil {
		return fmt.Errorf("auth: resend verification: %w", err)
	}
	if u.EmailVerified {
		return errAlreadyVerified
	}
	if err := s.mailAllowed(ctx, verifyMails, strconv.FormatInt(u.ID, 10)); err != nil {
		return err
	}
	return s.sendVerification(ctx, u)
}

// VerifyEmail uses a validation token and marks the email validated.
func (s *Service) VerifyEmail(ctx context.Context, token string, c gardien.Client) (*gardien.User, error) {
	if token == "" {
		return nil, gardien.Invalid("token", "err.field_required")
	}
	now := s.Now()
	userID, err := s.Store.ConsumeToken(ctx, kindVerifyEmail, hashToken(token), now)
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, errTokenInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("auth: verify email: %w", err)
	}
	if err := s.Store.SetEmailVerified(ctx, userID, now); err != nil {
		return nil, fmt.Errorf("auth: verify email: %w", err)
	}
	if err := s.event(ctx, gardien.EventEmailVerified, userID, userID, c, nil); err != nil {
		return nil, err
	}
	return s.Store.UserByID(ctx, userID)
}

// personOfEmail finds the account of an email an operator names.
func (s *Service) personOfEmail(ctx context.Context, rawEmail string) (*gardien.User, error) {
	_, key, ok := NormalizeEmail(rawEmail)
	if !ok {
		return nil, gardien.Invalid("email", "err.email_invalid")
	}
	u, _, err := s.Store.UserByEmail(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("auth: account of %s: %w", rawEmail, err)
	}
	return u, nil
}

// MarkEmailVerified validates an email on an operator's word (gardien user verify-email).
func (s *Service) MarkEmailVerified(ctx context.Context, rawEmail string) (*gardien.User, error) {
	u, err := s.personOfEmail(ctx, rawEmail)
	if err != nil {
		return nil, err
	}
	if err := s.Store.SetEmailVerified(ctx, u.ID, s.Now()); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	if err := s.event(ctx, gardien.EventEmailVerified, u.ID, 0, gardien.Client{IP: "operator"}, gardien.EventData{"operator": ""}); err != nil {
		return nil, err
	}
	u.EmailVerified = true
	return u, nil
}

// UpdateProfile changes a person's name and saved language ("" follows the browser).
func (s *Service) UpdateProfile(ctx context.Context, userID int64, name, lang string, known func(string) bool) (*gardien.User, error) {
	clean, msg := cleanName(name)
	if msg != "" {
		return nil, gardien.Invalid("name", msg)
	}
	if lang != "" && !known(lang) {
		return nil, gardien.Invalid("language", "err.language_unknown")
	}
	if err := s.Store.UpdateProfile(ctx, userID, clean, lang, s.Now()); err != nil {
		return nil, fmt.Errorf("auth: update profile: %w", err)
	}
	return s.Store.UserByID(ctx, userID)
}

// ChangePassword sets a new password after checking the current one (under
// the password limits), and ends the person's other sessions.
func (s *Service) ChangePassword(ctx context.Context, sess *gardien.Session, u *gardien.User, current, next string, c gardien.Client) error {
	if err := s.checkPassword(ctx, u, current, "current_password", c); err != nil {
		return err
	}
	if msg := password.Check(next); msg != "" {
		return gardien.Invalid("new_password", msg)
	}
	newHash, err := s.Hasher.Hash(ctx, next)
	if err != nil {
		return fmt.Errorf("auth: change password: %w", err)
	}
	if err := s.Store.SetPassword(ctx, sess.UserID, newHash, sess.ID, s.Now()); err != nil {
		return fmt.Errorf("auth: change password: %w", err)
	}
	if err := s.event(ctx, gardien.EventPasswordChanged, sess.UserID, sess.UserID, c, nil); err != nil {
		return err
	}
	s.send(ctx, mail.Letter{Kind: "password_changed", To: u.Email, Name: u.Name, Lang: s.langOf(u, ""), Link: s.Links.ForgotPassword()})
	return nil
}

// RequestPasswordReset mails a reset link if an account uses the email. The
// answer is the same either way, and so is the work done before it: the
// request checks the address and hands it off; the lookup, the link and
// the mail happen in the background. Neither wording nor timing tells
// which emails have accounts.
func (s *Service) RequestPasswordReset(ctx context.Context, rawEmail, lang string, c gardien.Client) error {
	_, key, ok := NormalizeEmail(rawEmail)
	if !ok {
		return gardien.Invalid("email", "err.email_invalid")
	}
	s.later(ctx, "password reset", func(ctx context.Context) {
		if err := s.mailReset(ctx, key, lang, c); err != nil {
			s.Log.ErrorContext(ctx, "password reset not mailed", "err", err)
		}
	})
	return nil
}

// mailReset makes a reset link for the account of an email, if any, and
// mails it, at most resetMailLimit times an hour per account.
func (s *Service) mailReset(ctx context.Context, key, lang string, c gardien.Client) error {
	u, _, err := s.Store.UserByEmail(ctx, key)
	if errors.Is(err, gardien.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("auth: password reset: %w", err)
	}
	if ok, err := s.allowMail(ctx, resetMails, strconv.FormatInt(u.ID, 10)); err != nil || !ok {
		return err
	}
	if u.SSO {
		// No password to reset: their identity provider keeps it. The mail
		// says so, to them only.
		s.send(ctx, mail.Letter{Kind: "sso_no_password", To: u.Email, Name: u.Name, Lang: s.langOf(u, lang), Link: s.Links.Login()})
		return nil
	}
	tok, hash := newToken()
	now := s.Now()
	if err := s.Store.CreateToken(ctx, kindResetPassword, hash, u.ID, now.Add(resetTTL), now); err != nil {
		return fmt.Errorf("auth: password reset: %w", err)
	}
	if err := s.event(ctx, gardien.EventPasswordResetRequested, u.ID, 0, c, nil); err != nil {
		return err
	}
	s.send(ctx, mail.Letter{Kind: "reset_password", To: u.Email, Name: u.Name, Lang: s.langOf(u, lang), Link: s.Links.ResetPassword(tok), Expires: now.Add(resetTTL)})
	return nil
}

// CheckResetToken says whether a reset link is still good, before the person types a password.
func (s *Service) CheckResetToken(ctx context.Context, token string) error {
	if _, err := s.Store.TokenUser(ctx, kindResetPassword, hashToken(token), s.Now()); err != nil {
		if errors.Is(err, gardien.ErrNotFound) {
			return errTokenInvalid
		}
		return fmt.Errorf("auth: reset token: %w", err)
	}
	return nil
}

// ResetPassword sets a new password with a mailed token and ends every
// session of the account. It logs nobody in: the person logs in next with
// the new password and, when they have one, their second factor, so a reset
// never bypasses 2FA.
func (s *Service) ResetPassword(ctx context.Context, token, next string, c gardien.Client) error {
	if msg := password.Check(next); msg != "" {
		return gardien.Invalid("password", msg)
	}
	now := s.Now()
	// Check before hashing so a bad link answers quickly; consume after, so
	// that a password refused above leaves the link usable.
	if err := s.CheckResetToken(ctx, token); err != nil {
		return err
	}
	hash, err := s.Hasher.Hash(ctx, next)
	if err != nil {
		return fmt.Errorf("auth: reset password: %w", err)
	}
	userID, err := s.Store.ConsumeToken(ctx, kindResetPassword, hashToken(token), now)
	if errors.Is(err, gardien.ErrNotFound) {
		return errTokenInvalid
	}
	if err != nil {
		return fmt.Errorf("auth: reset password: %w", err)
	}
	if err := s.Store.SetPassword(ctx, userID, hash, 0, now); err != nil {
		return fmt.Errorf("auth: reset password: %w", err)
	}
	// The link came by mail, so the person controls the address.
	if err := s.Store.SetEmailVerified(ctx, userID, now); err != nil {
		return fmt.Errorf("auth: reset password: %w", err)
	}
	if err := s.event(ctx, gardien.EventPasswordReset, userID, userID, c, nil); err != nil {
		return err
	}
	// Told afterwards too: when someone else holds the mailbox, this mail
	// is how the owner learns their password was reset.
	if u, err := s.Store.UserByID(ctx, userID); err == nil {
		s.send(ctx, mail.Letter{Kind: "password_reset_done", To: u.Email, Name: u.Name, Lang: s.langOf(u, ""), Link: s.Links.ForgotPassword()})
	} else {
		s.Log.ErrorContext(ctx, "password reset: mail not sent", "user_id", userID, "err", err)
	}
	return nil
}
