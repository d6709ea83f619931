package web

import (
	"net/http"
	"net/url"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/httpx"
)

// handleSSOStart sends a person to their organization's identity provider
// (the login page's "Log in with SSO"), or back to the login page saying
// why not.
func (h *Handler) handleSSOStart(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	next := localPath(q.Get("next"))
	email := q.Get("email") // GET /sso/start?email=…; the login page's field is sso_email
	if email == "" {
		email = q.Get("sso_email")
	}
	to, err := h.Auth.StartSSO(r.Context(), email, next)
	if err != nil {
		p := loginPage{Page: h.newPage(r, "login.title"), Next: next}
		p.Form = url.Values{"sso_email": {email}}
		if e, ok := gardien.AsError(err); ok && len(e.Fields) > 0 {
			err = gardien.Invalid("sso_email", e.Fields[0].Message)
		}
		h.renderError(w, r, err, "login", &p)
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

// handleOIDCCallback is where the identity provider sends the person back:
// logged in, they go on to the page they wanted.
func (h *Handler) handleOIDCCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	l, err := h.Auth.FinishSSO(r.Context(), q.Get("state"), q.Get("code"), q.Get("error"), h.Cookies.Token(r), httpx.Client(r))
	if err != nil {
		e, ok := gardien.AsError(err)
		if !ok {
			h.fail(w, r, err)
			return
		}
		p := messagePage{Page: h.newPage(r, "login.title"), Link: pathLogin, LinkLabel: "login.submit"}
		p.Text = h.Catalog.T(p.Lang, e.Message, e.Args...)
		h.render(w, r, statusOf(err), "message", &p)
		return
	}
	h.Cookies.Set(w, l.Token, l.Session.ExpiresAt)
	redirect(w, r, orHome(localPath(l.ReturnTo)))
}
