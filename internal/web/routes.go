package web

import (
	"io/fs"
	"net/http"

	"github.com/gardien/gardien/internal/auth"
)

func (h *Handler) routes() {
	m := h.mux
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))

	m.HandleFunc("GET /{$}", h.guard(auth.AreaFull, h.handleHome))
	m.HandleFunc("GET /signup", h.handleSignupPage)
	m.HandleFunc("POST /signup", h.handleSignup)
	m.HandleFunc("GET /login", h.handleLoginPage)
	m.HandleFunc("POST /login", h.handleLogin)
	m.HandleFunc("POST /logout", h.guard(auth.AreaAny, h.handleLogout))
	m.HandleFunc("GET /verify-email", h.handleVerifyEmail)
	m.HandleFunc("POST /verify-email/resend", h.guard(auth.AreaFull, h.handleResendVerification))
	m.HandleFunc("GET /password/forgot", h.handleForgotPage)
	m.HandleFunc("POST /password/forgot", h.handleForgot)
	m.HandleFunc("GET /password/reset", h.handleResetPage)
	m.HandleFunc("POST /password/reset", h.handleReset)
	m.HandleFunc("POST /language", h.handleLanguage)

	m.HandleFunc("GET /settings", func(w http.ResponseWriter, r *http.Request) { redirect(w, r, "/settings/profile") })
	m.HandleFunc("GET /settings/profile", h.guard(auth.AreaFull, h.handleProfilePage))
	m.HandleFunc("POST /settings/profile", h.guard(auth.AreaFull, h.handleProfile))
	m.HandleFunc("GET /settings/password", h.guard(auth.AreaFull, h.handlePasswordPage))
	m.HandleFunc("POST /settings/password", h.guard(auth.AreaFull, h.handlePassword))
	m.HandleFunc("GET /organization", h.guard(auth.AreaFull, h.handleOrganization))

	m.HandleFunc("GET /settings/two-factor", h.guard(auth.AreaFull, h.handleTwoFactorPage))
	m.HandleFunc("POST /settings/two-factor/enable", h.guard(auth.AreaFull, h.handleTwoFactorEnable))
	m.HandleFunc("GET /settings/two-factor/activate", h.guard(auth.AreaFull, h.handleTwoFactorActivatePage))
	m.HandleFunc("POST /settings/two-factor/activate", h.guard(auth.AreaFull, h.handleTwoFactorActivate))
	m.HandleFunc("GET /settings/two-factor/disable", h.guard(auth.AreaFull, h.handleConfirmPage("disable")))
	m.HandleFunc("POST /settings/two-factor/disable", h.guard(auth.AreaFull, h.handleTwoFactorDisable))
	m.HandleFunc("GET /settings/two-factor/recovery-codes", h.guard(auth.AreaFull, h.handleConfirmPage("recovery-codes")))
	m.HandleFunc("POST /settings/two-factor/recovery-codes", h.guard(auth.AreaFull, h.handleRecoveryCodesRegenerate))
	m.HandleFunc("GET /login/two-factor", h.guard(auth.AreaSecondStep, h.handleSecondStepPage(false)))
	m.HandleFunc("POST /login/two-factor", h.guard(auth.AreaSecondStep, h.handleSecondStep(false)))
	m.HandleFunc("GET /login/recovery", h.guard(auth.AreaSecondStep, h.handleSecondStepPage(true)))
	m.HandleFunc("POST /login/recovery", h.guard(auth.AreaSecondStep, h.handleSecondStep(true)))

	m.HandleFunc("/", h.handleNotFound)
}

func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}
