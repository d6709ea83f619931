// Package authz answers reverse proxies (nginx auth_request, Traefik
// ForwardAuth, Caddy forward_auth) asking, at each request to a host
// Gardien protects, whether it may go through: 200 with who it is, a way
// to Gardien's login, or 403. Who may enter is auth's decision, the same
// as every app's; the browser's pass is a cookie of its own
// (httpx.PassCookie), tied to its Gardien session.
package authz

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
)

// The endpoints, and Gardien's page a refused browser is sent to.
const (
	PathForwardAuth = "/authz/forward-auth" // Traefik, Caddy: X-Forwarded-Method/Proto/Host/Uri
	PathAuthRequest = "/authz/auth-request" // nginx: X-Original-URL
	PathStart       = "/authz/start"        // a page (internal/web): ?rd=the URL asked for
)

// Handler answers the proxies.
type Handler struct {
	Auth *auth.Service
	// Base is Gardien's URL, where browsers go to log in.
	Base *url.URL
	Log  *slog.Logger
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, 0) // a question has no body to read
	switch r.URL.Path {
	case PathForwardAuth:
		h.check(w, r, forwardedURL(r), true)
	case PathAuthRequest:
		h.check(w, r, originalURL(r), false)
	default:
		http.NotFound(w, r)
	}
}

// check answers whether the browser's pass lets it reach u. A browser to
// send to Gardien is sent there by the proxy: forward-auth proxies pass on
// a redirect, nginx turns a 401 into one (error_page).
func (h *Handler) check(w http.ResponseWriter, r *http.Request, u *url.URL, redirects bool) {
	if u == nil {
		http.Error(w, "the proxy did not say which URL is asked for, or it is not one", http.StatusBadRequest)
		return
	}
	token := ""
	if ck, err := r.Cookie(httpx.PassCookie); err == nil {
		token = ck.Value
	}
	ans, err := h.Auth.CheckForward(r.Context(), token, u.Hostname(), httpx.Client(r))
	if err != nil {
		h.Log.ErrorContext(r.Context(), "forward-auth", "err", err)
		status := http.StatusInternalServerError
		if errors.Is(err, gardien.ErrUnavailable) {
			status = http.StatusServiceUnavailable
		}
		http.Error(w, "Gardien cannot answer now", status)
		return
	}
	switch ans.Verdict {
	case auth.ForwardAllow:
		hd := w.Header()
		hd.Set("Remote-User", ans.Person.Email)
		hd.Set("Remote-Email", ans.Person.Email)
		hd.Set("Remote-Name", ans.Person.Name)
		hd.Set("Remote-Groups", string(ans.Role))
		w.WriteHeader(http.StatusOK)
	case auth.ForwardDeny:
		http.Error(w, "You may not enter this site.", http.StatusForbidden)
	default:
		if !redirects {
			// nginx turns the 401 into a redirect to Location
			// (auth_request_set, error_page: deploy/nginx/forward-auth.conf).
			w.Header().Set("Location", StartURL(h.Base, u.String()))
			http.Error(w, "Log in at Gardien first.", http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, StartURL(h.Base, u.String()), http.StatusFound)
	}
}

// StartURL is Gardien's page that sends a browser on to rd once it may.
func StartURL(base *url.URL, rd string) string {
	return strings.TrimSuffix(base.String(), "/") + PathStart + "?" + url.Values{"rd": {rd}}.Encode()
}

// forwardedURL is the URL a forward-auth proxy says is asked for.
func forwardedURL(r *http.Request) *url.URL {
	proto, host, uri := r.Header.Get("X-Forwarded-Proto"), r.Header.Get("X-Forwarded-Host"), r.Header.Get("X-Forwarded-Uri")
	if uri == "" {
		uri = "/"
	}
	return checkedURL(proto + "://" + host + uri)
}

// originalURL is the URL nginx says is asked for.
func originalURL(r *http.Request) *url.URL { return checkedURL(r.Header.Get("X-Original-URL")) }

// checkedURL keeps an absolute http(s) URL with a host and no credentials
// or control characters; nil otherwise.
func checkedURL(raw string) *url.URL {
	if len(raw) > 4096 || strings.ContainsFunc(raw, func(c rune) bool { return c < 0x20 || c == 0x7f || c == '\\' }) {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Opaque != "" {
		return nil
	}
	return u
}

// CheckedURL is checkedURL for the start page: the URL a browser is to go
// back to (whose host must be a protected one: auth.ProxyApp).
func CheckedURL(raw string) *url.URL { return checkedURL(raw) }
