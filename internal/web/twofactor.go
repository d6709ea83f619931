package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
	"github.com/gardien/gardien/internal/totp"
)

type twoFactorPage struct {
	Page
	Status     *auth.TwoFactorStatus
	Events     []gardien.Event
	RequiredBy string // an organization that requires 2FA: it cannot be turned off
}

func (h *Handler) handleTwoFactorPage(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	h.renderTwoFactor(w, r, cur, http.StatusOK, nil)
}

// renderTwoFactor shows the Two-factor authentication page, with err (a
// domain error) on its forms if any.
func (h *Handler) renderTwoFactor(w http.ResponseWriter, r *http.Request, cur *httpx.Current, status int, err error) {
	p := twoFactorPage{Page: h.newPage(r, "tfa.title")}
	p.Section = "two-factor"
	if err != nil && !h.formError(&p.Page, err) {
		h.Fail(w, r, err)
		return
	}
	var e error
	if p.Status, e = h.Auth.TwoFactor(r.Context(), cur.User); e != nil {
		h.Fail(w, r, e)
		return
	}
	if p.Events, e = h.Auth.UserEvents(r.Context(), cur.User.ID, 10); e != nil {
		h.Fail(w, r, e)
		return
	}
	if p.RequiredBy, e = h.Auth.RequiringOrganization(r.Context(), cur.User.ID); e != nil {
		h.Fail(w, r, e)
		return
	}
	h.render(w, r, status, "two_factor", &p)
}

// tfaBase is where the two-factor pages of a request live: in Personal
// settings, or at the set-up an organization requires at login.
func tfaBase(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/two-factor/setup") {
		return "/two-factor/setup"
	}
	return "/settings/two-factor"
}

func (h *Handler) handleTwoFactorEnable(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if _, err := h.Auth.BeginTwoFactor(r.Context(), cur.User); err != nil {
		if tfaBase(r) != "/settings/two-factor" {
			h.done(w, r, err, tfaBase(r), "")
			return
		}
		h.renderTwoFactor(w, r, cur, statusOf(err), err)
		return
	}
	redirect(w, r, tfaBase(r)+"/activate")
}

type activatePage struct {
	Page
	QR        template.URL // a data: URL made here, not from input
	Secret    string
	CodeLabel string
	Action    string
	// Heading, Intro, Button and Expires change the words of the page for
	// a move to a new app ("" keeps those of the first set-up).
	Heading, Intro, Button, Expires string
}

func (h *Handler) handleTwoFactorActivatePage(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if h.alreadyOn(w, r, cur) {
		return
	}
	h.renderActivate(w, r, cur, http.StatusOK, nil)
}

// alreadyOn sends a person whose app is on to the 2FA page: the activation
// page reloaded (or its form sent again) after it worked is no error.
func (h *Handler) alreadyOn(w http.ResponseWriter, r *http.Request, cur *httpx.Current) bool {
	if !cur.User.AppEnabled {
		return false
	}
	redirect(w, r, "/settings/two-factor")
	return true
}

func (h *Handler) renderActivate(w http.ResponseWriter, r *http.Request, cur *httpx.Current, status int, err error) {
	e, perr := h.Auth.PendingTwoFactor(r.Context(), cur.User)
	if perr != nil {
		if _, ok := gardien.AsError(perr); ok {
			// Expired or never started: back to the start, saying so.
			h.setFlash(w, "error", "err.no_pending_setup")
			redirect(w, r, tfaBase(r))
			return
		}
		h.Fail(w, r, perr)
		return
	}
	p := activatePage{Page: h.newPage(r, "tfa.title"), QR: template.URL(totp.DataURL(e.QRPNG)), Secret: totp.Group(e.Secret), CodeLabel: "tfa.code_from_app", Action: tfaBase(r) + "/activate"}
	if tfaBase(r) == "/settings/two-factor" {
		p.Section = "two-factor"
	}
	if err != nil && !h.formError(&p.Page, err) {
		h.Fail(w, r, err)
		return
	}
	h.render(w, r, status, "two_factor_activate", &p)
}

// codeError puts a wrong code next to the code field.
func codeError(err error) error {
	if e, ok := gardien.AsError(err); ok && e.Code == gardien.CodeInvalidCode {
		return &gardien.Error{Code: e.Code, Message: e.Message, Fields: []gardien.FieldError{{Field: "code", Message: e.Message}}}
	}
	return err
}

