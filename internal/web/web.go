// Package web serves Gardien's pages: server-rendered HTML that works
// without JavaScript, in English and French. Handlers are thin: parse the
// form, call auth, render a template or redirect.
package web

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
	"github.com/gardien/gardien/internal/i18n"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// MaxForm bounds a form body.
const MaxForm = 1 << 20

// Config are the Handler's dependencies.
type Config struct {
	Auth    *auth.Service
	Catalog *i18n.Catalog
	Cookies httpx.Cookies
	Log     *slog.Logger
	// FlashKey signs the one-time messages carried across a redirect.
	FlashKey []byte
	// CookieDomain is where the pass to protected hosts is set ("" this host).
	CookieDomain string
}

// Handler serves the pages.
type Handler struct {
	Config
	pages map[string]*template.Template // page → template, for every language
	mux   *http.ServeMux
	own   httpx.Routes // routes that read their session themselves
}

// New parses every template, once for all languages (a broken template
// fails start-up, not a request), and returns the Handler.
func New(c Config) (*Handler, error) {
	h := &Handler{Config: c, pages: map[string]*template.Template{}, mux: http.NewServeMux()}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	// One parse for every language: the functions that speak take the
	// page ({{t $ "key"}}) and read its language, so that a language more
	// costs no memory.
	lang := func(d paged) string { return d.page().Lang }
	funcs := template.FuncMap{
		"t": func(d paged, key string, args ...any) string { return c.Catalog.T(lang(d), key, args...) },
		// Dates in the reader's language and time zone: {{when $ .Time $.Zone}}.
		"when": func(d paged, t time.Time, zone *time.Location) string { return i18n.DateTime(lang(d), t, zone) },
		"day":  func(d paged, t time.Time, zone *time.Location) string { return i18n.Date(lang(d), t, zone) },
		// Whole days until a deadline, a part of a day counting as one.
		"daysLeft": func(at time.Time) int { return auth.DaysLeft(c.Auth.Now(), at) },
		// Whether a time is still ahead (a requirement's deadline).
		"ahead": func(at time.Time) bool { return at.After(c.Auth.Now()) },
		"sub":   func(a, b int) int { return a - b },
		"list":  func(s ...string) []string { return s },
		// An audit event's data, in words: {{detail $ .Data $.Zone}}.
		"detail": func(p paged, d gardien.EventData, zone *time.Location) string {
			return c.Catalog.EventDetail(lang(p), zone, d)
		},
		// A User-Agent in words ("Chrome on Linux"), as the Sessions page
		// says it.
		"browser": func(d paged, userAgent string) string {
			b, sys := gardien.DescribeUserAgent(userAgent)
			switch {
			case b == "":
				return c.Catalog.T(lang(d), "sessions.unknown_browser")
			case sys == "":
				return b
			}
			return c.Catalog.T(lang(d), "sessions.on", b, sys)
		},
		"field": func(p any, name, typ, label, autocomplete string) fieldData {
			return fieldData{Page: pageOf(p), Name: name, Type: typ, Label: label, Autocomplete: autocomplete}
		},
		// Two values for a template: {{template "x" (pair $ .)}}.
		"pair": func(p paged, v any) pairData { return pairData{p, v} },
		"keyAdd": func(p any, action string, primary bool) keyAddData {
			return keyAddData{Page: pageOf(p), Action: action, Primary: primary}
		},
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if strings.HasPrefix(base, "_") {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/_*.html", n)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", base, err)
		}
		h.pages[base] = t
	}
	h.routes()
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Pattern is the route that serves r ("" for none).
func (h *Handler) Pattern(r *http.Request) string {
	_, p := h.mux.Handler(r)
	return p
}

// zoneCookie holds the reader's time zone, which app.js sets from the
// browser's; without JavaScript, dates are in UTC and say so.
const zoneCookie = "gardien_tz"

// zoneOf is the reader's time zone: the browser's, UTC until it tells.
func zoneOf(r *http.Request) *time.Location {
	if ck, err := r.Cookie(zoneCookie); err == nil {
		return i18n.Zone(ck.Value)
	}
	return time.UTC
}

