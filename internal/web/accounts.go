package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
	"github.com/gardien/gardien/internal/i18n"
)

type messagePage struct {
	Page
	Text      string
	Link      string
	LinkLabel string
}

func (h *Handler) handleNotFound(w http.ResponseWriter, r *http.Request) {
	p := messagePage{Page: h.newPage(r, "err.page_title"), Link: "/", LinkLabel: "err.back_home"}
	p.Text = h.Catalog.T(p.Lang, "err.not_found")
	h.render(w, r, http.StatusNotFound, "message", &p)
}

func (h *Handler) handleHome(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.newPage(r, "home.title")
	h.render(w, r, http.StatusOK, "home", &p)
}

type signupPage struct {
	Page
	Invitation string // the token of an invitation being answered
}

func (h *Handler) handleSignupPage(w http.ResponseWriter, r *http.Request) {
	if httpx.CurrentOf(r) != nil {
		redirect(w, r, "/")
		return
	}
	p := signupPage{Page: h.newPage(r, "signup.title")}
	if tok := r.URL.Query().Get("invitation"); tok != "" {
		if inv, err := h.Auth.PeekInvitation(r.Context(), tok); err == nil {
			p.Invitation = tok
			p.Form.Set("email", inv.Email)
		}
	}
	h.render(w, r, http.StatusOK, "signup", &p)
}

func (h *Handler) handleSignup(w http.ResponseWriter, r *http.Request) {
	p := signupPage{Page: h.newPage(r, "signup.title")}
	if !h.formOn(w, r, "signup", &p) {
		return
	}
	p.Form = r.PostForm
	p.Invitation = r.PostForm.Get("invitation")
	su, err := h.Auth.SignUp(r.Context(), auth.SignupInput{Email: r.PostForm.Get("email"), Password: r.PostForm.Get("password"),
		Name: r.PostForm.Get("name"), Lang: p.Lang, Invitation: p.Invitation}, h.Cookies.Token(r), h.Cookies.LoginClient(w, r))
	if err != nil {
		h.renderError(w, r, err, "signup", &p)
		return
	}
	// The account works at once: the new person is logged in.
	h.Cookies.Set(w, su.Token, su.Session.ExpiresAt)
	if su.Joined != nil {
		h.toJoined(w, r, su.Joined)
		return
	}
	h.setFlash(w, "ok", "signup.done", su.User.Email)
	redirect(w, r, "/")
}

// loginPage is the login page at one of its steps: the email first (with
// a passkey offered), then the password for that email — or, asked for,
// both at once (EmailFixed false at the password step).
type loginPage struct {
	Page
	Next string
	// Passkeys: a login with a passkey alone is offered (Gardien at a
	// domain name).
	Passkeys   bool
	Step       string // email, password
	EmailFixed bool   // the password step of an email given at the first
}

const (
	loginEmail    = "email"
	loginPassword = "password"
)

func (h *Handler) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	// again: an app asks for a fresher login than the session's (prompt=login,
	// max_age); the new login replaces the session.
	if cur := httpx.CurrentOf(r); cur != nil && q.Get("again") == "" {
		redirect(w, r, "/")
		return
	}
	p := loginPage{Page: h.newPage(r, "login.title"), Next: localPath(q.Get("next")), Passkeys: h.Auth.PasskeysOn(), Step: loginEmail}
	if email := q.Get("email"); email != "" && len(email) <= 320 {
		p.Form = url.Values{"email": {email}}
	}
	if q.Get("with") == "password" {
		// Email and password at once: for an owner whose organization's
		// provider is down (their email would go to it).
		p.Step = loginPassword
	}
	h.render(w, r, http.StatusOK, "login", &p)
}

// identify is the login page's first step: an email whose domain logs in
// through its organization's identity provider goes there; any other the
// password step — whether an account has it or not.
func (h *Handler) identify(w http.ResponseWriter, r *http.Request, p *loginPage) {
	email := strings.TrimSpace(r.PostForm.Get("email"))
	p.Form = url.Values{"email": {email}}
	sso, err := h.Auth.LogsInWithSSO(r.Context(), email)
	if err != nil {
		h.renderError(w, r, err, "login", p)
		return
	}
	if sso {
		h.goToProvider(w, r, email, p.Next)
		return
	}
	p.Step, p.EmailFixed = loginPassword, true
	h.render(w, r, http.StatusOK, "login", p)
}

