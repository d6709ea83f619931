package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
)

// appReturnCookie keeps, through 2FA's set-up, the sign-in to an app the
// person will go back to.
const appReturnCookie = "gardien_app_return"

// handleAppContinue is where a sign-in to an app lands once the provider
// has checked the app's request, and again after each step the person
// takes: auth decides what they need (a login, a fresher one, the code
// page, 2FA's set-up) or refuses them with a page that says why; allowed,
// the browser goes on to the callback that gives the app its code.
func (h *Handler) handleAppContinue(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	here := pathAppContinue + "?" + url.Values{"id": {id}}.Encode()
	var sess *gardien.Session
	var u *gardien.User
	if cur := httpx.CurrentOf(r); cur != nil {
		sess, u = cur.Session, cur.User
	}
	step, err := h.Auth.ContinueAppSignIn(r.Context(), sess, u, id, httpx.Client(r))
	if err != nil {
		h.Fail(w, r, err)
		return
	}
	if step.Token != "" {
		h.Cookies.Set(w, step.Token, sess.ExpiresAt)
	}
	switch step.Next {
	case auth.AppNextApp:
		h.Cookies.Remove(w, appReturnCookie)
		redirect(w, r, pathAppCallback+"?"+url.Values{"id": {id}}.Encode())
	case auth.AppNextRefuse:
		redirect(w, r, pathAppCallback+"?"+url.Values{"id": {id}, "error": {step.Refusal}}.Encode())
	case auth.AppNextLogin:
		q := url.Values{"next": {here}}
		if sess != nil {
			q.Set("again", "1")
		}
		if hint := step.Grant.Request.LoginHint; hint != "" && strings.Contains(hint, "@") {
			q.Set("email", hint)
		}
		redirect(w, r, pathLogin+"?"+q.Encode())
	case auth.AppNextSecondFactor:
		redirect(w, r, "/login/two-factor"+nextQuery(here))
	case auth.AppNextSetup:
		h.Cookies.Write(w, appReturnCookie, here, auth.SignInTime)
		redirect(w, r, "/two-factor/setup")
	}
}

// appReturn is the sign-in to an app to go back to after 2FA's set-up, if any.
func appReturn(r *http.Request) string {
	ck, err := r.Cookie(appReturnCookie)
	if err != nil || !strings.HasPrefix(ck.Value, pathAppContinue+"?") {
		return ""
	}
	return localPath(ck.Value)
}