// Page is what every page's template gets.
type Page struct {
	Lang      string
	Title     string // catalog key
	User      *gardien.User
	Path      string // this page's path, for the language picker's return
	Flash     *Flash
	Form      url.Values        // what the person typed, shown again on failure
	Errors    map[string]string // field → message, shown next to the field
	FormError string            // message for the whole form
	Section   string            // the current item of the settings' side menu; "" for pages outside settings
	Zone      *time.Location    // the reader's time zone, as the browser tells it (UTC until it does)
	// Deadline is the nearest requirement deadline the person has not met:
	// a banner on every page says it, with the days left.
	Deadline *gardien.Deadline
	// Org is the organization of an Organization settings page, with its
	// side menu (OrgSection the current item) and a switcher over Orgs.
	Org        *gardien.Membership
	Orgs       []gardien.Membership
	OrgSection string
}

func (p *Page) page() *Page { return p }

type paged interface{ page() *Page }

func pageOf(v any) *Page {
	if p, ok := v.(paged); ok {
		return p.page()
	}
	return &Page{}
}

// pairData is a page and a value, for a template that speaks of the value.
type pairData struct {
	A paged
	B any
}

// fieldData is what the "field" template needs for one labelled input.
type fieldData struct {
	*Page
	Name, Type, Label, Autocomplete string
}

// keyAddData is the form that adds a key (_keys.html), posting to Action.
type keyAddData struct {
	Page    *Page
	Action  string
	Primary bool
}

func (f fieldData) Value() string { return f.Form.Get(f.Name) }
func (f fieldData) Error() string { return f.Errors[f.Name] }

// Flash is a one-time message shown after a redirect.
type Flash struct {
	Kind string // ok, info, error
	Text string
}

// newPage starts a page for the request.
func (h *Handler) newPage(r *http.Request, title string) Page {
	p := Page{Lang: h.lang(r), Title: title, Path: r.URL.Path, Form: url.Values{}, Errors: map[string]string{}, Zone: time.UTC}
	p.Zone = zoneOf(r)
	// The account menu shows only once a login is complete.
	if cur := httpx.CurrentOf(r); cur != nil && cur.Session.Level == gardien.LevelFull {
		p.User = cur.User
		d, found, err := h.Auth.PendingDeadline(r.Context(), cur.User)
		if err != nil {
			// The banner is a reminder, not the page: the page still shows.
			h.Log.ErrorContext(r.Context(), "deadline banner", "err", err)
		}
		if found {
			p.Deadline = d
		}
	}
	return p
}

func (h *Handler) lang(r *http.Request) string { return httpx.Lang(h.Catalog, r) }

// render executes a page into a buffer, then writes it: a template error
// becomes a clean 500, never half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, data paged) {
	p := data.page()
	if p.Flash == nil {
		p.Flash = h.takeFlash(w, r)
	}
	t, ok := h.pages[name]
	if !ok {
		h.Fail(w, r, fmt.Errorf("web: no template %q", name))
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		h.Fail(w, r, fmt.Errorf("web: render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	buf.WriteTo(w)
}

// Fail shows err as a page, the one way an error becomes a page outside a
// form: 503 when the database cannot be reached (the person stays logged
// in); a domain error's message, with its status (httpx.Status) and a
// link back (to the organizations from their pages); anything else logged
// and shown as a 500 that says nothing of the cause. A 5xx is the error
// page that needs nothing but the catalog. The server's middleware answers
// its refusals through it too.
func (h *Handler) Fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, gardien.ErrUnavailable) {
		h.Log.WarnContext(r.Context(), "database unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		h.Unavailable(w, r)
		return
	}
	e, ok := gardien.AsError(err)
	if !ok {
		h.Log.ErrorContext(r.Context(), "page failed", "method", r.Method, "path", r.URL.Path, "err", err)
		h.errorPage(w, r, http.StatusInternalServerError, "err.internal")
		return
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", httpx.RetryAfter(e.RetryAfter))
	}
	status := httpx.Status(e.Code)
	if status >= 500 {
		h.errorPage(w, r, status, e.Message, e.Args...)
		return
	}
	p := messagePage{Page: h.newPage(r, "err.page_title"), Text: h.Catalog.T(h.lang(r), e.Message, e.Args...), Link: "/", LinkLabel: "err.back_home"}
	if strings.HasPrefix(r.URL.Path, "/organization") {
		p.Link, p.LinkLabel = "/organization", "org.title"
	}
	h.render(w, r, status, "message", &p)
}

// Unavailable shows the 503 page: the database cannot be reached now. The
// session cookie is left alone.
func (h *Handler) Unavailable(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", httpx.RetryAfter(httpx.RetryUnavailable))
	h.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
}

// errorPage is a page that needs nothing but the catalog: it shows when
// templates' data (the person, their organizations) cannot be had.
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string, args ...any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	lang := h.lang(r)
	fmt.Fprintf(w, "<!doctype html><html lang=\"%s\"><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"stylesheet\" href=\"/static/style.css\"><title>%s</title><main class=\"card narrow\"><h1>%s</h1><p>%s</p><p class=\"muted\">%s</p><p><a href=\"/\">%s</a></p></main></html>",
		lang, template.HTMLEscapeString(h.Catalog.T(lang, "err.page_title")),
		template.HTMLEscapeString(h.Catalog.T(lang, "err.page_title")),
		template.HTMLEscapeString(h.Catalog.T(lang, msg, args...)),
		template.HTMLEscapeString(h.Catalog.T(lang, "err.reference", httpx.RequestID(r.Context()))),
		template.HTMLEscapeString(h.Catalog.T(lang, "err.back_home")))
}