func (h *Handler) handleLogin(w http.ResponseWriter, r *http.Request) {
	p := loginPage{Page: h.newPage(r, "login.title"), Passkeys: h.Auth.PasskeysOn(), Step: loginEmail}
	if !h.formOn(w, r, "login", &p) {
		return
	}
	p.Next = localPath(r.PostForm.Get("next"))
	if _, withPassword := r.PostForm["password"]; !withPassword {
		h.identify(w, r, &p)
		return
	}
	p.Step, p.EmailFixed = loginPassword, r.PostForm.Get("email_fixed") != ""
	p.Form = url.Values{"email": {r.PostForm.Get("email")}}
	// A browser back from its SSO provider with a pending link: where the
	// organization requires SSO, the password opens a session that may
	// only confirm the link.
	link := ""
	if ck, err := r.Cookie(ssoLinkCookie); err == nil {
		link = ck.Value
	}
	login, err := h.Auth.LogInToLink(r.Context(), r.PostForm.Get("email"), r.PostForm.Get("password"), link, h.Cookies.Token(r), h.Cookies.LoginClient(w, r))
	if err != nil {
		h.renderError(w, r, err, "login", &p)
		return
	}
	h.Cookies.Set(w, login.Token, login.Session.ExpiresAt)
	switch login.Status {
	case auth.StatusTwoFactorRequired:
		redirect(w, r, "/login/two-factor"+nextQuery(p.Next))
	case auth.StatusSetupRequired:
		redirect(w, r, "/two-factor/setup")
	case auth.StatusSSOLinkRequired:
		redirect(w, r, pathSSOLink)
	default:
		h.goOn(w, r, orHome(p.Next))
	}
}

func nextQuery(next string) string {
	if next == "" {
		return ""
	}
	return "?" + url.Values{"next": {next}}.Encode()
}

func orHome(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

func (h *Handler) handleLogout(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if err := h.Auth.LogOut(r.Context(), cur.Session, httpx.Client(r)); err != nil {
		h.Fail(w, r, err)
		return
	}
	h.Cookies.Clear(w)
	h.setFlash(w, "info", "logout.done")
	redirect(w, r, "/login")
}

func (h *Handler) handleVerifyEmail(w http.ResponseWriter, r *http.Request) {
	p := messagePage{Page: h.newPage(r, "verify.title"), Link: "/", LinkLabel: "verify.continue"}
	u, err := h.Auth.VerifyEmail(r.Context(), r.URL.Query().Get("token"), httpx.Client(r))
	if err != nil {
		if _, ok := gardien.AsError(err); !ok {
			h.Fail(w, r, err)
			return
		}
		// A mail scanner may have opened the link first: a person whose
		// email is validated needs no error.
		if p.User != nil && p.User.EmailVerified {
			p.Text = h.Catalog.T(p.Lang, "verify.already")
			h.render(w, r, http.StatusOK, "message", &p)
			return
		}
		p.Text = h.Catalog.T(p.Lang, "verify.invalid")
		p.Link, p.LinkLabel = "/login", "login.submit"
		if p.User != nil {
			p.Link, p.LinkLabel = "/", "verify.continue"
		}
		h.render(w, r, http.StatusBadRequest, "message", &p)
		return
	}
	if p.User != nil && p.User.ID == u.ID {
		p.User = u
	}
	p.Text = h.Catalog.T(p.Lang, "verify.done", u.Email)
	h.render(w, r, http.StatusOK, "message", &p)
}

func (h *Handler) handleResendVerification(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	err := h.Auth.ResendVerification(r.Context(), cur.User.ID)
	switch {
	case gardien.ErrorCode(err) == gardien.CodeConflict:
		h.setFlash(w, "info", "verify.already")
	case err != nil:
		h.Fail(w, r, err)
		return
	default:
		h.setFlash(w, "ok", "verify.sent", cur.User.Email)
	}
	redirect(w, r, "/")
}

func (h *Handler) handleForgotPage(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "reset.request_title")
	h.render(w, r, http.StatusOK, "forgot", &p)
}

