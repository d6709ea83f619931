// Package api serves the JSON API under /api/v1 (contract in
// docs/api.md). Handlers are thin: decode, call auth, encode. Every answer is
// JSON; every error an RFC 9457 problem with a stable code.
package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"

	"github.com/gardien/gardien"
	contract "github.com/gardien/gardien/api"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
	"github.com/gardien/gardien/internal/i18n"
)

// MaxBody bounds a request body.
const MaxBody = 1 << 20

// Handler serves the API.
type Handler struct {
	auth    *auth.Service
	cat     *i18n.Catalog
	cookies httpx.Cookies
	log     *slog.Logger
	mux     *http.ServeMux
	own     httpx.Routes // routes that read their session themselves
}

// New returns the API handler, to be mounted at /api/v1/.
func New(a *auth.Service, cat *i18n.Catalog, cookies httpx.Cookies, log *slog.Logger) *Handler {
	h := &Handler{auth: a, cat: cat, cookies: cookies, log: log, mux: http.NewServeMux()}
	h.routes()
	return h
}

// Pattern is the route that serves r ("" for none).
func (h *Handler) Pattern(r *http.Request) string {
	_, p := h.mux.Handler(r)
	return p
}

// OwnsSession says r's route reads the session itself (ownSession): the
// server's middleware leaves it.
func (h *Handler) OwnsSession(r *http.Request) bool { return h.own.Has(r) }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := h.mux.Handler(r); pattern == "" {
		h.noRoute(w, r)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// noRoute answers 405 with Allow when the path exists for other methods,
// else 404: as problems, never the mux's plain text.
func (h *Handler) noRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		r2 := r.Clone(r.Context())
		r2.Method = m
		if _, p := h.mux.Handler(r2); p != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		h.problem(w, r, http.StatusMethodNotAllowed, gardien.CodeNotFound, "err.method_not_allowed", nil)
		return
	}
	h.problem(w, r, http.StatusNotFound, gardien.CodeNotFound, "err.not_found", nil)
}

// handleOpenAPI serves the API's contract, for programs that generate a
// client or check answers against it.
func handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(contract.OpenAPI)
}

// Handlers write their answer and return nil, or return the error to
// answer as a problem: one place writes errors (h.error).
type (
	openHandler    func(http.ResponseWriter, *http.Request) error
	guardedHandler func(http.ResponseWriter, *http.Request, *httpx.Current) error
)

// open serves a handler that needs no session.
func (h *Handler) open(fn openHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			h.error(w, r, err)
		}
	}
}

// errNoSession answers a request that needs a session and has none.
var errNoSession = gardien.Errorf(gardien.CodeUnauthorized, "err.unauthorized")

// ownSession serves, at pattern, a handler that reads the session of the
// cookie's token itself, through auth: a login's second step, which reads
// it inside the transaction of its try. It answers as the middleware and a
// guard would: 401 without a token, and the cookie cleared when auth finds
// no live session for it.
func (h *Handler) ownSession(pattern string, fn func(w http.ResponseWriter, r *http.Request, token string) error) {
	h.own.Add(pattern)
	h.mux.HandleFunc(pattern, h.open(func(w http.ResponseWriter, r *http.Request) error {
		if _, bearer := httpx.BearerToken(r); bearer {
			return auth.ErrTokenNotAllowed // a login's step is a person's, in a browser
		}
		tok := h.cookies.Token(r)
		if tok == "" {
			return errNoSession
		}
		err := fn(w, r, tok)
		if gardien.ErrorCode(err) == gardien.CodeUnauthorized {
			h.cookies.Clear(w)
		}
		return err
	}))
}

// guarded serves a handler that needs a session allowed in area.
func (h *Handler) guarded(area auth.Area, fn guardedHandler) http.HandlerFunc {
	return h.scoped("", area, fn)
}

// scoped is guarded for a call an API token with scope may make too ("":
// none may).
func (h *Handler) scoped(scope string, area auth.Area, fn guardedHandler) http.HandlerFunc {
	return h.open(func(w http.ResponseWriter, r *http.Request) error {
		cur := httpx.CurrentOf(r)
		if value, ok := httpx.BearerToken(r); ok {
			// A program's token: the request is the token's, its cookies
			// not looked at (a token and a session never mix), and a token
			// that opens nothing is refused, never taken for no token.
			sess, u, t, err := h.auth.AuthenticateToken(r.Context(), value)
			if err != nil {
				return err
			}
			orgID, _ := httpx.PathID(r, "id")
			if err := auth.Scoped(t, scope, orgID); err != nil {
				return err
			}
			cur = &httpx.Current{Session: sess, User: u, Token: t}
			r = r.WithContext(httpx.WithCurrent(r.Context(), cur))
		}
		if cur == nil {
			return errNoSession
		}
		if err := auth.Allows(cur.Session.Level, area); err != nil {
			return err
		}
		return fn(w, r, cur)
	})
}

