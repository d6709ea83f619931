// Package server assembles Gardien's HTTP server: routes for the pages, the
// JSON API, health checks and static files, wrapped in the middleware every
// request passes through.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/authz"
	"github.com/gardien/gardien/internal/httpx"
	"github.com/gardien/gardien/internal/metrics"
	"github.com/gardien/gardien/internal/oidcop"
	"github.com/gardien/gardien/internal/scim"
	"github.com/gardien/gardien/internal/web"
)

// Pinger tells whether the database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Config are the server's parts.
type Config struct {
	Auth    *auth.Service
	API     Transport
	Web     Transport
	DB      Pinger
	Cookies httpx.Cookies
	Log     *slog.Logger
	// TrustedProxies are believed about the client's address (X-Forwarded-For).
	TrustedProxies []netip.Prefix
	// HTTPS is true when people reach Gardien over HTTPS (the base URL),
	// even through a proxy that speaks plain HTTP to it: HSTS is sent.
	HTTPS bool
	// Metrics times every request by its route pattern (nil: none).
	Metrics *metrics.Metrics
	// Provider is the OpenID Provider apps sign people in through (nil: none).
	Provider http.Handler
	// Authz answers reverse proxies in front of protected hosts (nil: none).
	Authz http.Handler
	// SCIM answers organizations' identity providers (nil: none).
	SCIM http.Handler
}

// Transport is the pages or the API: a handler that also answers, in its
// own form, what the middleware refuses.
type Transport interface {
	http.Handler
	// Fail answers err as the transport answers its handlers' errors (a
	// domain error's status and message; ErrUnavailable a 503; anything
	// else a 500).
	Fail(w http.ResponseWriter, r *http.Request, err error)
	// Pattern is the route pattern that serves r ("" for none), to name
	// it in metrics without an unbounded label.
	Pattern(r *http.Request) string
	// OwnsSession says r's route reads the session itself, through auth
	// (a login's second step reads it in the transaction of its try):
	// loadSession does not look it up first.
	OwnsSession(r *http.Request) bool
}

// New returns the root handler.
func New(c Config) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "application/json")
		if err := c.DB.Ping(ctx); err != nil {
			c.Log.ErrorContext(ctx, "not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"status":"database unreachable"}` + "\n"))
			return
		}
		w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	mux.Handle("/api/v1/", c.API)
	mux.Handle("/", c.Web)
	if c.Provider != nil {
		for _, p := range oidcop.Routes {
			mux.Handle(p, c.Provider)
		}
	}
	if c.Authz != nil {
		mux.Handle(authz.PathForwardAuth, c.Authz)
		mux.Handle(authz.PathAuthRequest, c.Authz)
	}
	if c.SCIM != nil {
		mux.Handle(scim.Prefix, c.SCIM)
	}

	// CrossOriginProtection refuses cross-site unsafe requests (from the
	// Sec-Fetch-Site and Origin headers browsers send): CSRF protection for
	// the pages and the API alike, with no token to carry.
	cop := http.NewCrossOriginProtection()
	// SAML identity providers post their answers from their own site: the
	// signed response, InResponseTo a request of a login Gardien started
	// (found by its RelayState), is what protects that route.
	cop.AddInsecureBypassPattern("POST " + web.PathSAMLACS)
	// Apps call the provider's token, userinfo, revocation and
	// introspection endpoints with their own proof, never a cookie.
	for _, p := range oidcop.NoCrossOriginCheck {
		cop.AddInsecureBypassPattern(p)
	}
	// A proxy asks for every request of the hosts it protects, a cross-site
	// form's included; the answer changes nothing, and reads only the pass.
	cop.AddInsecureBypassPattern(authz.PathForwardAuth)
	cop.AddInsecureBypassPattern(authz.PathAuthRequest)
	// Identity providers call SCIM with the organization's bearer token,
	// which no browser sends on its own.
	cop.AddInsecureBypassPattern(scim.Prefix)
	transport := func(r *http.Request) Transport {
		if isAPI(r) {
			return c.API
		}
		return c.Web
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		transport(r).Fail(w, r, errCrossOrigin)
	}))

	var h http.Handler = mux
	h = loadSession(c.Auth, c.Cookies, transport, h)
	h = cop.Handler(h)
	h = securityHeaders(c.HTTPS, h)
	h = recoverPanics(c.Log, transport, h)
	h = logRequests(c.Log, h)
	h = realClient(c.TrustedProxies, h)
	if c.Metrics != nil {
		h = c.Metrics.Measure(func(r *http.Request) string {
			switch {
			case r.URL.Path == "/healthz" || r.URL.Path == "/readyz":
				return "GET " + r.URL.Path
			case isAPI(r):
				return c.API.Pattern(r)
			case c.Provider != nil && slices.Contains(oidcop.Routes, r.URL.Path), r.URL.Path == authz.PathForwardAuth, r.URL.Path == authz.PathAuthRequest:
				return r.URL.Path // a bounded set (not the method: anyone picks it)
			case strings.HasPrefix(r.URL.Path, scim.Prefix):
				return scim.Prefix + "{org}"
			}
			return c.Web.Pattern(r)
		}, h)
	}
	h = httpx.MarkRequest(h)
	return h
}