func (h *Handler) handleForgot(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "reset.request_title")
	if !h.form(w, r) {
		return
	}
	p.Form = r.PostForm
	err := h.Auth.RequestPasswordReset(r.Context(), r.PostForm.Get("email"), p.Lang, httpx.Client(r))
	if err != nil {
		h.renderError(w, r, err, "forgot", &p)
		return
	}
	email, _, _ := auth.NormalizeEmail(r.PostForm.Get("email"))
	h.setFlash(w, "ok", "reset.request_sent", email)
	redirect(w, r, "/login")
}

type resetPage struct {
	Page
	Token string
}

func (h *Handler) handleResetPage(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	if err := h.Auth.CheckResetToken(r.Context(), tok); err != nil {
		h.resetInvalid(w, r, err)
		return
	}
	p := resetPage{Page: h.newPage(r, "reset.title"), Token: tok}
	h.render(w, r, http.StatusOK, "reset", &p)
}

func (h *Handler) resetInvalid(w http.ResponseWriter, r *http.Request, err error) {
	if gardien.ErrorCode(err) != gardien.CodeInvalidToken {
		h.Fail(w, r, err)
		return
	}
	p := messagePage{Page: h.newPage(r, "reset.title"), Link: "/password/forgot", LinkLabel: "reset.request_submit"}
	p.Text = h.Catalog.T(p.Lang, "reset.invalid")
	h.render(w, r, http.StatusBadRequest, "message", &p)
}

func (h *Handler) handleReset(w http.ResponseWriter, r *http.Request) {
	if !h.form(w, r) {
		return
	}
	p := resetPage{Page: h.newPage(r, "reset.title"), Token: r.PostForm.Get("token")}
	err := h.Auth.ResetPassword(r.Context(), p.Token, r.PostForm.Get("password"), httpx.Client(r))
	if gardien.ErrorCode(err) == gardien.CodeInvalidToken {
		h.resetInvalid(w, r, err)
		return
	}
	if err != nil {
		h.renderError(w, r, err, "reset", &p)
		return
	}
	// Every session ended with the reset, this browser's included.
	h.Cookies.Clear(w)
	h.setFlash(w, "ok", "reset.done")
	redirect(w, r, "/login")
}

// handleLanguage switches the language: remembered in a cookie, and saved
// on the account of a logged-in person.
func (h *Handler) handleLanguage(w http.ResponseWriter, r *http.Request) {
	if !h.form(w, r) {
		return
	}
	lang := r.PostForm.Get("lang")
	if !h.Catalog.Known(lang) {
		redirect(w, r, orHome(localPath(r.PostForm.Get("next"))))
		return
	}
	h.Cookies.Write(w, i18n.LangCookie, lang, yearLong)
	if cur := httpx.CurrentOf(r); cur != nil && auth.Allows(cur.Session.Level, auth.AreaFull) == nil {
		if _, err := h.Auth.UpdateProfile(r.Context(), cur.User.ID, cur.User.Name, lang, h.Catalog.Known); err != nil {
			h.Fail(w, r, err)
			return
		}
	}
	redirect(w, r, orHome(localPath(r.PostForm.Get("next"))))
}

func (h *Handler) handleProfilePage(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.newPage(r, "settings.title")
	p.Section = "profile"
	p.Form.Set("name", cur.User.Name)
	h.render(w, r, http.StatusOK, "settings_profile", &p)
}

func (h *Handler) handleProfile(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.newPage(r, "settings.title")
	p.Section = "profile"
	if !h.form(w, r) {
		return
	}
	p.Form = r.PostForm
	_, err := h.Auth.UpdateProfile(r.Context(), cur.User.ID, r.PostForm.Get("name"), r.PostForm.Get("language"), h.Catalog.Known)
	if err != nil {
		h.renderError(w, r, err, "settings_profile", &p)
		return
	}
	if lang := r.PostForm.Get("language"); lang != "" {
		// The saved choice wins over a picked one; keep them in step.
		h.Cookies.Write(w, i18n.LangCookie, lang, yearLong)
	}
	h.setFlash(w, "ok", "settings.profile_saved")
	redirect(w, r, "/settings/profile")
}

