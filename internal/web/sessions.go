package web

import (
	"net/http"
	"strconv"

	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
)

type sessionsPage struct {
	Page
	Sessions []auth.OpenSession
	Alerts   bool // new sign-in alerts on
}

// handleSessionsPage is Personal settings → Sessions: where the person is
// logged in.
func (h *Handler) handleSessionsPage(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	list, err := h.Auth.Sessions(r.Context(), cur.Session)
	if err != nil {
		h.Fail(w, r, err)
		return
	}
	p := sessionsPage{Page: h.newPage(r, "settings.title"), Sessions: list}
	if p.Alerts, err = h.Auth.SignInAlerts(r.Context(), cur.User.ID); err != nil {
		h.Fail(w, r, err)
		return
	}
	p.Section = "sessions"
	h.render(w, r, http.StatusOK, "settings_sessions", &p)
}

func (h *Handler) handleEndSession(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	id := pathID(r, "session")
	err := h.Auth.EndSession(r.Context(), cur.Session, id, httpx.Client(r))
	if err == nil && id == cur.Session.ID {
		h.Cookies.Clear(w)
		redirect(w, r, pathLogin)
		return
	}
	h.done(w, r, err, "/settings/sessions", "sessions.ended")
}

func (h *Handler) handleEndOtherSessions(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	n, err := h.Auth.EndOtherSessions(r.Context(), cur.Session, httpx.Client(r))
	h.done(w, r, err, "/settings/sessions", "sessions.others_ended", strconv.FormatInt(n, 10))
}

// handleSignInAlerts turns the mail about sign-ins from new browsers on or
// off (a checkbox: absent is off).
func (h *Handler) handleSignInAlerts(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) {
		return
	}
	on := r.PostForm.Get("alerts") == "on"
	said := "sessions.alerts_off"
	if on {
		said = "sessions.alerts_on"
	}
	h.done(w, r, h.Auth.SetSignInAlerts(r.Context(), cur.User.ID, on, httpx.Client(r)), "/settings/sessions#alerts", said)
}