func (h *Handler) handleTwoFactorActivate(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) || h.alreadyOn(w, r, cur) {
		return
	}
	act, err := h.Auth.ActivateTwoFactor(r.Context(), cur.Session, cur.User, r.PostForm.Get("code"), httpx.Client(r))
	if err != nil {
		if gardien.ErrorCode(err) == gardien.CodeInvalidCode {
			h.renderActivate(w, r, cur, statusOf(err), codeError(err))
			return
		}
		if tfaBase(r) != "/settings/two-factor" {
			h.done(w, r, err, tfaBase(r), "")
			return
		}
		h.renderTwoFactor(w, r, cur, statusOf(err), err)
		return
	}
	h.Cookies.Set(w, act.Token, cur.Session.ExpiresAt)
	cur.User.TwoFactorEnabled, cur.User.AppEnabled = true, true
	cur.Session.Level = gardien.LevelFull
	if len(act.RecoveryCodes) == 0 {
		// Keys had turned 2FA on: their recovery codes stay.
		h.done(w, r, nil, "/settings/two-factor", "tfa.app_added")
		return
	}
	h.renderCodes(w, r, act.RecoveryCodes, "tfa.codes_intro_enabled")
}

type codesPage struct {
	Page
	Intro    string
	Codes    []string
	Download template.URL // a data: URL of the codes, made here
	Done     string       // where "I have saved them" leads
}

// renderCodes shows recovery codes, once: they are never stored in clear.
func (h *Handler) renderCodes(w http.ResponseWriter, r *http.Request, codes []string, intro string) {
	p := codesPage{Page: h.newPage(r, "tfa.codes_title"), Intro: intro, Codes: codes, Done: "/settings/two-factor"}
	if tfaBase(r) != "/settings/two-factor" {
		p.Done = "/"
		if back := appReturn(r); back != "" {
			p.Done = back
		}
	}
	text := h.Catalog.T(p.Lang, "tfa.codes_file_header") + "\n\n" + strings.Join(codes, "\n") + "\n"
	p.Download = template.URL("data:text/plain;charset=utf-8," + url.PathEscape(text))
	h.render(w, r, http.StatusOK, "recovery_codes", &p)
}

type confirmPage struct {
	Page
	Heading, Intro, Action, Button string
	Danger                         bool
	Detail                         string // what the change is about (a key's name), or ""
}

// confirmations are the pages that ask for the password before a
// sensitive change to 2FA.
var confirmations = map[string]confirmPage{
	"disable":        {Heading: "tfa.disable", Intro: "tfa.disable_intro", Action: "/settings/two-factor/disable", Button: "tfa.disable", Danger: true},
	"recovery-codes": {Heading: "tfa.codes_regenerate", Intro: "tfa.codes_regenerate_intro_confirm", Action: "/settings/two-factor/recovery-codes", Button: "tfa.codes_regenerate"},
}

func (h *Handler) renderConfirm(w http.ResponseWriter, r *http.Request, cur *httpx.Current, which string, status int, err error) {
	if !cur.User.TwoFactorEnabled {
		redirect(w, r, "/settings/two-factor")
		return
	}
	p := confirmations[which]
	p.Page = h.newPage(r, "tfa.title")
	p.Section = "two-factor"
	if err != nil && !h.formError(&p.Page, err) {
		h.Fail(w, r, err)
		return
	}
	h.render(w, r, status, "two_factor_confirm", &p)
}

func (h *Handler) handleConfirmPage(which string) func(http.ResponseWriter, *http.Request, *httpx.Current) {
	return func(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
		h.renderConfirm(w, r, cur, which, http.StatusOK, nil)
	}
}

func (h *Handler) handleRecoveryCodesRegenerate(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) {
		return
	}
	codes, err := h.Auth.RegenerateRecoveryCodes(r.Context(), cur.User, r.PostForm.Get("password"), httpx.Client(r))
	if err != nil {
		h.renderConfirm(w, r, cur, "recovery-codes", statusOf(err), err)
		return
	}
	h.renderCodes(w, r, codes, "tfa.codes_intro_new")
}

func (h *Handler) handleTwoFactorDisable(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) {
		return
	}
	tok, err := h.Auth.DisableTwoFactor(r.Context(), cur.Session, cur.User, r.PostForm.Get("password"), httpx.Client(r))
	if err != nil {
		h.renderConfirm(w, r, cur, "disable", statusOf(err), err)
		return
	}
	h.Cookies.Set(w, tok, cur.Session.ExpiresAt)
	h.setFlash(w, "ok", "tfa.disabled")
	redirect(w, r, "/settings/two-factor")
}

