package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
	"github.com/gardien/gardien/internal/i18n"
)

// handleSSOStart sends a person to their organization's identity provider
// (GET /sso/start?email=…: a 302), or back to the login page saying why
// not.
func (h *Handler) handleSSOStart(w http.ResponseWriter, r *http.Request) { h.startSSO(w, r, false) }

// handleSSOFromLoginPage is the old login page's "Log in with SSO" (GET
// /login/sso?sso_email=…, kept for links to it): the same, by a page that
// moves on by itself (goToProvider).
func (h *Handler) handleSSOFromLoginPage(w http.ResponseWriter, r *http.Request) {
	h.startSSO(w, r, true)
}

func (h *Handler) startSSO(w http.ResponseWriter, r *http.Request, viaPage bool) {
	q := r.URL.Query()
	email := q.Get("email") // GET /sso/start?email=…; the old login page's field was sso_email
	if email == "" {
		email = q.Get("sso_email")
	}
	if viaPage {
		h.goToProvider(w, r, email, localPath(q.Get("next")))
		return
	}
	to, ok := h.ssoStart(w, r, email, localPath(q.Get("next")))
	if ok {
		http.Redirect(w, r, to, http.StatusFound)
	}
}

// ssoStart starts a login through the identity provider of email's
// organization and returns where to send the browser; or shows the login
// page with why not (false).
func (h *Handler) ssoStart(w http.ResponseWriter, r *http.Request, email, next string) (string, bool) {
	start, err := h.Auth.StartSSO(r.Context(), email, next, h.Cookies.SSOBrowser(r), httpx.Client(r))
	if err != nil {
		p := loginPage{Page: h.newPage(r, "login.title"), Next: next, Passkeys: h.Auth.PasskeysOn(), Step: loginEmail}
		p.Form = url.Values{"email": {email}}
		if e, ok := gardien.AsError(err); ok && len(e.Fields) > 0 {
			err = gardien.Invalid("email", e.Fields[0].Message)
		}
		h.renderError(w, r, err, "login", &p)
		return "", false
	}
	h.Cookies.SetSSOBrowser(w, start.Browser, start.Expires)
	return start.URL, true
}

// goToProvider sends a browser from a login form to its identity provider:
// by a page that moves on by itself (Refresh) with a link, not a redirect —
// the login page's Content-Security-Policy lets forms go to this site only
// (form-action 'self'), redirects included.
func (h *Handler) goToProvider(w http.ResponseWriter, r *http.Request, email, next string) {
	to, ok := h.ssoStart(w, r, email, next)
	if !ok {
		return
	}
	w.Header().Set("Refresh", "0; url="+to)
	p := messagePage{Page: h.newPage(r, "login.sso_title"), Link: to, LinkLabel: "login.sso_continue"}
	p.Text = h.Catalog.T(p.Lang, "login.sso_going")
	h.render(w, r, http.StatusOK, "message", &p)
}

// handleOIDCCallback is where the identity provider sends the person back:
// logged in, they go on to the page they wanted.
func (h *Handler) handleOIDCCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	l, err := h.Auth.FinishSSO(r.Context(), q.Get("state"), q.Get("code"), q.Get("error"), h.Cookies.SSOBrowser(r), h.Cookies.Token(r), h.Cookies.LoginClient(w, r))
	h.ssoDone(w, r, l, err)
}

// ssoDone ends a login through an identity provider: logged in, on to the
// page wanted; a password account to link, to the login page first; a
// refusal, a page that says so.
func (h *Handler) ssoDone(w http.ResponseWriter, r *http.Request, l *auth.SSOLogin, err error) {
	if err != nil {
		e, ok := gardien.AsError(err)
		if !ok {
			h.Fail(w, r, err)
			return
		}
		p := messagePage{Page: h.newPage(r, "login.title"), Link: pathLogin, LinkLabel: "login.submit"}
		p.Text = h.Catalog.T(p.Lang, e.Message, e.Args...)
		h.render(w, r, statusOf(err), "message", &p)
		return
	}
	if l.LinkToken != "" {
		// A password account: its owner logs in with it, then confirms.
		h.Cookies.Write(w, ssoLinkCookie, l.LinkToken, 10*time.Minute)
		h.setFlash(w, "info", "sso.link_login")
		redirect(w, r, pathLogin+"?"+url.Values{"next": {pathSSOLink}}.Encode())
		return
	}
	h.Cookies.Set(w, l.Token, l.Session.ExpiresAt)
	redirect(w, r, orHome(localPath(l.ReturnTo)))
}

// ssoLinkCookie carries, in the browser that came back from the provider,
// the link of a password account waiting for its owner's confirmation.
const ssoLinkCookie = "gardien_sso_link"

type ssoLinkPage struct {
	Page
	OrgName string
}

// handleSSOLinkPage asks a person who logged in with their password
// whether to link their account to their organization's SSO.
func (h *Handler) handleSSOLinkPage(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	tok := ""
	if ck, err := r.Cookie(ssoLinkCookie); err == nil {
		tok = ck.Value
	}
	m, err := h.Auth.SSOLinkOffer(r.Context(), cur.User, tok)
	if err != nil {
		h.Fail(w, r, err)
		return
	}
	p := ssoLinkPage{Page: h.newPage(r, "sso.link_title"), OrgName: m.Name}
	h.render(w, r, http.StatusOK, "sso_link", &p)
}

func (h *Handler) handleSSOLink(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	tok := ""
	if ck, err := r.Cookie(ssoLinkCookie); err == nil {
		tok = ck.Value
	}
	newTok, err := h.Auth.LinkSSO(r.Context(), cur.Session, cur.User, tok, httpx.Client(r))
	if err != nil {
		h.Fail(w, r, err)
		return
	}
	h.Cookies.Remove(w, ssoLinkCookie)
	h.Cookies.Set(w, newTok, cur.Session.ExpiresAt)
	h.setFlash(w, "ok", "sso.linked")
	redirect(w, r, "/")
}

