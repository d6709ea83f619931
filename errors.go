package gardien

import (
	"errors"
	"fmt"
	"time"
)

// Code is a stable error code, part of the JSON API contract.
type Code string

// The codes of the API contract. Never rename one: outside tools depend on them.
const (
	CodeInvalidCredentials      Code = "invalid_credentials"
	CodeInvalidCode             Code = "invalid_code"
	CodeEmailNotVerified        Code = "email_not_verified"
	CodeSSOUser                 Code = "sso_user"
	CodeTwoFactorAlreadyEnabled Code = "two_factor_already_enabled"
	CodeTwoFactorRequiredByOrg  Code = "two_factor_required_by_organization"
	CodeRateLimited             Code = "rate_limited"
	CodeTwoFactorRequired       Code = "two_factor_required"
	CodeTwoFactorSetupRequired  Code = "two_factor_setup_required"
	CodeForbidden               Code = "forbidden"
	CodeNotFound                Code = "not_found"
	CodeValidationFailed        Code = "validation_failed"
	// CodeBodyTooLarge: a request body over the size a call takes.
	CodeBodyTooLarge Code = "body_too_large"
	// CodeMalformed: a page's form that cannot be read as one (a malformed
	// encoding, another Content-Type). The API says validation_failed.
	CodeMalformed    Code = "malformed"
	CodeUnauthorized Code = "unauthorized"
	CodeConflict     Code = "conflict"
	CodeInvalidToken Code = "invalid_token"
	CodeInternal     Code = "internal"
	// CodeUnavailable: the database cannot be reached now; try again soon.
	CodeUnavailable Code = "unavailable"
	// Single sign-on: no organization's provider serves this email's
	// domain; the provider's answer could not be trusted or used.
	CodeSSONotConfigured Code = "sso_not_configured"
	CodeSSOFailed        Code = "sso_failed"
	// CodeSSORequired: the organization of this email's domain requires
	// its people to log in through its identity provider.
	CodeSSORequired Code = "sso_required"
)

// Error is a domain error: a stable Code for programs, and a message id
// (looked up in the i18n catalog) for people. Its Code becomes an HTTP
// status in one table, httpx.Status, for the pages and the API alike.
type Error struct {
	Code    Code
	Message string       // catalog key, e.g. "err.invalid_credentials"
	Fields  []FieldError // for CodeValidationFailed: what is wrong with which field
	// RetryAfter is set with CodeRateLimited: how long until a try is heard again.
	RetryAfter time.Duration
	// Args fill the message's blanks (an organization's name …).
	Args []any
}

// FieldError says what is wrong with one input field.
type FieldError struct {
	Field   string // the field's name in forms and JSON bodies
	Message string // catalog key
}

func (e *Error) Error() string {
	if len(e.Fields) > 0 {
		return fmt.Sprintf("%s: %s (%s: %s)", e.Code, e.Message, e.Fields[0].Field, e.Fields[0].Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf makes a domain error with a code and a catalog key.
func Errorf(code Code, message string) *Error {
	return &Error{Code: code, Message: message}
}

// Invalid makes a validation error about one field.
func Invalid(field, message string) *Error {
	return &Error{Code: CodeValidationFailed, Message: "err.validation_failed",
		Fields: []FieldError{{Field: field, Message: message}}}
}

// ErrorCode returns the code of err, or CodeInternal for anything that is
// not a domain error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// AsError returns the domain error inside err, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Errors the store returns; auth turns them into domain errors.
var (
	ErrNotFound  = errors.New("not found")
	ErrDuplicate = errors.New("duplicate")
	// ErrUsed: a single-use token (an authorization code) was used already.
	ErrUsed = errors.New("used already")
	// ErrLastFactor: the change would leave a person whom an organization
	// requires 2FA of without a second factor.
	ErrLastFactor = errors.New("last second factor")
	// ErrLastOwner: the change would leave an organization without an owner.
	ErrLastOwner = errors.New("last owner")
	// ErrAlreadyMember, ErrAlreadyInvited: an invitation to a person who
	// belongs to the organization, or holds a live invitation to it.
	ErrAlreadyMember  = errors.New("already a member")
	ErrAlreadyInvited = errors.New("already invited")
	// ErrTooMany: the change would pass a limit of how many there may be.
	ErrTooMany = errors.New("too many")
	// ErrUnavailable: the database cannot be reached or did not answer in
	// time. Nothing is known about the request's subject: a session is not
	// "unknown", a person not "logged out".
	ErrUnavailable = errors.New("storage unavailable")
)

// LastOwnerError names the organizations a person is the last owner of
// (they cannot leave them ownerless); it is an ErrLastOwner.
type LastOwnerError struct{ Organizations []string }

func (e *LastOwnerError) Error() string {
	return fmt.Sprintf("last owner of %d organization(s)", len(e.Organizations))
}

func (e *LastOwnerError) Unwrap() error { return ErrLastOwner }
