package api

import "github.com/gardien/gardien/internal/auth"

func (h *Handler) routes() {
	m := h.mux
	m.HandleFunc("POST /api/v1/signup", h.open(h.handleSignup))
	m.HandleFunc("POST /api/v1/email/verify", h.open(h.handleVerifyEmail))
	m.HandleFunc("POST /api/v1/email/resend", h.guarded(auth.AreaSetup, h.handleResendVerification))
	m.HandleFunc("POST /api/v1/login", h.open(h.handleLogin))
	m.HandleFunc("POST /api/v1/logout", h.guarded(auth.AreaAny, h.handleLogout))
	m.HandleFunc("GET /api/v1/me", h.guarded(auth.AreaAny, h.handleMe))
	m.HandleFunc("PATCH /api/v1/me", h.guarded(auth.AreaFull, h.handleUpdateMe))
	m.HandleFunc("POST /api/v1/me/password", h.guarded(auth.AreaFull, h.handleChangePassword))
	m.HandleFunc("GET /api/v1/me/events", h.guarded(auth.AreaFull, h.handleMyEvents))
	m.HandleFunc("POST /api/v1/password/forgot", h.open(h.handleForgotPassword))
	m.HandleFunc("POST /api/v1/password/reset", h.open(h.handleResetPassword))
	m.HandleFunc("POST /api/v1/sso/start", h.open(h.handleSSOStart))

	m.HandleFunc("POST /api/v1/login/two-factor", h.guarded(auth.AreaSecondStep, h.handleLoginTwoFactor))
	m.HandleFunc("GET /api/v1/me/two-factor", h.guarded(auth.AreaFull, h.handleTwoFactorStatus))
	m.HandleFunc("POST /api/v1/me/two-factor/setup", h.guarded(auth.AreaSetup, h.handleTwoFactorSetup))
	m.HandleFunc("POST /api/v1/me/two-factor/activate", h.guarded(auth.AreaSetup, h.handleTwoFactorActivate))
	m.HandleFunc("POST /api/v1/me/two-factor/disable", h.guarded(auth.AreaFull, h.handleTwoFactorDisable))
	m.HandleFunc("POST /api/v1/me/two-factor/recovery-codes", h.guarded(auth.AreaFull, h.handleRecoveryCodes))

	m.HandleFunc("POST /api/v1/organizations", h.guarded(auth.AreaFull, h.handleCreateOrg))
	m.HandleFunc("GET /api/v1/organizations", h.guarded(auth.AreaFull, h.handleListOrgs))
	m.HandleFunc("POST /api/v1/organizations/{id}/invitations", h.guarded(auth.AreaFull, inOrg(h.handleInvite)))
	m.HandleFunc("GET /api/v1/organizations/{id}/invitations", h.guarded(auth.AreaFull, inOrg(h.handleListInvitations)))
	m.HandleFunc("DELETE /api/v1/organizations/{id}/invitations/{inv}", h.guarded(auth.AreaFull, inOrg(h.handleRevokeInvitation)))
	m.HandleFunc("POST /api/v1/invitations/accept", h.guarded(auth.AreaFull, h.handleAcceptInvitation))
	m.HandleFunc("GET /api/v1/organizations/{id}/members", h.guarded(auth.AreaFull, inOrg(h.handleMembers)))
	m.HandleFunc("PUT /api/v1/organizations/{id}/members/{user}", h.guarded(auth.AreaFull, inOrg(h.handleSetRole)))
	m.HandleFunc("DELETE /api/v1/organizations/{id}/members/{user}", h.guarded(auth.AreaFull, h.memberAction(h.auth.RemoveMember)))
	m.HandleFunc("DELETE /api/v1/organizations/{id}/members/{user}/two-factor", h.guarded(auth.AreaFull, h.memberAction(h.auth.ResetMemberTwoFactor)))
	m.HandleFunc("POST /api/v1/organizations/{id}/reminders", h.guarded(auth.AreaFull, inOrg(h.handleRemind)))
	m.HandleFunc("GET /api/v1/organizations/{id}/security", h.guarded(auth.AreaFull, inOrg(h.handleGetSecurity)))
	m.HandleFunc("PUT /api/v1/organizations/{id}/security", h.guarded(auth.AreaFull, inOrg(h.handleSetSecurity)))
	m.HandleFunc("GET /api/v1/organizations/{id}/sso", h.guarded(auth.AreaFull, inOrg(h.handleGetSSO)))
	m.HandleFunc("PUT /api/v1/organizations/{id}/sso", h.guarded(auth.AreaFull, inOrg(h.handlePutSSO)))
	m.HandleFunc("DELETE /api/v1/organizations/{id}/sso", h.guarded(auth.AreaFull, inOrg(h.handleDeleteSSO)))
	m.HandleFunc("POST /api/v1/organizations/{id}/sso/domains/{domain}/verify", h.guarded(auth.AreaFull, inOrg(h.handleVerifySSODomain)))
	m.HandleFunc("POST /api/v1/organizations/{id}/sso/test", h.guarded(auth.AreaFull, inOrg(h.handleTestSSO)))
	m.HandleFunc("GET /api/v1/organizations/{id}/events", h.guarded(auth.AreaFull, inOrg(h.handleAuditLog)))
	m.HandleFunc("GET /api/v1/organizations/{id}/events.jsonl", h.guarded(auth.AreaFull, inOrg(h.handleAuditExport)))
}