// formError shows a domain error on the form: field messages next to their
// fields, anything else above the form. It returns false for errors that are
// not the person's doing (they get the error page).
func (h *Handler) formError(p *Page, err error) bool {
	e, ok := gardien.AsError(err)
	if !ok {
		return false
	}
	shown := map[string]bool{}
	for _, f := range e.Fields {
		p.Errors[f.Field] = h.Catalog.T(p.Lang, f.Message)
		shown[p.Errors[f.Field]] = true
	}
	// Above the form only what no field says already: a wrong code is
	// reported once, next to the code.
	if len(e.Fields) == 0 || e.Code != gardien.CodeValidationFailed {
		msg := h.Catalog.T(p.Lang, e.Message, e.Args...)
		if e.Code == gardien.CodeRateLimited && e.Message == "err.rate_limited" && e.RetryAfter > 0 {
			// How long, not "a moment": the limit's window says it.
			msg = h.Catalog.T(p.Lang, "err.rate_limited_for", int((e.RetryAfter+time.Minute-1)/time.Minute))
		}
		if !shown[msg] {
			p.FormError = msg
		}
	}
	return true
}

// renderError shows page name again with err on its form (a domain error:
// fields next to their inputs), or the error page for any other error.
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, err error, name string, data paged) {
	if !h.formError(data.page(), err) {
		h.Fail(w, r, err)
		return
	}
	if e, _ := gardien.AsError(err); e != nil && e.RetryAfter > 0 {
		w.Header().Set("Retry-After", httpx.RetryAfter(e.RetryAfter))
	}
	h.render(w, r, statusOf(err), name, data)
}

// statusOf is the status of a page that shows an error again.
func statusOf(err error) int { return httpx.Status(gardien.ErrorCode(err)) }

// parseForm reads a form body of bounded size. A body it cannot read is
// the sender's doing, a domain error: too large (body_too_large, 413) or
// not a form (malformed, 400: a malformed encoding, a bad Content-Type).
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxForm)
	err := r.ParseForm()
	if err == nil {
		return nil
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &gardien.Error{Code: gardien.CodeBodyTooLarge, Message: "err.body_too_large"}
	}
	return &gardien.Error{Code: gardien.CodeMalformed, Message: "err.bad_form"}
}

// form reads a form body; on failure it answers (parseForm's error on the
// message page) and returns false.
func (h *Handler) form(w http.ResponseWriter, r *http.Request) bool {
	p := messagePage{Page: h.newPage(r, "err.page_title"), Link: "/", LinkLabel: "err.back_home"}
	return h.formOn(w, r, "message", &p)
}

// formOn reads a form body; on failure it shows page name again (data)
// saying why, as any domain error on a form (renderError), and returns
// false.
func (h *Handler) formOn(w http.ResponseWriter, r *http.Request, name string, data paged) bool {
	err := parseForm(w, r)
	if err == nil {
		return true
	}
	h.renderError(w, r, err, name, data)
	return false
}

// localPath keeps a return path only if it stays on this site: a path
// that starts with one slash, with no scheme, host or user, and no control
// character or backslash anywhere, raw or decoded (browsers drop tabs and
// read \ as /, so "/\t/evil.example" would be "//evil.example").
func localPath(p string) string {
	bad := func(s string) bool {
		return !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' })
	}
	if p == "" || len(p) > 2000 || p[0] != '/' || bad(p) {
		return ""
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") || bad(u.Path) {
		return ""
	}
	return p
}

