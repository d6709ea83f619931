package web

import (
	"html/template"
	"net/http"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
	"github.com/gardien/gardien/internal/totp"
)

const pathNewApp = "/settings/two-factor/new-app"

type newAppPage struct {
	Page
	CodeLabel string
}

// handleNewAppPage asks, before a move to a new authenticator app, for
// the password and a code of the app in use (or a recovery code).
func (h *Handler) handleNewAppPage(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	h.renderNewApp(w, r, cur, http.StatusOK, nil)
}

func (h *Handler) renderNewApp(w http.ResponseWriter, r *http.Request, cur *httpx.Current, status int, err error) {
	if !cur.User.AppEnabled {
		redirect(w, r, pathTwoFactorSettings)
		return
	}
	p := newAppPage{Page: h.newPage(r, "tfa.title"), CodeLabel: "tfa.current_code"}
	p.Section = "two-factor"
	if err != nil {
		h.renderError(w, r, err, "two_factor_new_app", &p)
		return
	}
	h.render(w, r, status, "two_factor_new_app", &p)
}

func (h *Handler) handleNewApp(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) {
		return
	}
	code, recovery := auth.ProofOf(r.PostForm.Get("code"))
	if _, err := h.Auth.BeginNewApp(r.Context(), cur.User, r.PostForm.Get("password"), code, recovery, httpx.Client(r)); err != nil {
		if e, ok := gardien.AsError(err); ok && e.Code == gardien.CodeRateLimited {
			w.Header().Set("Retry-After", httpx.RetryAfter(e.RetryAfter))
		}
		h.renderNewApp(w, r, cur, 0, err)
		return
	}
	redirect(w, r, pathNewApp+"/scan")
}

func (h *Handler) handleNewAppScanPage(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	h.renderNewAppScan(w, r, cur, http.StatusOK, nil)
}

// renderNewAppScan shows the new app's QR code and secret, and asks for
// its first code.
func (h *Handler) renderNewAppScan(w http.ResponseWriter, r *http.Request, cur *httpx.Current, status int, err error) {
	e, perr := h.Auth.NextApp(r.Context(), cur.User)
	if perr != nil {
		if _, ok := gardien.AsError(perr); ok {
			h.setFlash(w, "error", "err.no_new_app")
			redirect(w, r, pathNewApp)
			return
		}
		h.Fail(w, r, perr)
		return
	}
	p := activatePage{Page: h.newPage(r, "tfa.title"), QR: template.URL(totp.DataURL(e.QRPNG)), Secret: totp.Group(e.Secret),
		CodeLabel: "tfa.code_from_app", Action: pathNewApp + "/scan", Heading: "tfa.new_app", Intro: "tfa.new_app_scan", Button: "tfa.new_app_confirm",
		Expires: "tfa.new_app_expires"}
	p.Section = "two-factor"
	if err != nil {
		h.renderError(w, r, err, "two_factor_activate", &p)
		return
	}
	h.render(w, r, status, "two_factor_activate", &p)
}

func (h *Handler) handleNewAppScan(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) {
		return
	}
	if err := h.Auth.ConfirmNewApp(r.Context(), cur.User, r.PostForm.Get("code"), httpx.Client(r)); err != nil {
		if gardien.ErrorCode(err) == gardien.CodeInvalidCode {
			h.renderNewAppScan(w, r, cur, 0, err)
			return
		}
		h.done(w, r, err, pathNewApp, "")
		return
	}
	h.setFlash(w, "ok", "tfa.new_app_done")
	redirect(w, r, pathTwoFactorSettings)
}