func securityURL(r *http.Request) string { return orgURL(r, "security") + "#sso" }

// handleSaveSSO saves the Single sign-on form of Security & SSO; what is
// wrong is shown next to its field.
func (h *Handler) handleSaveSSO(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) {
		return
	}
	f := r.PostForm
	in := auth.SSOInput{Protocol: f.Get("protocol"), Enabled: f.Get("enabled") == "on", RequireSSO: f.Get("require_sso") == "on",
		Domains: strings.FieldsFunc(f.Get("domains"), func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == ' ' }),
		Issuer:  f.Get("issuer"), ClientID: f.Get("client_id"), IDPMetadataURL: f.Get("idp_metadata_url"), IDPMetadataXML: f.Get("idp_metadata_xml"),
		IdPInitiated: f.Get("idp_initiated") == "on"}
	if secret := f.Get("client_secret"); secret != "" {
		in.ClientSecret = &secret // empty: keep the one set
	}
	if _, err := h.Auth.SaveSSO(r.Context(), cur.User, pathID(r, "id"), in, httpx.Client(r)); err != nil {
		p := h.securityData(w, r, cur)
		if p == nil {
			return
		}
		p.Form = f
		h.renderError(w, r, err, "org_security", p)
		return
	}
	h.setFlash(w, "ok", "sso.saved")
	redirect(w, r, securityURL(r))
}

func (h *Handler) handleVerifySSODomain(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	err := h.Auth.VerifySSODomain(r.Context(), cur.User, pathID(r, "id"), r.PathValue("domain"), httpx.Client(r))
	h.done(w, r, err, securityURL(r), "sso.domain_verified", r.PathValue("domain"))
}

// handleTestSSO tests the identity provider and says what is left to set
// up (it works before a domain is verified or SSO is on).
func (h *Handler) handleTestSSO(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	test, err := h.Auth.TestSSO(r.Context(), cur.User, pathID(r, "id"))
	if err != nil {
		h.done(w, r, err, securityURL(r), "")
		return
	}
	lang := h.lang(r)
	switch {
	case len(test.Problems) > 0:
		words := make([]string, len(test.Problems))
		for i, p := range test.Problems {
			words[i] = problemWords(h.Catalog, lang, p)
		}
		h.setFlash(w, "error", "sso.test_problems", strings.Join(words, " "))
	case len(test.Steps) > 0:
		words := make([]string, len(test.Steps))
		for i, k := range test.Steps {
			words[i] = h.Catalog.T(lang, k)
		}
		h.setFlash(w, "ok", "sso.test_provider_ok", strings.Join(words, " "))
	default:
		h.setFlash(w, "ok", "sso.test_ok")
	}
	redirect(w, r, securityURL(r))
}

// problemWords says a connection's problem in lang.
func problemWords(cat *i18n.Catalog, lang string, p auth.SSOProblem) string {
	if p.Cause == "" {
		return cat.T(lang, p.Key)
	}
	return cat.T(lang, p.Key, cat.T(lang, "detail.cause."+p.Cause))
}

type ssoDeletePage struct{ Page }

// handleSSODeleteConfirm asks before removing single sign-on (a page, so
// that it works without JavaScript).
func (h *Handler) handleSSODeleteConfirm(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.orgPage(w, r, cur, "sso.delete", "security")
	if p == nil {
		return
	}
	h.render(w, r, http.StatusOK, "sso_delete", &ssoDeletePage{Page: *p})
}

func (h *Handler) handleDeleteSSO(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	h.done(w, r, h.Auth.DeleteSSO(r.Context(), cur.User, pathID(r, "id"), httpx.Client(r)), securityURL(r), "sso.deleted")
}

// handleSAMLMetadata serves Gardien's metadata as an organization's SAML
// service provider, for its identity provider to import.
func (h *Handler) handleSAMLMetadata(w http.ResponseWriter, r *http.Request) {
	md, err := h.Auth.SPMetadata(r.Context(), pathID(r, "id"))
	if err != nil {
		if gardien.ErrorCode(err) == gardien.CodeNotFound {
			h.handleNotFound(w, r)
			return
		}
		h.Fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Write(md)
}

// handleSAMLACS takes a SAML identity provider's answer (HTTP-POST
// binding): a cross-site POST by design, let through CrossOriginProtection
// for this route only, since the signed response and its RelayState are
// what is checked. Such a POST carries no SameSite=Lax cookie, so the
// checked answer waits for the browser to come back on a same-site GET
// (handleSAMLFinish), where its cookie shows it started the login.
func (h *Handler) handleSAMLACS(w http.ResponseWriter, r *http.Request) {
	if !h.form(w, r) {
		return
	}
	tok, err := h.Auth.AcceptSAML(r.Context(), pathID(r, "id"), r.PostForm.Get("RelayState"), r.PostForm.Get("SAMLResponse"), httpx.Client(r))
	if err != nil {
		h.ssoDone(w, r, nil, err)
		return
	}
	redirect(w, r, pathSAMLFinish+"?"+url.Values{"answer": {tok}}.Encode())
}

// handleSAMLFinish logs in the person a SAML answer vouched for, in the
// browser that started the login.
func (h *Handler) handleSAMLFinish(w http.ResponseWriter, r *http.Request) {
	l, err := h.Auth.FinishSAML(r.Context(), r.URL.Query().Get("answer"), h.Cookies.SSOBrowser(r), h.Cookies.Token(r), h.Cookies.LoginClient(w, r))
	h.ssoDone(w, r, l, err)
}
