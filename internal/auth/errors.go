package auth

import "github.com/gardien/gardien"

// The domain errors of the rules, in one place: each a stable code for
// programs and a catalog key for people.
var (
	errInvalidCredentials = gardien.Errorf(gardien.CodeInvalidCredentials, "err.invalid_credentials")
	errTokenInvalid       = gardien.Errorf(gardien.CodeInvalidToken, "err.token_invalid")
	errForbidden          = gardien.Errorf(gardien.CodeForbidden, "err.forbidden")
	errOrgNotFound        = gardien.Errorf(gardien.CodeNotFound, "err.org_not_found")
	errLastOwner          = gardien.Errorf(gardien.CodeConflict, "err.last_owner")
	errNeedOwnTwoFA       = gardien.Errorf(gardien.CodeForbidden, "err.require_own_two_factor")
	errNeedOwnKey         = gardien.Errorf(gardien.CodeForbidden, "err.require_own_key")
	errInviteInvalid      = gardien.Errorf(gardien.CodeInvalidToken, "err.invitation_invalid")
	errTwoFactorRequired  = gardien.Errorf(gardien.CodeTwoFactorRequired, "err.two_factor_required")
	errSetupRequired      = gardien.Errorf(gardien.CodeTwoFactorSetupRequired, "err.two_factor_setup_required")
	errInvalidCode        = gardien.Errorf(gardien.CodeInvalidCode, "err.invalid_code")
	errAlreadyEnabled     = gardien.Errorf(gardien.CodeTwoFactorAlreadyEnabled, "err.two_factor_already_enabled")
	errNotVerified        = gardien.Errorf(gardien.CodeEmailNotVerified, "err.email_not_verified")
	errSSOUser            = gardien.Errorf(gardien.CodeSSOUser, "err.sso_user")
	errNoPending          = gardien.Errorf(gardien.CodeConflict, "err.no_pending_setup")
	errTwoFactorMissing   = gardien.Errorf(gardien.CodeConflict, "err.two_factor_not_enabled")
	errUnauthorized       = gardien.Errorf(gardien.CodeUnauthorized, "err.unauthorized")
	errMemberNotFound     = gardien.Errorf(gardien.CodeNotFound, "err.member_not_found")
	errNoSecondStep       = gardien.Errorf(gardien.CodeConflict, "err.no_second_step")
	errAlreadyVerified    = gardien.Errorf(gardien.CodeConflict, "verify.already")
	errResetOwnTwoFactor  = gardien.Errorf(gardien.CodeForbidden, "err.reset_own_two_factor")
	errSSONotConfigured   = gardien.Errorf(gardien.CodeNotFound, "err.sso_not_configured")
	errDomainUnclaimed    = gardien.Errorf(gardien.CodeNotFound, "err.sso_domain_unclaimed")
	errDomainTaken        = gardien.Errorf(gardien.CodeConflict, "err.sso_domain_taken")
	errSSOFailed          = gardien.Errorf(gardien.CodeSSOFailed, "err.sso_failed")
	errSSOLinkRequired    = gardien.Errorf(gardien.CodeConflict, "err.sso_link_required")
	errSSORequired        = gardien.Errorf(gardien.CodeSSORequired, "err.sso_required")
	errSSOLinkOnly        = gardien.Errorf(gardien.CodeSSORequired, "err.sso_link_only")
	errSignOutSelf        = gardien.Errorf(gardien.CodeConflict, "err.sign_out_self")
	// errNoSuchLogin: an answer to no pending login (unknown, used or late).
	errNoSuchLogin = gardien.Errorf(gardien.CodeSSOFailed, "err.sso_failed")
	// errIdPInitiatedOff: an answer to a login the identity provider
	// started, which the connection does not accept.
	errIdPInitiatedOff = gardien.Errorf(gardien.CodeSSOFailed, "err.sso_idp_initiated")
	// errAccountDisabled is said only after the right password (or the
	// provider's word): it tells nothing to someone guessing.
	errAccountDisabled       = gardien.Errorf(gardien.CodeForbidden, "err.account_disabled")
	errInvalidCredentialsSSO = gardien.Errorf(gardien.CodeInvalidCredentials, "err.invalid_credentials_sso")
	errSSONoPassword         = gardien.Errorf(gardien.CodeSSOUser, "err.sso_user_password")
	errNoSSOForDomain        = gardien.Errorf(gardien.CodeSSONotConfigured, "err.sso_not_configured_domain")
)
