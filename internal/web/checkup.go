package web

import (
	"net/http"
	"net/url"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
)

// checkupPage asks, 28 days after 2FA was turned on, whether the app still
// gives codes and the recovery codes are kept.
type checkupPage struct {
	Page
	State     *auth.CheckupState
	Next      string
	CodeLabel string
}

// checkupAfterLogin is where a login that just passed its second step goes:
// the check-up when it is due, else next. The check-up helps; it never
// stands in the way.
func checkupAfterLogin(due bool, next string) string {
	if !due {
		return orHome(next)
	}
	return pathCheckup + "?" + url.Values{"next": {next}}.Encode()
}

func (h *Handler) handleCheckupPage(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	next := localPath(r.URL.Query().Get("next"))
	st, err := h.Auth.Checkup(r.Context(), cur.User)
	if err != nil {
		h.Fail(w, r, err)
		return
	}
	if !st.Due {
		redirect(w, r, orHome(next))
		return
	}
	h.render(w, r, http.StatusOK, "two_factor_checkup", &checkupPage{Page: h.newPage(r, "checkup.title"), State: st, Next: next, CodeLabel: "tfa.code_from_app"})
}

func (h *Handler) handleCheckup(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) {
		return
	}
	next := localPath(r.PostForm.Get("next"))
	err := h.Auth.FinishCheckup(r.Context(), cur.User, r.PostForm.Get("code"), httpx.Client(r))
	switch {
	case err == nil:
		h.setFlash(w, "ok", "checkup.done")
		h.goOn(w, r, orHome(next))
	case gardien.ErrorCode(err) == gardien.CodeConflict: // nothing due (answered already)
		h.goOn(w, r, orHome(next))
	default:
		st, serr := h.Auth.Checkup(r.Context(), cur.User)
		if serr != nil {
			h.Fail(w, r, serr)
			return
		}
		if e, ok := gardien.AsError(err); ok && e.Code == gardien.CodeRateLimited {
			w.Header().Set("Retry-After", httpx.RetryAfter(e.RetryAfter))
		}
		h.renderError(w, r, err, "two_factor_checkup", &checkupPage{Page: h.newPage(r, "checkup.title"), State: st, Next: next, CodeLabel: "tfa.code_from_app"})
	}
}

func (h *Handler) handleCheckupLater(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) {
		return
	}
	next := localPath(r.PostForm.Get("next"))
	_, err := h.Auth.PostponeCheckup(r.Context(), cur.User, httpx.Client(r))
	switch {
	case err == nil:
		h.setFlash(w, "info", "checkup.postponed")
		h.goOn(w, r, orHome(next))
	case gardien.ErrorCode(err) == gardien.CodeConflict:
		h.done(w, r, err, pathCheckup+"?"+url.Values{"next": {next}}.Encode(), "")
	default:
		h.Fail(w, r, err)
	}
}
