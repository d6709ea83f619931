package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
	"github.com/gardien/gardien/internal/i18n"
)

// appReturnCookie keeps, through 2FA's set-up, the sign-in to an app the
// person will go back to.
const appReturnCookie = "gardien_app_return"

// signInCookie names the sign-ins this browser started (oidcop.SignInCookie).
const signInCookie = "gardien_sign_ins"

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
	startedHere := false
	if ck, err := r.Cookie(signInCookie); err == nil {
		startedHere = slices.Contains(strings.Split(ck.Value, "."), id)
	}
	step, err := h.Auth.ContinueAppSignIn(r.Context(), sess, u, id, startedHere, httpx.Client(r))
	if err != nil {
		h.Fail(w, r, err)
		return
	}
	if step.Token != "" {
		h.Cookies.Set(w, step.Token, sess.ExpiresAt)
	}
	h.appLanguage(w, r, step.Grant.Request.UILocales)
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

// appLanguage follows the app's ui_locales for the pages of its sign-in,
// when the browser has picked no language: the first one Gardien speaks,
// for as long as a sign-in lasts.
func (h *Handler) appLanguage(w http.ResponseWriter, r *http.Request, locales []string) {
	if _, err := r.Cookie(i18n.LangCookie); err == nil {
		return
	}
	for _, l := range locales {
		base, _, _ := strings.Cut(strings.ToLower(l), "-")
		if h.Catalog.Known(base) {
			h.Cookies.Write(w, i18n.LangCookie, base, auth.SignInTime)
			return
		}
	}
}

// goOn ends a form's answer by sending the browser to to. A sign-in to an
// app goes on through a page that moves on by itself (Refresh) instead of
// a redirect: its way ends at the app's site, and pages allow forms to lead
// to this site only (form-action 'self'), redirects included.
func (h *Handler) goOn(w http.ResponseWriter, r *http.Request, to string) {
	if !strings.HasPrefix(to, pathAppContinue+"?") && !strings.HasPrefix(to, pathForwardStart+"?") {
		redirect(w, r, to)
		return
	}
	w.Header().Set("Refresh", "0; url="+to)
	p := messagePage{Page: h.newPage(r, "apps.going_title"), Link: to, LinkLabel: "apps.going_continue"}
	p.Text = h.Catalog.T(p.Lang, "apps.going")
	h.render(w, r, http.StatusOK, "message", &p)
}

// appReturn is the sign-in to an app to go back to after 2FA's set-up, if any.
func appReturn(r *http.Request) string {
	ck, err := r.Cookie(appReturnCookie)
	if err != nil || !strings.HasPrefix(ck.Value, pathAppContinue+"?") && !strings.HasPrefix(ck.Value, pathForwardStart+"?") {
		return ""
	}
	return localPath(ck.Value)
}

// appsPage is Organization settings → Apps.
type appsPage struct {
	Page
	Apps []auth.AppView
}

// appPage registers an app (App nil) or shows and changes one.
type appPage struct {
	Page
	App *auth.AppView
	// Issuer is where an app discovers Gardien (its OpenID configuration).
	Issuer string
}

// appSecretPage shows a web app's new secret, once.
type appSecretPage struct {
	Page
	App *auth.AppView
}

func appURL(r *http.Request, appID int64) string {
	return orgURL(r, "apps/"+strconv.FormatInt(appID, 10))
}

func (h *Handler) handleAppsPage(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.managedPage(w, r, cur, "apps.title", "apps")
	if p == nil {
		return
	}
	apps, err := h.Auth.Apps(r.Context(), cur.User, p.Org.ID)
	if err != nil {
		h.Fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "org_apps", &appsPage{Page: *p, Apps: apps})
}

func (h *Handler) newAppPage(w http.ResponseWriter, r *http.Request, cur *httpx.Current) *appPage {
	p := h.managedPage(w, r, cur, "apps.title", "apps")
	if p == nil {
		return nil
	}
	return &appPage{Page: *p, Issuer: h.Auth.Links.Issuer()}
}

func (h *Handler) handleNewAppForm(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.newAppPage(w, r, cur)
	if p == nil {
		return
	}
	p.Form = url.Values{"type": {"web"}, "audience": {"members"}, "signing_alg": {"RS256"}}
	h.render(w, r, http.StatusOK, "org_app", p)
}

// appInput reads an app's form: URIs one a line.
func appInput(f url.Values, creating bool) auth.AppInput {
	lines := func(k string) *[]string {
		v := strings.FieldsFunc(f.Get(k), func(r rune) bool { return r == '\n' || r == '\r' })
		return &v
	}
	str := func(k string) *string { v := f.Get(k); return &v }
	in := auth.AppInput{Name: str("name"), RedirectURIs: lines("redirect_uris"), PostLogoutRedirectURIs: lines("post_logout_redirect_uris"),
		BackchannelLogoutURI: str("backchannel_logout_uri"), SigningAlg: str("signing_alg"), Hosts: lines("hosts")}
	aud := gardien.AppAudience(f.Get("audience"))
	in.Audience = &aud
	need := f.Get("require_two_factor") == "on"
	in.RequireTwoFactor = &need
	if creating {
		t := gardien.AppType(f.Get("type"))
		in.Type = &t
	}
	return in
}