func (h *Handler) handlePasswordPage(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.newPage(r, "settings.title")
	p.Section = "password"
	h.render(w, r, http.StatusOK, "settings_password", &p)
}

func (h *Handler) handlePassword(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.newPage(r, "settings.title")
	p.Section = "password"
	if !h.form(w, r) {
		return
	}
	err := h.Auth.ChangePassword(r.Context(), cur.Session, cur.User, r.PostForm.Get("current_password"), r.PostForm.Get("new_password"), httpx.Client(r))
	if err != nil {
		h.renderError(w, r, err, "settings_password", &p)
		return
	}
	h.setFlash(w, "ok", "settings.password_changed")
	redirect(w, r, "/settings/password")
}

// handleEmailChange asks for a change of email (Personal settings →
// Profile): a link goes to the new address.
func (h *Handler) handleEmailChange(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.newPage(r, "settings.title")
	p.Section = "profile"
	if !h.formOn(w, r, "settings_profile", &p) {
		return
	}
	p.Form = url.Values{"name": {cur.User.Name}, "new_email": {r.PostForm.Get("new_email")}}
	email, err := h.Auth.RequestEmailChange(r.Context(), cur.User, r.PostForm.Get("new_email"), r.PostForm.Get("password"), formProof(r, cur), httpx.Client(r))
	if err != nil {
		if e, ok := gardien.AsError(err); ok && len(e.Fields) > 0 && e.Fields[0].Field == "email" {
			e = &gardien.Error{Code: e.Code, Message: e.Message, Fields: []gardien.FieldError{{Field: "new_email", Message: e.Fields[0].Message}}}
			err = e
		}
		h.renderError(w, r, err, "settings_profile", &p)
		return
	}
	h.setFlash(w, "ok", "settings.email_sent", email)
	redirect(w, r, "/settings/profile")
}

// handleConfirmEmail follows the link of a change of email.
func (h *Handler) handleConfirmEmail(w http.ResponseWriter, r *http.Request) {
	p := messagePage{Page: h.newPage(r, "settings.email"), Link: "/", LinkLabel: "verify.continue"}
	u, err := h.Auth.ConfirmEmailChange(r.Context(), r.URL.Query().Get("token"), httpx.Client(r))
	if err != nil {
		e, ok := gardien.AsError(err)
		if !ok {
			h.Fail(w, r, err)
			return
		}
		p.Text = h.Catalog.T(p.Lang, "email.invalid_link")
		if len(e.Fields) > 0 {
			p.Text = h.Catalog.T(p.Lang, e.Fields[0].Message)
		}
		h.render(w, r, statusOf(err), "message", &p)
		return
	}
	if p.User != nil && p.User.ID == u.ID {
		p.User = u
	}
	p.Text = h.Catalog.T(p.Lang, "email.changed", u.Email)
	h.render(w, r, http.StatusOK, "message", &p)
}

// handleDeletePage asks before deleting the account (a page, so it works
// without JavaScript), with the password and code again.
func (h *Handler) handleDeletePage(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.newPage(r, "settings.title")
	p.Section = "profile"
	h.render(w, r, http.StatusOK, "settings_delete", &p)
}

func (h *Handler) handleDelete(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.newPage(r, "settings.title")
	p.Section = "profile"
	if !h.formOn(w, r, "settings_delete", &p) {
		return
	}
	if err := h.Auth.DeleteAccount(r.Context(), cur.User, r.PostForm.Get("password"), formProof(r, cur), httpx.Client(r)); err != nil {
		h.renderError(w, r, err, "settings_delete", &p)
		return
	}
	h.Cookies.Clear(w)
	h.setFlash(w, "info", "settings.deleted")
	redirect(w, r, pathLogin)
}
