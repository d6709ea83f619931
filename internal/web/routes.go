package web

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/gardien/gardien/internal/auth"
)

func (h *Handler) routes() {
	m := h.mux
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(noListing(http.FileServerFS(static)))))

	m.HandleFunc("GET /{$}", h.guard(auth.AreaFull, h.handleHome))
	m.HandleFunc("GET /signup", h.handleSignupPage)
	m.HandleFunc("POST /signup", h.handleSignup)
	m.HandleFunc("GET "+pathLogin, h.handleLoginPage)
	m.HandleFunc("POST "+pathLogin, h.handleLogin)
	m.HandleFunc("POST /login/passkey/options", h.handlePasskeyLoginOptions)
	m.HandleFunc("POST /login/passkey", h.handlePasskeyLogin)
	m.HandleFunc("POST /logout", h.guard(auth.AreaAny, h.handleLogout))
	m.HandleFunc("GET "+pathVerifyEmail, h.handleVerifyEmail)
	m.HandleFunc("POST /verify-email/resend", h.guard(auth.AreaSetup, h.handleResendVerification))
	m.HandleFunc("GET "+pathForgotPassword, h.handleForgotPage)
	m.HandleFunc("POST "+pathForgotPassword, h.handleForgot)
	m.HandleFunc("GET "+pathResetPassword, h.handleResetPage)
	m.HandleFunc("POST "+pathResetPassword, h.handleReset)
	m.HandleFunc("POST /language", h.handleLanguage)
	m.HandleFunc("GET "+pathSSOStart, h.handleSSOStart)
	m.HandleFunc("GET /login/sso", h.handleSSOFromLoginPage)
	m.HandleFunc("GET "+pathOIDCCallback, h.handleOIDCCallback)
	m.HandleFunc("GET /sso/saml/{id}/metadata", h.handleSAMLMetadata)
	m.HandleFunc("POST "+PathSAMLACS, h.handleSAMLACS)
	m.HandleFunc("GET "+pathSAMLFinish, h.handleSAMLFinish)
	m.HandleFunc("GET "+pathAppContinue, h.handleAppContinue)
	m.HandleFunc("GET "+pathForwardStart, h.handleForwardStart)
	m.HandleFunc("GET "+pathSSOLink, h.guard(auth.AreaSSOLink, h.handleSSOLinkPage))
	m.HandleFunc("POST "+pathSSOLink, h.guard(auth.AreaSSOLink, h.handleSSOLink))

	m.HandleFunc("GET /settings", func(w http.ResponseWriter, r *http.Request) { redirect(w, r, "/settings/profile") })
	m.HandleFunc("GET /settings/profile", h.guard(auth.AreaFull, h.handleProfilePage))
	m.HandleFunc("POST /settings/profile", h.guard(auth.AreaFull, h.handleProfile))
	m.HandleFunc("GET /settings/delete", h.guard(auth.AreaFull, h.handleDeletePage))
	m.HandleFunc("POST /settings/delete", h.guard(auth.AreaFull, h.handleDelete))
	m.HandleFunc("POST /settings/email", h.guard(auth.AreaFull, h.handleEmailChange))
	m.HandleFunc("GET "+pathConfirmEmail, h.handleConfirmEmail)
	m.HandleFunc("GET /settings/sessions", h.guard(auth.AreaFull, h.handleSessionsPage))
	m.HandleFunc("POST /settings/sessions/{session}/end", h.guard(auth.AreaFull, h.handleEndSession))
	m.HandleFunc("POST /settings/sessions/end-others", h.guard(auth.AreaFull, h.handleEndOtherSessions))
	m.HandleFunc("POST /settings/sessions/alerts", h.guard(auth.AreaFull, h.handleSignInAlerts))
	m.HandleFunc("GET "+pathPasswordSettings, h.guard(auth.AreaFull, h.handlePasswordPage))
	m.HandleFunc("POST "+pathPasswordSettings, h.guard(auth.AreaFull, h.handlePassword))
	m.HandleFunc("GET /organization", h.guard(auth.AreaFull, h.handleOrganization))
	m.HandleFunc("POST /organizations", h.guard(auth.AreaFull, h.handleCreateOrg))
	m.HandleFunc("GET /organizations/{id}/overview", h.guard(auth.AreaFull, h.handleOrgOverview))
	m.HandleFunc("GET /organizations/{id}/leave", h.guard(auth.AreaFull, h.handleLeaveConfirm))
	m.HandleFunc("POST /organizations/{id}/leave", h.guard(auth.AreaFull, h.handleLeave))
	m.HandleFunc("GET /organizations/{id}/members", h.guard(auth.AreaFull, h.handleMembers))
	m.HandleFunc("POST /organizations/{id}/invitations", h.guard(auth.AreaFull, h.handleInvite))
	m.HandleFunc("POST /organizations/{id}/invitations/{inv}/revoke", h.guard(auth.AreaFull, h.handleRevoke))
	m.HandleFunc("POST /organizations/{id}/members/{user}/role", h.guard(auth.AreaFull, h.handleRole))
	m.HandleFunc("GET /organizations/{id}/members/{user}/remove", h.guard(auth.AreaFull, h.handleRemoveConfirm))
	m.HandleFunc("POST /organizations/{id}/members/{user}/remove", h.guard(auth.AreaFull, h.handleRemove))
	m.HandleFunc("GET /organizations/{id}/members/{user}/reset-two-factor", h.guard(auth.AreaFull, h.handleResetConfirm))
	m.HandleFunc("POST /organizations/{id}/members/{user}/reset-two-factor", h.guard(auth.AreaFull, h.handleResetMember))
	m.HandleFunc("GET /organizations/{id}/members/{user}/sign-out", h.guard(auth.AreaFull, h.handleSignOutConfirm))
	m.HandleFunc("POST /organizations/{id}/members/{user}/sign-out", h.guard(auth.AreaFull, h.handleSignOutMember))
	m.HandleFunc("POST /organizations/{id}/reminders", h.guard(auth.AreaFull, h.handleRemind))
	m.HandleFunc("GET /organizations/{id}/general", h.guard(auth.AreaFull, h.handleGeneral))
	m.HandleFunc("GET /organizations/{id}/audit", h.guard(auth.AreaFull, h.handleAudit))
	m.HandleFunc("GET /organizations/{id}/security", h.guard(auth.AreaFull, h.handleSecurity))
	m.HandleFunc("GET /organizations/{id}/security/confirm", h.guard(auth.AreaFull, h.handleSecurityConfirm))
	m.HandleFunc("POST /organizations/{id}/security", h.guard(auth.AreaFull, h.handleSetSecurity))
	m.HandleFunc("POST /organizations/{id}/security/keys", h.guard(auth.AreaFull, h.handleSetKeyOption))
	m.HandleFunc("POST /organizations/{id}/rename", h.guard(auth.AreaFull, h.handleRenameOrg))
	m.HandleFunc("GET /organizations/{id}/delete", h.guard(auth.AreaFull, h.handleDeleteOrgPage))
	m.HandleFunc("POST /organizations/{id}/delete", h.guard(auth.AreaFull, h.handleDeleteOrg))
	m.HandleFunc("POST /organizations/{id}/sso", h.guard(auth.AreaFull, h.handleSaveSSO))
	m.HandleFunc("POST /organizations/{id}/sso/domains/{domain}/verify", h.guard(auth.AreaFull, h.handleVerifySSODomain))
	m.HandleFunc("POST /organizations/{id}/sso/test", h.guard(auth.AreaFull, h.handleTestSSO))
	m.HandleFunc("GET /organizations/{id}/sso/delete", h.guard(auth.AreaFull, h.handleSSODeleteConfirm))
	m.HandleFunc("POST /organizations/{id}/sso/delete", h.guard(auth.AreaFull, h.handleDeleteSSO))
	m.HandleFunc("GET /organizations/{id}/apps", h.guard(auth.AreaFull, h.handleAppsPage))
	m.HandleFunc("GET /organizations/{id}/apps/new", h.guard(auth.AreaFull, h.handleNewAppForm))
	m.HandleFunc("POST /organizations/{id}/apps", h.guard(auth.AreaFull, h.handleCreateApp))
	m.HandleFunc("GET /organizations/{id}/apps/{app}", h.guard(auth.AreaFull, h.handleAppPage))
	m.HandleFunc("POST /organizations/{id}/apps/{app}", h.guard(auth.AreaFull, h.handleUpdateApp))
	m.HandleFunc("GET /organizations/{id}/apps/{app}/secret", h.guard(auth.AreaFull, h.handleAppConfirm("secret")))
	m.HandleFunc("POST /organizations/{id}/apps/{app}/secret", h.guard(auth.AreaFull, h.handleRotateAppSecret))
	m.HandleFunc("GET /organizations/{id}/apps/{app}/delete", h.guard(auth.AreaFull, h.handleAppConfirm("delete")))
	m.HandleFunc("POST /organizations/{id}/apps/{app}/delete", h.guard(auth.AreaFull, h.handleDeleteApp))
	m.HandleFunc("GET /settings/apps", h.guard(auth.AreaFull, h.handleSignInsPage))
	m.HandleFunc("POST /settings/apps/{app}/sign-out", h.guard(auth.AreaFull, h.handleSignOutOfApp))
	m.HandleFunc("GET "+pathAcceptInvitation, h.handleInvitationPage)
	m.HandleFunc("POST "+pathAcceptInvitation, h.guard(auth.AreaFull, h.handleAcceptInvitation))
	m.HandleFunc("GET /two-factor/setup", h.guard(auth.AreaSetup, h.handleSetupRequired))
	m.HandleFunc("POST /two-factor/setup/enable", h.guard(auth.AreaSetup, h.handleTwoFactorEnable))
	m.HandleFunc("GET /two-factor/setup/activate", h.guard(auth.AreaSetup, h.handleTwoFactorActivatePage))
	m.HandleFunc("POST /two-factor/setup/activate", h.guard(auth.AreaSetup, h.handleTwoFactorActivate))

	m.HandleFunc("GET "+pathTwoFactorSettings, h.guard(auth.AreaFull, h.handleTwoFactorPage))
	m.HandleFunc("POST /settings/two-factor/enable", h.guard(auth.AreaFull, h.handleTwoFactorEnable))
	m.HandleFunc("GET /settings/two-factor/activate", h.guard(auth.AreaFull, h.handleTwoFactorActivatePage))
	m.HandleFunc("POST /settings/two-factor/activate", h.guard(auth.AreaFull, h.handleTwoFactorActivate))
	m.HandleFunc("GET /settings/two-factor/disable", h.guard(auth.AreaFull, h.handleConfirmPage("disable")))
	m.HandleFunc("POST /settings/two-factor/disable", h.guard(auth.AreaFull, h.handleTwoFactorDisable))
	m.HandleFunc("GET /settings/two-factor/new-app", h.guard(auth.AreaFull, h.handleNewAppPage))
	m.HandleFunc("POST /settings/two-factor/new-app", h.guard(auth.AreaFull, h.handleNewApp))
	m.HandleFunc("GET /settings/two-factor/new-app/scan", h.guard(auth.AreaFull, h.handleNewAppScanPage))
	m.HandleFunc("POST /settings/two-factor/new-app/scan", h.guard(auth.AreaFull, h.handleNewAppScan))
	m.HandleFunc("GET /settings/two-factor/recovery-codes", h.guard(auth.AreaFull, h.handleConfirmPage("recovery-codes")))
	m.HandleFunc("POST /settings/two-factor/recovery-codes", h.guard(auth.AreaFull, h.handleRecoveryCodesRegenerate))
	m.HandleFunc("GET "+pathCheckup, h.guard(auth.AreaFull, h.handleCheckupPage))
	m.HandleFunc("POST "+pathCheckup, h.guard(auth.AreaFull, h.handleCheckup))
	m.HandleFunc("POST /two-factor/checkup/later", h.guard(auth.AreaFull, h.handleCheckupLater))
	m.HandleFunc("GET /login/two-factor", h.guard(auth.AreaSecondStep, h.handleSecondStepPage(stepCode)))
	h.ownSession("POST /login/two-factor", h.handleSecondStep(stepCode))
	m.HandleFunc("GET /login/recovery", h.guard(auth.AreaSecondStep, h.handleSecondStepPage(stepRecovery)))
	h.ownSession("POST /login/recovery", h.handleSecondStep(stepRecovery))
	m.HandleFunc("POST /login/two-factor/key/options", h.guard(auth.AreaSecondStep, h.handleKeyProofOptions))
	h.ownSession("POST /login/two-factor/key", h.handleSecondStep(stepKey))

	m.HandleFunc("POST /two-factor/keys/options", h.guard(auth.AreaSetup, h.handleNewKeyOptions))
	m.HandleFunc("POST /two-factor/keys/challenge", h.guard(auth.AreaFull, h.handleKeyProofOptions))
	m.HandleFunc("POST /two-factor/setup/keys", h.guard(auth.AreaSetup, h.handleAddKey))
	m.HandleFunc("POST /settings/two-factor/keys", h.guard(auth.AreaFull, h.handleAddKey))
	m.HandleFunc("POST /settings/two-factor/keys/{key}/rename", h.guard(auth.AreaFull, h.handleRenameKey))
	m.HandleFunc("GET /settings/two-factor/keys/{key}/remove", h.guard(auth.AreaFull, h.handleKeyRemovalPage))
	m.HandleFunc("POST /settings/two-factor/keys/{key}/remove", h.guard(auth.AreaFull, h.handleRemoveKey))

	m.HandleFunc("/", h.handleNotFound)
}

// noListing answers 404 for a directory: the static files are for pages
// to use, not to browse.
func noListing(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}