type secondStepPage struct {
	Page
	Next      string
	Step      string // the way in shown: code, recovery or key
	CodeLabel string
	// App and Key: the person has an app, keys; the page offers each.
	App, Key bool
}

// The ways through a login's second step, each a page and a form.
const (
	stepCode     = "code"
	stepRecovery = "recovery"
	stepKey      = "key"
)

// handleSecondStepPage shows a way through the second step. A person with
// a key is offered it first (the code page at ?with=code).
func (h *Handler) handleSecondStepPage(step string) func(http.ResponseWriter, *http.Request, *httpx.Current) {
	return func(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
		p := secondStepPage{Page: h.newPage(r, "tfa.title"), Next: localPath(r.URL.Query().Get("next")), Step: step, CodeLabel: "tfa.code",
			App: cur.User.AppEnabled, Key: cur.User.HasKeys}
		if step == stepCode && p.Key && (!p.App || r.URL.Query().Get("with") != "code") {
			p.Step = stepKey
		}
		h.render(w, r, http.StatusOK, "login_two_factor", &p)
	}
}

func (h *Handler) handleSecondStep(step string) func(http.ResponseWriter, *http.Request, string) {
	return func(w http.ResponseWriter, r *http.Request, token string) {
		if !h.form(w, r) {
			return
		}
		p := secondStepPage{Page: h.newPage(r, "tfa.title"), Next: localPath(r.PostForm.Get("next")), Step: step, CodeLabel: "tfa.code"}
		var passed *auth.SecondFactorPassed
		var err error
		field := "code"
		switch step {
		case stepKey:
			field = "assertion"
			passed, err = h.Auth.VerifyKey(r.Context(), token, []byte(r.PostForm.Get("assertion")), h.Cookies.LoginClient(w, r))
		case stepRecovery:
			field = "recovery_code"
			passed, err = h.Auth.VerifySecondFactor(r.Context(), token, "", r.PostForm.Get("recovery_code"), h.Cookies.LoginClient(w, r))
		default:
			passed, err = h.Auth.VerifySecondFactor(r.Context(), token, r.PostForm.Get("code"), "", h.Cookies.LoginClient(w, r))
		}
		switch gardien.ErrorCode(err) {
		case gardien.CodeUnauthorized:
			h.Cookies.Clear(w)
			h.toLogin(w, r)
			return
		case gardien.CodeTwoFactorSetupRequired, gardien.CodeConflict:
			h.elsewhere(w, r, err) // not at its second step (auth.Allows)
			return
		}
		if err != nil {
			e, ok := gardien.AsError(err)
			switch {
			case !ok:
				h.Fail(w, r, err)
				return
			case e.Code == gardien.CodeRateLimited:
				p.FormError = h.Catalog.T(p.Lang, "tfa.locked", int((e.RetryAfter+time.Minute-1)/time.Minute))
				w.Header().Set("Retry-After", httpx.RetryAfter(e.RetryAfter))
			default:
				p.Errors[field] = h.Catalog.T(p.Lang, e.Message)
				if len(e.Fields) > 0 {
					p.Errors[field] = h.Catalog.T(p.Lang, e.Fields[0].Message)
				}
				if step == stepRecovery && e.Code == gardien.CodeInvalidCode {
					p.Errors[field] = h.Catalog.T(p.Lang, "tfa.recovery_wrong")
				}
			}
			// The page again offers what the person has: read from the
			// session the proof was refused for.
			if _, u, aerr := h.Auth.Authenticate(r.Context(), token); aerr == nil {
				p.App, p.Key = u.AppEnabled, u.HasKeys
			}
			h.render(w, r, statusOf(err), "login_two_factor", &p)
			return
		}
		h.Cookies.Set(w, passed.Token, passed.Expires)
		if passed.UsedRecoveryCode {
			h.setFlash(w, "info", "tfa.recovery_used", itoa(passed.RecoveryCodesLeft))
		}
		if passed.KeyRequired {
			redirect(w, r, "/two-factor/setup")
			return
		}
		h.goOn(w, r, checkupAfterLogin(passed.CheckupDue, p.Next))
	}
}