func (h *Handler) handleCreateApp(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.newAppPage(w, r, cur)
	if p == nil || !h.formOn(w, r, "org_app", p) {
		return
	}
	p.Form = r.PostForm
	v, err := h.Auth.CreateApp(r.Context(), cur.User, p.Org.ID, appInput(r.PostForm, true), httpx.Client(r))
	if err != nil {
		h.renderError(w, r, err, "org_app", p)
		return
	}
	if v.Secret == "" {
		h.setFlash(w, "ok", "apps.created", v.Name)
		redirect(w, r, appURL(r, v.ID))
		return
	}
	h.render(w, r, http.StatusCreated, "org_app_secret", &appSecretPage{Page: p.Page, App: v})
}

// appOf starts a page of one app, or answers (not found) and returns nil.
func (h *Handler) appOf(w http.ResponseWriter, r *http.Request, cur *httpx.Current) *appPage {
	p := h.newAppPage(w, r, cur)
	if p == nil {
		return nil
	}
	v, err := h.Auth.App(r.Context(), cur.User, p.Org.ID, pathID(r, "app"))
	if err != nil {
		h.Fail(w, r, err)
		return nil
	}
	p.App = v
	p.Form = url.Values{"name": {v.Name}, "type": {string(v.Type)}, "redirect_uris": {strings.Join(v.RedirectURIs, "\n")},
		"post_logout_redirect_uris": {strings.Join(v.PostLogoutRedirectURIs, "\n")}, "backchannel_logout_uri": {v.BackchannelLogoutURI},
		"audience": {string(v.Audience)}, "signing_alg": {v.SigningAlg}, "hosts": {strings.Join(v.Hosts, "\n")}}
	if v.NeedsTwoFactor {
		p.Form.Set("require_two_factor", "on")
	}
	return p
}

func (h *Handler) handleAppPage(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if p := h.appOf(w, r, cur); p != nil {
		h.render(w, r, http.StatusOK, "org_app", p)
	}
}

func (h *Handler) handleUpdateApp(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.appOf(w, r, cur)
	if p == nil || !h.formOn(w, r, "org_app", p) {
		return
	}
	p.Form = r.PostForm
	p.Form.Set("type", string(p.App.Type))
	in := appInput(r.PostForm, false)
	if p.App.TwoFactorByOrg {
		in.RequireTwoFactor = nil // held on by the organization; the box is not sent
	}
	v, err := h.Auth.UpdateApp(r.Context(), cur.User, p.Org.ID, p.App.ID, in, httpx.Client(r))
	if err != nil {
		h.renderError(w, r, err, "org_app", p)
		return
	}
	h.setFlash(w, "ok", "apps.saved", v.Name)
	redirect(w, r, appURL(r, v.ID))
}

// handleAppConfirm asks before replacing an app's secret or deleting it (a
// page, so it works without JavaScript).
func (h *Handler) handleAppConfirm(what string) func(http.ResponseWriter, *http.Request, *httpx.Current) {
	return func(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
		p := h.appOf(w, r, cur)
		if p == nil {
			return
		}
		p.Form.Set("confirm", what)
		h.render(w, r, http.StatusOK, "org_app_confirm", p)
	}
}

func (h *Handler) handleRotateAppSecret(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.appOf(w, r, cur)
	if p == nil || !h.form(w, r) {
		return
	}
	v, err := h.Auth.RotateAppSecret(r.Context(), cur.User, p.Org.ID, p.App.ID, httpx.Client(r))
	if err != nil {
		h.done(w, r, err, appURL(r, p.App.ID), "")
		return
	}
	h.render(w, r, http.StatusOK, "org_app_secret", &appSecretPage{Page: p.Page, App: v})
}

func (h *Handler) handleDeleteApp(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.appOf(w, r, cur)
	if p == nil || !h.form(w, r) {
		return
	}
	err := h.Auth.DeleteApp(r.Context(), cur.User, p.Org.ID, p.App.ID, httpx.Client(r))
	h.done(w, r, err, orgURL(r, "apps"), "apps.deleted", p.App.Name)
}

// signInsPage is Personal settings → Apps: the apps a person signed in to.
type signInsPage struct {
	Page
	SignIns []gardien.SignIn
}

func (h *Handler) handleSignInsPage(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	list, err := h.Auth.SignIns(r.Context(), cur.User.ID)
	if err != nil {
		h.Fail(w, r, err)
		return
	}
	p := signInsPage{Page: h.newPage(r, "settings.title"), SignIns: list}
	p.Section = "apps"
	h.render(w, r, http.StatusOK, "settings_apps", &p)
}

func (h *Handler) handleSignOutOfApp(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) {
		return
	}
	err := h.Auth.SignOutOfApp(r.Context(), cur.User, pathID(r, "app"), httpx.Client(r))
	h.done(w, r, err, "/settings/apps", "apps.signed_out")
}
