package web

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/gardien/gardien/internal/scim"
)

// The pages that mails lead to. routes.go registers them under these
// paths, and Links makes the mails' links from the same constants, so a
// mail never points at a page that moved.
const (
	pathVerifyEmail       = "/verify-email"
	pathResetPassword     = "/password/reset"
	pathForgotPassword    = "/password/forgot"
	pathAcceptInvitation  = "/invitations/accept"
	pathLogin             = "/login"
	pathPasswordSettings  = "/settings/password"
	pathTwoFactorSettings = "/settings/two-factor"
	pathSessions          = "/settings/sessions"
	pathOIDCCallback      = "/sso/oidc/callback"
	pathSSOStart          = "/sso/start"
	pathSSOLink           = "/sso/link"
	pathSAMLFinish        = "/sso/saml/finish"
	pathConfirmEmail      = "/email/confirm"
	pathCheckup           = "/two-factor/checkup"
	// The OpenID Provider's pages (internal/oidcop serves the callback):
	// where a sign-in to an app continues after each step, and where it
	// ends, in the browser that did it.
	pathAppContinue = "/oauth/continue"
	pathAppCallback = "/oauth/authorize/callback"
	// pathForwardStart is where a protected host's proxy sends a browser
	// without a pass (authz.PathStart).
	pathForwardStart = "/authz/start"
	// PathSAMLACS is the route of SAML answers: identity providers post it
	// from their own site (server.New lets it through CrossOriginProtection).
	PathSAMLACS = "/sso/saml/{id}/acs"
)

// Links makes the absolute links of mails (auth.Links) under the base URL
// people reach Gardien at.
type Links struct {
	Base *url.URL
}

func (l Links) at(path, token string) string {
	u := *l.Base
	u.Path = l.Base.Path + path
	u.RawQuery = ""
	if token != "" {
		u.RawQuery = url.Values{"token": {token}}.Encode()
	}
	return u.String()
}

func (l Links) VerifyEmail(token string) string      { return l.at(pathVerifyEmail, token) }
func (l Links) ResetPassword(token string) string    { return l.at(pathResetPassword, token) }
func (l Links) AcceptInvitation(token string) string { return l.at(pathAcceptInvitation, token) }
func (l Links) ForgotPassword() string               { return l.at(pathForgotPassword, "") }
func (l Links) Login() string                        { return l.at(pathLogin, "") }
func (l Links) PasswordSettings() string             { return l.at(pathPasswordSettings, "") }
func (l Links) TwoFactorSettings() string            { return l.at(pathTwoFactorSettings, "") }
func (l Links) Sessions() string                     { return l.at(pathSessions, "") }
func (l Links) OIDCCallback() string                 { return l.at(pathOIDCCallback, "") }
func (l Links) SAMLMetadata(orgID int64) string      { return l.at(samlPath(orgID, "metadata"), "") }
func (l Links) SAMLACS(orgID int64) string           { return l.at(samlPath(orgID, "acs"), "") }

func samlPath(orgID int64, page string) string {
	return "/sso/saml/" + strconv.FormatInt(orgID, 10) + "/" + page
}
func (l Links) ConfirmEmail(token string) string { return l.at(pathConfirmEmail, token) }

// Issuer is the OpenID Provider's issuer: where apps discover Gardien.
func (l Links) Issuer() string { return strings.TrimSuffix(l.Base.String(), "/") }

// SCIM is the base URL of an organization's SCIM endpoints.
func (l Links) SCIM(orgID int64) string {
	return l.Issuer() + scim.Prefix + strconv.FormatInt(orgID, 10)
}

// Webhook is the page of an organization's webhook endpoint.
func (l Links) Webhook(orgID, id int64) string {
	return l.at("/organizations/"+strconv.FormatInt(orgID, 10)+"/webhooks/"+strconv.FormatInt(id, 10), "")
}
