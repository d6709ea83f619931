// Package httpx holds what the web pages and the JSON API share about HTTP,
// once: cookies and their attributes, the current session in a request's
// context, the client's address, the request's language, the status of an
// error code, Retry-After, numeric path values.
package httpx

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/i18n"
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
	c.write(w, &http.Cookie{Name: c.name(), Value: token, Expires: expires})
}

// Clear removes the session cookie.
func (c Cookies) Clear(w http.ResponseWriter) { c.Remove(w, c.name()) }

// Write sets a cookie of Gardien's that lasts for lifetime (Max-Age: the
// browser counts it on its own clock, none is read here).
func (c Cookies) Write(w http.ResponseWriter, name, value string, lifetime time.Duration) {
	c.write(w, &http.Cookie{Name: name, Value: value, MaxAge: max(1, int(lifetime/time.Second))})
}

// PassCookie is the cookie of a browser's pass to the hosts Gardien
// protects behind a reverse proxy (forward-auth): not the session cookie,
// and only the authz endpoints read it.
const PassCookie = "gardien_pass"

// WritePass sets the pass cookie for domain ("" = this host), for the
// hosts under it, that lasts for lifetime.
func (c Cookies) WritePass(w http.ResponseWriter, value, domain string, lifetime time.Duration) {
	c.write(w, &http.Cookie{Name: PassCookie, Value: value, Domain: domain, MaxAge: max(1, int(lifetime/time.Second))})
}

// Remove deletes a cookie of Gardien's.
func (c Cookies) Remove(w http.ResponseWriter, name string) {
	c.write(w, &http.Cookie{Name: name, MaxAge: -1})
}

// write sets ck with the one set of attributes Gardien's cookies all
// have: whole site, HttpOnly, SameSite=Lax, Secure over HTTPS.
func (c Cookies) write(w http.ResponseWriter, ck *http.Cookie) {
	ck.Path, ck.HttpOnly, ck.Secure, ck.SameSite = "/", true, c.Secure, http.SameSiteLaxMode
	http.SetCookie(w, ck)
}

// ssoBrowserCookie holds the value that binds a login through an identity
// provider to the browser that started it; over HTTPS with the __Host-
// prefix, so that a sibling subdomain cannot plant its own value.
func (c Cookies) ssoBrowserCookie() string {
	if c.Secure {
		return "__Host-gardien_sso"
	}
	return "gardien_sso"
}

// SSOBrowser returns the browser's SSO binding value, or "".
func (c Cookies) SSOBrowser(r *http.Request) string {
	ck, err := r.Cookie(c.ssoBrowserCookie())
	if err != nil {
		return ""
	}
	return ck.Value
}

// SetSSOBrowser keeps the browser's SSO binding value until its logins
// end.
func (c Cookies) SetSSOBrowser(w http.ResponseWriter, value string, expires time.Time) {
	c.write(w, &http.Cookie{Name: c.ssoBrowserCookie(), Value: value, Expires: expires})
}

// passkeyLoginCookie binds a login with a passkey alone to the browser that
// began it (its ceremony's token); __Host- over HTTPS, as the session's.
func (c Cookies) passkeyLoginCookie() string {
	if c.Secure {
		return "__Host-gardien_passkey_login"
	}
	return "gardien_passkey_login"
}

// PasskeyLogin returns the token of the browser's login with a passkey, or "".
func (c Cookies) PasskeyLogin(r *http.Request) string {
	ck, err := r.Cookie(c.passkeyLoginCookie())
	if err != nil {
		return ""
	}
	return ck.Value
}

// SetPasskeyLogin keeps the token of a login with a passkey for lifetime;
// ClearPasskeyLogin removes it once the login is answered.
func (c Cookies) SetPasskeyLogin(w http.ResponseWriter, token string, lifetime time.Duration) {
	c.Write(w, c.passkeyLoginCookie(), token, lifetime)
}

func (c Cookies) ClearPasskeyLogin(w http.ResponseWriter) { c.Remove(w, c.passkeyLoginCookie()) }

// browserCookie keeps a random value of the browser's across its sessions
// and logouts: what tells a login from a browser the account has used
// before from one it has not.
func (c Cookies) browserCookie() string {
	if c.Secure {
		return "__Host-gardien_browser"
	}
	return "gardien_browser"
}

// browserLifetime is the longest a browser keeps a cookie (Chrome's cap).
const browserLifetime = 400 * 24 * time.Hour

// LoginClient is Client for a request that may complete a login: it
// carries the browser's value, a new one (and its cookie) when the browser
// has none or one that is not Gardien's shape; each login makes it last
// again.
func (c Cookies) LoginClient(w http.ResponseWriter, r *http.Request) gardien.Client {
	cl := Client(r)
	if ck, err := r.Cookie(c.browserCookie()); err == nil && browserShaped(ck.Value) {
		cl.Browser = ck.Value
	} else {
		b := make([]byte, 32)
		rand.Read(b) // never fails (crypto/rand)
		cl.Browser = base64.RawURLEncoding.EncodeToString(b)
	}
	c.Write(w, c.browserCookie(), cl.Browser, browserLifetime)
	return cl
}