func (h *Handler) lang(r *http.Request) string { return httpx.Lang(h.cat, r) }

// each turns a list into its JSON form, item by item: never null, an empty
// list is [].
func each[T, U any](in []T, f func(T) U) []U {
	out := make([]U, 0, len(in))
	for _, v := range in {
		out = append(out, f(v))
	}
	return out
}

// writeJSON writes v as the answer; it returns nil, so that a handler can
// end with it.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// The status is sent: a client gone away is not ours to answer.
	_ = json.NewEncoder(w).Encode(v)
	return nil
}

type fieldProblem struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

type problem struct {
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Status     int            `json:"status"`
	Detail     string         `json:"detail"`
	Code       gardien.Code   `json:"code"`
	Errors     []fieldProblem `json:"errors,omitempty"`
	RetryAfter int            `json:"retry_after,omitempty"`
	// RequestID names the request in the server's logs (X-Request-ID):
	// what to quote to an operator.
	RequestID string `json:"request_id,omitempty"`
}

func (h *Handler) problem(w http.ResponseWriter, r *http.Request, status int, code gardien.Code, msg string, fields []gardien.FieldError, args ...any) {
	lang := h.lang(r)
	p := problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Code: code, Detail: h.cat.T(lang, msg, args...),
		RequestID: httpx.RequestID(r.Context())}
	for _, f := range fields {
		p.Errors = append(p.Errors, fieldProblem{Field: f.Field, Detail: h.cat.T(lang, f.Message)})
	}
	writeProblem(w, p)
}

func writeProblem(w http.ResponseWriter, p problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p) // as writeJSON
}

// error writes err as a problem. Domain errors keep their code; anything
// else is logged and answered as a 500 that says nothing of the cause.
func (h *Handler) error(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, gardien.ErrUnavailable) {
		h.log.WarnContext(r.Context(), "database unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		h.Unavailable(w, r)
		return
	}
	e, ok := gardien.AsError(err)
	if !ok {
		h.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		h.problem(w, r, http.StatusInternalServerError, gardien.CodeInternal, "err.internal", nil)
		return
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", httpx.RetryAfter(e.RetryAfter))
	}
	h.problem(w, r, httpx.Status(e.Code), e.Code, e.Message, e.Fields, e.Args...)
}

// Unavailable answers 503 unavailable: the database cannot be reached now.
// The session cookie is left alone: the person is still logged in once it
// answers again.
func (h *Handler) Unavailable(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", httpx.RetryAfter(httpx.RetryUnavailable))
	h.problem(w, r, http.StatusServiceUnavailable, gardien.CodeUnavailable, "err.unavailable", nil)
}

// Fail answers err as a problem, as a handler's error is (h.error): what
// the server's middleware refuses (a cross-site request, a panic, an
// unreachable database) is said the same way, in the caller's language.
func (h *Handler) Fail(w http.ResponseWriter, r *http.Request, err error) { h.error(w, r, err) }

// decode reads a JSON object body into dst, whose fields are pointers so
// that a missing field is told from an empty one. Malformed, oversized or
// wrongly typed bodies become validation_failed problems.
func (h *Handler) decode(w http.ResponseWriter, r *http.Request, dst any) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	dec := json.NewDecoder(r.Body)
	err := dec.Decode(dst)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("trailing data after the JSON object")
		}
	}
	if err == nil {
		return nil
	}
	var tooBig *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return &gardien.Error{Code: gardien.CodeBodyTooLarge, Message: "err.body_too_large"}
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return gardien.Invalid(typeErr.Field, "err.field_type")
	default:
		return &gardien.Error{Code: gardien.CodeValidationFailed, Message: "err.bad_body"}
	}
}

// body decodes the request into dst and checks it with check (nil: no
// check).
func (h *Handler) body(w http.ResponseWriter, r *http.Request, dst any, check func() error) error {
	err := h.decode(w, r, dst)
	if err == nil && check != nil {
		err = check()
	}
	return err
}

// required checks that every named field was given (non-nil).
func required(pairs ...any) error {
	e := &gardien.Error{Code: gardien.CodeValidationFailed, Message: "err.validation_failed"}
	for i := 0; i+1 < len(pairs); i += 2 {
		name := pairs[i].(string)
		v := reflect.ValueOf(pairs[i+1])
		if v.Kind() != reflect.Pointer {
			panic(fmt.Sprintf("api: required: %s is a %T, not a pointer", name, pairs[i+1]))
		}
		if v.IsNil() {
			e.Fields = append(e.Fields, gardien.FieldError{Field: name, Message: "err.field_required"})
		}
	}
	if len(e.Fields) > 0 {
		return e
	}
	return nil
}
