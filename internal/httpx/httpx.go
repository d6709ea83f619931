// Package httpx holds what the web pages and the JSON API share about HTTP:
// the session cookie, the current session in a request's context, the
// client's address.
package httpx

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/gardien/gardien"
)

// SessionCookie holds the session token. The __Host- prefix (over HTTPS)
// pins it to this host and path, so a sibling subdomain cannot plant one.
const (
	SessionCookie       = "gardien_session"
	SecureSessionCookie = "__Host-gardien_session"
)

// Cookies writes and reads the session cookie.
type Cookies struct {
	Secure bool // HTTPS: Secure flag and __Host- prefix
}

func (c Cookies) name() string {
	if c.Secure {
		return SecureSessionCookie
	}
	return SessionCookie
}

// Token returns the session token the request carries, or "".
func (c Cookies) Token(r *http.Request) string {
	ck, err := r.Cookie(c.name())
	if err != nil {
		return ""
	}
	return ck.Value
}

// Set stores a session token; expires is the session's absolute end.
func (c Cookies) Set(w http.ResponseWriter, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: c.name(), Value: token, Path: "/", Expires: expires,
		HttpOnly: true, Secure: c.Secure, SameSite: http.SameSiteLaxMode})
}

// Clear removes the session cookie.
func (c Cookies) Clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: c.name(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: c.Secure, SameSite: http.SameSiteLaxMode})
}

// Current is the logged-in person of a request, if any.
type Current struct {
	Session *gardien.Session
	User    *gardien.User
}

type ctxKey struct{}

// WithCurrent returns ctx carrying the current session.
func WithCurrent(ctx context.Context, c *Current) context.Context {
	return context.WithValue(ctx, ctxKey{}, c)
}

// CurrentOf returns the request's session, or nil when nobody is logged in.
func CurrentOf(r *http.Request) *Current {
	c, _ := r.Context().Value(ctxKey{}).(*Current)
	return c
}

// Client describes where a request comes from. Gardien takes the TCP peer's
// address: behind a proxy, that proxy's address (see docs/operations.md).
func Client(r *http.Request) gardien.Client {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	// Headers may carry any bytes and any length; what is stored is valid
	// UTF-8 (PostgreSQL refuses the rest), cut between characters.
	return gardien.Client{IP: ip, UserAgent: gardien.Clip(r.UserAgent(), 512)}
}