func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// yearLong is the life of a cookie that keeps a choice (a language, the
// organization last opened).
const yearLong = 365 * 24 * time.Hour

// The flash cookie is signed so that nobody can make a page say something
// of their choosing.
const flashCookie = "gardien_flash"

func (h *Handler) sign(b []byte) string {
	m := hmac.New(sha256.New, h.FlashKey)
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// setFlashArgs leaves a message whose arguments are any values.
func (h *Handler) setFlashArgs(w http.ResponseWriter, kind, key string, args []any) {
	s := make([]string, len(args))
	for i, a := range args {
		s[i] = fmt.Sprint(a)
	}
	h.setFlash(w, kind, key, s...)
}

// setFlash leaves a message for the next page: a catalog key and its arguments.
func (h *Handler) setFlash(w http.ResponseWriter, kind, key string, args ...string) {
	b, _ := json.Marshal(struct {
		K, M string
		A    []string
	}{kind, key, args})
	v := base64.RawURLEncoding.EncodeToString(b)
	h.Cookies.Write(w, flashCookie, v+"."+h.sign(b), time.Minute)
}

func (h *Handler) takeFlash(w http.ResponseWriter, r *http.Request) *Flash {
	ck, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	h.Cookies.Remove(w, flashCookie)
	v, sig, ok := strings.Cut(ck.Value, ".")
	b, err := base64.RawURLEncoding.DecodeString(v)
	if !ok || err != nil || !hmac.Equal([]byte(sig), []byte(h.sign(b))) {
		return nil
	}
	var f struct {
		K, M string
		A    []string
	}
	if json.Unmarshal(b, &f) != nil || !h.Catalog.Has(f.M) {
		return nil
	}
	args := make([]any, len(f.A))
	for i, a := range f.A {
		args[i] = a
	}
	return &Flash{Kind: f.K, Text: h.Catalog.T(h.lang(r), f.M, args...)}
}

// guard runs fn for a session allowed in area; others are sent where they
// belong: to the login page, or to the step their login is at.
func (h *Handler) guard(area auth.Area, fn func(http.ResponseWriter, *http.Request, *httpx.Current)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !validPathIDs(r) {
			h.handleNotFound(w, r)
			return
		}
		cur := httpx.CurrentOf(r)
		if cur == nil {
			h.toLogin(w, r)
			return
		}
		if err := auth.Allows(cur.Session.Level, area); err != nil {
			h.elsewhere(w, r, err)
			return
		}
		fn(w, r, cur)
	}
}

// toLogin sends a request without a session to the login page (a page
// asked for comes back after it).
func (h *Handler) toLogin(w http.ResponseWriter, r *http.Request) {
	to := "/login"
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		to += "?" + url.Values{"next": {r.URL.RequestURI()}}.Encode()
	}
	redirect(w, r, to)
}

// elsewhere sends a session where its level allows it to go, for err, the
// refusal of auth.Allows.
func (h *Handler) elsewhere(w http.ResponseWriter, r *http.Request, err error) {
	switch gardien.ErrorCode(err) {
	case gardien.CodeTwoFactorRequired:
		redirect(w, r, "/login/two-factor")
	case gardien.CodeTwoFactorSetupRequired:
		redirect(w, r, "/two-factor/setup")
	case gardien.CodeSSORequired: // a session that may only confirm its link to SSO
		redirect(w, r, pathSSOLink)
	default:
		redirect(w, r, "/")
	}
}

// ownSession serves, at pattern, a handler that reads the session of the
// cookie's token itself, through auth: a login's second step, which reads
// it inside the transaction of its try. Without a token, it is the login
// page, as for a guarded page.
func (h *Handler) ownSession(pattern string, fn func(w http.ResponseWriter, r *http.Request, token string)) {
	h.own.Add(pattern)
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		tok := h.Cookies.Token(r)
		if tok == "" {
			h.toLogin(w, r)
			return
		}
		fn(w, r, tok)
	})
}

// OwnsSession says r's route reads the session itself (ownSession): the
// server's middleware leaves it.
func (h *Handler) OwnsSession(r *http.Request) bool { return h.own.Has(r) }