// realClient sets the request's address to the client's when it comes
// through a trusted proxy: the right-most X-Forwarded-For address that is
// not a trusted proxy itself (the ones to its left could be forged by the
// client). From anyone else, X-Forwarded-For is ignored.
func realClient(trusted []netip.Prefix, next http.Handler) http.Handler {
	if len(trusted) == 0 {
		return next
	}
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, err := netip.ParseAddrPort(r.RemoteAddr)
		if err == nil && isTrusted(peer.Addr()) {
			hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
			for i := len(hops) - 1; i >= 0; i-- {
				a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
				if err != nil {
					break
				}
				if !isTrusted(a) {
					r2 := r.Clone(r.Context())
					r2.RemoteAddr = netip.AddrPortFrom(a, 0).String()
					r = r2
					break
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// loadSession puts the request's session, if any, in its context. A cookie
// naming no live session is cleared. When the session cannot be looked up
// (the database is down or slow) the request is answered 503 and the
// cookie kept: the person is not logged out by an outage. Routes that read
// their session themselves (owned: a login's second step, which reads it
// inside the transaction of its try) are left to do so: a lookup here
// would be a second read of the same rows, on SQLite a reader's, whose
// pages are dropped whenever anyone writes.
func loadSession(a *auth.Service, cookies httpx.Cookies, transport func(*http.Request) Transport, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := cookies.Token(r)
		if tok == "" || strings.HasPrefix(r.URL.Path, "/static/") || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || transport(r).OwnsSession(r) {
			next.ServeHTTP(w, r)
			return
		}
		sess, u, err := a.Authenticate(r.Context(), tok)
		if err != nil {
			if _, isDomain := gardien.AsError(err); !isDomain {
				// The transport logs it; ErrUnavailable is a 503.
				transport(r).Fail(w, r, fmt.Errorf("session lookup: %w", err))
				return
			}
			cookies.Clear(w)
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(httpx.WithCurrent(r.Context(), &httpx.Current{Session: sess, User: u})))
	})
}

// securityHeaders sets headers that close whole classes of attack: no
// inline script or style (XSS), no framing (clickjacking), no sniffing.
// securityHeaderValues are on every answer. Each value is a slice of its
// own shared by every request — never changed in place (Set replaces it,
// Add appends to a full one, which copies) — rather than made anew for
// each answer.
var securityHeaderValues = map[string][]string{
	"Content-Security-Policy":    {"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"},
	"X-Content-Type-Options":     {"nosniff"},
	"X-Frame-Options":            {"DENY"},
	"Referrer-Policy":            {"same-origin"},
	"Cross-Origin-Opener-Policy": {"same-origin"},
	"Permissions-Policy":         {"camera=(), microphone=(), geolocation=()"},
}

var hsts = []string{"max-age=63072000"}

func securityHeaders(https bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range securityHeaderValues {
			h[k] = v
		}
		if https || r.TLS != nil {
			h["Strict-Transport-Security"] = hsts
		}
		next.ServeHTTP(w, r)
	})
}

// errCrossOrigin and errPanic are the middleware's refusals, answered by
// the transport in its own form and the caller's language.
var (
	errCrossOrigin = &gardien.Error{Code: gardien.CodeForbidden, Message: "err.cross_origin"}
	errPanic       = &gardien.Error{Code: gardien.CodeInternal, Message: "err.internal"}
)

// recoverPanics turns a panic into a logged 500, so one bad request never
// takes the process down.
func recoverPanics(log *slog.Logger, transport func(*http.Request) Transport, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			log.ErrorContext(r.Context(), "panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			transport(r).Fail(w, r, errPanic)
		}()
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests writes one line a request: never a query string (tokens ride there).
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			return
		}
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		level := slog.LevelInfo
		switch {
		case status >= 500:
			level = slog.LevelError
		case strings.HasPrefix(r.URL.Path, "/static/") || r.URL.Path == "/favicon.ico":
			// A page's assets: at info they bury what matters in the
			// terminal (a first run's validation mail among them).
			level = slog.LevelDebug
		}
		if !log.Enabled(r.Context(), level) {
			return // (GARDIEN_LOG_LEVEL=warn): not even the line's values
		}
		log.LogAttrs(r.Context(), level, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", status),
			slog.Int("bytes", sw.bytes), slog.Duration("duration", time.Since(start)),
			slog.String("client_ip", httpx.Client(r).IP))
	})
}