func browserShaped(v string) bool {
	if len(v) != 43 {
		return false
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Current is the logged-in person of a request, if any.
type Current struct {
	Session *gardien.Session
	User    *gardien.User
	// Token is the API token the request came with (Authorization:
	// Bearer), nil for a session cookie's request. Its Session stands for
	// the token (no row).
	Token *gardien.APIToken
}

// BearerToken returns the token of an Authorization: Bearer header, and
// whether the header is there at all (a request that says Bearer is a
// token's, whatever its cookies).
func BearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, tok, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

type ctxKey struct{}

// WithCurrent returns ctx carrying the current session.
func WithCurrent(ctx context.Context, c *Current) context.Context {
	return context.WithValue(ctx, ctxKey{}, c)
}

// CurrentOf returns the request's session, or nil when nobody is logged in.
func CurrentOf(r *http.Request) *Current { return CurrentIn(r.Context()) }

// CurrentIn returns the session a request's context holds, or nil.
func CurrentIn(ctx context.Context) *Current {
	c, _ := ctx.Value(ctxKey{}).(*Current)
	return c
}

// Client describes where a request comes from: the TCP peer's address, or
// the client's as a trusted proxy reports it (server.realClient, from
// GARDIEN_TRUSTED_PROXIES, has put it in RemoteAddr by then).
func Client(r *http.Request) gardien.Client {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	// Headers may carry any bytes and any length; what is stored is valid
	// UTF-8 (PostgreSQL refuses the rest), cut between characters.
	return gardien.Client{IP: ip, UserAgent: gardien.Clip(r.UserAgent(), 512)}
}

// Lang is the language of a request: the logged-in person's saved choice,
// else the picker's cookie, else Accept-Language.
func Lang(cat *i18n.Catalog, r *http.Request) string {
	saved := ""
	if cur := CurrentOf(r); cur != nil {
		saved = cur.User.Locale
	}
	return cat.ForRequest(r, saved)
}

// Status is the one table from an error code to an HTTP status, for the
// API's problems and the pages alike. An unknown code is a 500: a code
// nobody mapped is our mistake, not the client's.
func Status(code gardien.Code) int {
	switch code {
	case gardien.CodeInvalidCredentials, gardien.CodeUnauthorized, gardien.CodeInvalidCode:
		return http.StatusUnauthorized
	case gardien.CodeEmailNotVerified, gardien.CodeSSOUser, gardien.CodeForbidden, gardien.CodeSSORequired,
		gardien.CodeTwoFactorRequired, gardien.CodeTwoFactorSetupRequired, gardien.CodeTwoFactorRequiredByOrg:
		return http.StatusForbidden
	case gardien.CodeTwoFactorAlreadyEnabled, gardien.CodeConflict:
		return http.StatusConflict
	case gardien.CodeRateLimited:
		return http.StatusTooManyRequests
	case gardien.CodeNotFound, gardien.CodeSSONotConfigured:
		return http.StatusNotFound
	case gardien.CodeSSOFailed:
		return http.StatusBadRequest
	case gardien.CodeValidationFailed:
		return http.StatusUnprocessableEntity
	case gardien.CodeBodyTooLarge:
		return http.StatusRequestEntityTooLarge
	case gardien.CodeInvalidToken, gardien.CodeMalformed:
		return http.StatusBadRequest
	case gardien.CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// RetryUnavailable is when to try again after a 503 (the database did not
// answer): pages and API alike.
const RetryUnavailable = 5 * time.Second

// RetryAfter is a Retry-After value: whole seconds, rounded up, at least 1.
func RetryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int((d+time.Second-1)/time.Second)))
}

// PathID reads a numeric path value; ok is false for anything that is not
// a positive number (the caller answers 404).
func PathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}

// Routes is a set of routes of literal paths ("POST /login/two-factor"),
// matched by method and path as they come: a transport names with it the
// routes whose handlers read the request's session themselves (through
// auth, inside the transaction of their work), which the server's
// middleware then does not look up first. A request that reaches one by
// another spelling of its path is looked up as any other: the handler does
// not depend on it.
type Routes struct{ set map[route]bool }

type route struct{ method, path string }

// Add adds a route given as "METHOD /path".
func (rs *Routes) Add(pattern string) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || strings.ContainsAny(path, "{ ") {
		panic("httpx: not a literal route: " + pattern)
	}
	if rs.set == nil {
		rs.set = map[route]bool{}
	}
	rs.set[route{method, path}] = true
}

// Has says whether r is for one of the routes.
func (rs Routes) Has(r *http.Request) bool { return rs.set[route{r.Method, r.URL.Path}] }
