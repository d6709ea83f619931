package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/authz"
	"github.com/gardien/gardien/internal/httpx"
)

var errForwardURL = gardien.Errorf(gardien.CodeMalformed, "err.forward_url")

// handleForwardStart is where a browser refused by a protected host's
// proxy comes (?rd= the URL it asked for): through Gardien's login, code
// page or set-up as auth decides, then back to rd with a pass for the
// hosts' domain. rd must be on a host Gardien protects: no open redirect.
func (h *Handler) handleForwardStart(w http.ResponseWriter, r *http.Request) {
	rd := authz.CheckedURL(r.URL.Query().Get("rd"))
	if rd == nil {
		h.Fail(w, r, errForwardURL)
		return
	}
	if _, err := h.Auth.ProxyApp(r.Context(), rd.Hostname()); err != nil {
		h.Fail(w, r, err)
		return
	}
	here := authz.PathStart + "?" + url.Values{"rd": {rd.String()}}.Encode()
	cur := httpx.CurrentOf(r)
	if cur == nil {
		redirect(w, r, pathLogin+nextQuery(here))
		return
	}
	switch cur.Session.Level {
	case gardien.LevelFull:
	case gardien.LevelSecondFactor:
		redirect(w, r, "/login/two-factor"+nextQuery(here))
		return
	case gardien.LevelSetup:
		h.Cookies.Write(w, appReturnCookie, here, auth.SignInTime)
		redirect(w, r, "/two-factor/setup")
		return
	default:
		redirect(w, r, pathLogin+nextQuery(here))
		return
	}
	step, token, err := h.Auth.StartForward(r.Context(), cur.Session, cur.User, rd.Hostname(), httpx.Client(r))
	if err != nil {
		h.Fail(w, r, err)
		return
	}
	if step.Token != "" {
		h.Cookies.Set(w, step.Token, cur.Session.ExpiresAt)
	}
	switch step.Next {
	case auth.AppNextApp:
		h.Cookies.WritePass(w, token, h.CookieDomain, time.Until(cur.Session.ExpiresAt))
		http.Redirect(w, r, rd.String(), http.StatusSeeOther)
	case auth.AppNextSecondFactor:
		redirect(w, r, "/login/two-factor"+nextQuery(here))
	case auth.AppNextSetup:
		h.Cookies.Write(w, appReturnCookie, here, auth.SignInTime)
		redirect(w, r, "/two-factor/setup")
	default:
		redirect(w, r, pathLogin+"?"+url.Values{"next": {here}, "again": {"1"}}.Encode())
	}
}
