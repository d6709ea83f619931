package web

import (
	"net/http"

	"github.com/gardien/gardien/internal/httpx"
)

// handleSCIMToken turns SCIM on, or replaces its token, and shows the
// token on the Security & SSO page it answers with (never in a redirect).
func (h *Handler) handleSCIMToken(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) {
		return
	}
	p := h.securityData(w, r, cur)
	if p == nil {
		return
	}
	made, err := h.Auth.TurnOnSCIM(r.Context(), cur.User, p.Org.ID, httpx.Client(r))
	if err != nil {
		h.done(w, r, err, orgURL(r, "security")+"#scim", "")
		return
	}
	p.SCIM, p.SCIMMade = made.SCIMToken, made
	h.render(w, r, http.StatusCreated, "org_security", p)
}

// scimConfirmPage asks before a change that stops the identity provider's
// token: a new one, or SCIM off.
type scimConfirmPage struct {
	*securityPage
	Off bool
}

func (h *Handler) scimConfirm(off bool) func(http.ResponseWriter, *http.Request, *httpx.Current) {
	return func(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
		p := h.securityData(w, r, cur)
		if p == nil {
			return
		}
		if p.SCIM == nil {
			redirect(w, r, orgURL(r, "security")+"#scim")
			return
		}
		h.render(w, r, http.StatusOK, "org_scim_confirm", &scimConfirmPage{securityPage: p, Off: off})
	}
}

func (h *Handler) handleSCIMOff(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) {
		return
	}
	p := h.securityData(w, r, cur)
	if p == nil {
		return
	}
	h.done(w, r, h.Auth.TurnOffSCIM(r.Context(), cur.User, p.Org.ID, httpx.Client(r)), orgURL(r, "security")+"#scim", "scim.turned_off")
}
