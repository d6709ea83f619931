// Package oidcop is Gardien's OpenID Provider: the endpoints through which
// an organization's apps sign its people in (discovery, keys, authorize,
// token, userinfo, revocation, introspection, end_session). It is
// zitadel/oidc's op package with a storage over auth: who may sign in to
// which app, and what a reused code or refresh token ends, are auth's.
package oidcop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
	"github.com/gardien/gardien/internal/sso"
)

// The provider's paths, under /oauth/ (discovery is where the spec puts it).
const (
	PathAuthorize  = "/oauth/authorize"
	PathCallback   = "/oauth/authorize/callback"
	PathToken      = "/oauth/token"
	PathUserinfo   = "/oauth/userinfo"
	PathRevoke     = "/oauth/revoke"
	PathIntrospect = "/oauth/introspect"
	PathEndSession = "/oauth/end_session"
	PathKeys       = "/oauth/keys"
	PathDiscovery  = "/.well-known/openid-configuration"
	// PathContinue is the page (internal/web) that decides, once the person
	// is logged in, whether the app gets its code.
	PathContinue = "/oauth/continue"
)

// maxForm bounds the body of a request to the provider.
const maxForm = 64 << 10

// Provider is the OpenID Provider's HTTP handler.
type Provider struct {
	auth   *auth.Service
	op     *op.Provider
	issuer string
	log    *slog.Logger
	keys   keyCache
	// client posts back-channel logouts: its addresses are checked.
	client *http.Client
}

// New makes the provider for issuer (Gardien's base URL). cryptoKey seals
// the access tokens it hands out (the same on every node).
// allowPrivate lets back-channel logout URIs be on this machine or a
// private network.
func New(a *auth.Service, issuer string, cryptoKey [32]byte, allowPrivate bool, log *slog.Logger) (*Provider, error) {
	p := &Provider{auth: a, issuer: strings.TrimSuffix(issuer, "/"), log: log,
		client: sso.NewCheckedClient(allowPrivate, 10*time.Second, 64<<10)}
	p.keys.auth = a
	s := &storage{p: p}
	cfg := &op.Config{
		CryptoKey:                         cryptoKey,
		DefaultLogoutRedirectURI:          p.issuer + "/login",
		CodeMethodS256:                    true,
		AuthMethodPost:                    true,
		GrantTypeRefreshToken:             true,
		SupportedScopes:                   []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess},
		SupportedClaims:                   []string{"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "acr", "amr", "c_hash", "at_hash", "azp", "name", "email", "email_verified", "org_id", "org_role"},
		BackChannelLogoutSupported:        true,
		BackChannelLogoutSessionSupported: true,
	}
	opts := []op.Option{
		op.WithCustomAuthEndpoint(op.NewEndpoint(PathAuthorize)),
		op.WithCustomTokenEndpoint(op.NewEndpoint(PathToken)),
		op.WithCustomUserinfoEndpoint(op.NewEndpoint(PathUserinfo)),
		op.WithCustomRevocationEndpoint(op.NewEndpoint(PathRevoke)),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint(PathIntrospect)),
		op.WithCustomEndSessionEndpoint(op.NewEndpoint(PathEndSession)),
		op.WithCustomKeysEndpoint(op.NewEndpoint(PathKeys)),
		// No endpoint takes cookies from a script: the token, userinfo and
		// revocation calls of a single-page app carry their own proof.
		op.WithCORSOptions(&cors.Options{AllowCredentials: false, AllowOriginFunc: func(string) bool { return true },
			AllowedHeaders: []string{"Accept", "Authorization", "Content-Type"}, AllowedMethods: []string{http.MethodGet, http.MethodPost}}),
	}
	if strings.HasPrefix(p.issuer, "http://") {
		opts = append(opts, op.WithAllowInsecure())
	}
	o, err := op.NewProvider(cfg, s, op.StaticIssuer(p.issuer), opts...)
	if err != nil {
		return nil, err
	}
	p.op = o
	return p, nil
}

// Routes are the patterns the provider serves, for the server's mux.
var Routes = []string{PathDiscovery, PathAuthorize, PathCallback, PathToken, PathUserinfo, PathRevoke, PathIntrospect, PathEndSession, PathKeys}

// NoCrossOriginCheck are the routes apps call from their servers or
// scripts with their own proof (a client secret, a token, PKCE), never a
// cookie: the server's cross-origin protection lets them through.
var NoCrossOriginCheck = []string{"POST " + PathToken, "POST " + PathUserinfo, "POST " + PathRevoke, "POST " + PathIntrospect, "POST " + PathEndSession}

// ServeHTTP serves the provider's endpoints.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A form op cannot read would be its 500: refuse it here. No request
	// of an app's is long (a code, a token, a few URIs).
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "invalid_request", "the request is too large")
			return
		}
		writeError(w, http.StatusBadRequest, "invalid_request", "the request cannot be read")
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), stateKey{}, &requestState{}))
	switch r.URL.Path {
	case PathCallback:
		p.callback(w, r)
		return
	case PathAuthorize:
		p.authorize(w, r)
		return
	case PathDiscovery:
		p.discovery(w, r)
		return
	case PathToken, PathUserinfo, PathRevoke, PathIntrospect, PathEndSession, PathKeys:
	default:
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint")
		return
	}
	p.op.ServeHTTP(w, r)
}

// authorize is op's authorization endpoint, which checks the app's request
// and sends the browser to the continue page. For a browser with a full
// session the grant waits in memory (CreateAuthRequest), and when its
// sign-in needs nothing more it is stored done with its code in one write
// and the code goes to the app at once (auth.SignInAtOnce): no continue
// page, no callback.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	cur := httpx.CurrentIn(r.Context())
	held := &heldAnswer{header: http.Header{}}
	if cur == nil || cur.Session.Level != gardien.LevelFull {
		p.op.ServeHTTP(held, r)
		p.toContinue(w, r, held)
		return
	}
	st := stateOf(r.Context())
	st.atOnce = true
	p.op.ServeHTTP(held, r)
	if st.grant == nil {
		held.replay(w) // refused before any grant: op's answer
		return
	}
	req := &authRequest{g: st.grant}
	code, err := op.BuildAuthRequestCode(req, p.op.Crypto())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "server_error", "the code could not be made")
		return
	}
	done, err := p.auth.SignInAtOnce(r.Context(), cur.Session, cur.User, st.grant, st.app, code, httpx.Client(r))
	if err != nil {
		p.log.ErrorContext(r.Context(), "app sign-in", "err", err)
		writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "try again in a moment")
		return
	}
	if !done {
		p.toContinue(w, r, held) // the stored grant waits for it
		return
	}
	answer := &op.CodeResponseType{Code: code, State: st.grant.Request.State}
	if req.GetResponseMode() == oidc.ResponseModeFormPost {
		if err := op.AuthResponseFormPost(w, req.GetRedirectURI(), answer, p.op.Encoder()); err != nil {
			writeError(w, http.StatusInternalServerError, "server_error", "the answer could not be made")
		}
		return
	}
	to, err := op.AuthResponseURL(req.GetRedirectURI(), req.GetResponseType(), req.GetResponseMode(), answer, p.op.Encoder())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "server_error", "the answer could not be made")
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

// discovery is op's OpenID configuration, saying only what Gardien does:
// the code flow (op also lists the implicit flow, the device flow and JWT
// grants, which no app of Gardien's may use), and the acr values and
// languages it knows.
func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	held := &heldAnswer{header: http.Header{}}
	p.op.ServeHTTP(held, r)
	var doc map[string]any
	if held.status != http.StatusOK || json.Unmarshal(held.body.Bytes(), &doc) != nil {
		held.replay(w)
		return
	}
	delete(doc, "device_authorization_endpoint")
	doc["response_types_supported"] = []string{"code"}
	doc["response_modes_supported"] = []string{"query", "form_post"}
	doc["grant_types_supported"] = []string{"authorization_code", "refresh_token"}
	doc["acr_values_supported"] = []string{auth.ACRPassword, auth.ACRMFA, auth.ACRSSO}
	doc["ui_locales_supported"] = []string{"en", "fr"}
	doc["prompt_values_supported"] = []string{"none", "login", "consent"}
	doc["claims_parameter_supported"] = false
	doc["request_parameter_supported"] = false
	b, err := json.Marshal(doc)
	if err != nil {
		held.replay(w)
		return
	}
	for k, v := range held.header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.Write(b)
}

// SignInCookie names the sign-ins to apps this browser started (their
// grants' ids, the latest few): the continue page goes on only with one
// of them, so that a link to another browser's sign-in does nothing here.
const SignInCookie = "gardien_sign_ins"

// toContinue sends op's answer, and when it sends the browser to the
// continue page, marks the sign-in as this browser's.
func (p *Provider) toContinue(w http.ResponseWriter, r *http.Request, held *heldAnswer) {
	if id, ok := strings.CutPrefix(held.header.Get("Location"), PathContinue+"?id="); ok {
		ids := []string{id}
		if ck, err := r.Cookie(SignInCookie); err == nil {
			for _, old := range strings.Split(ck.Value, ".") {
				if len(ids) < 5 && old != id && old != "" {
					ids = append(ids, old)
				}
			}
		}
		http.SetCookie(w, &http.Cookie{Name: SignInCookie, Value: strings.Join(ids, "."), Path: PathContinue,
			MaxAge: int(auth.SignInTime / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode,
			Secure: strings.HasPrefix(p.issuer, "https://")})
	}
	held.replay(w)
}

// heldAnswer keeps an answer to send later, or not.
type heldAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (h *heldAnswer) Header() http.Header { return h.header }
func (h *heldAnswer) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
	}
}
func (h *heldAnswer) Write(b []byte) (int, error) {
	h.WriteHeader(http.StatusOK)
	return h.body.Write(b)
}

func (h *heldAnswer) replay(w http.ResponseWriter) {
	for k, v := range h.header {
		w.Header()[k] = v
	}
	w.WriteHeader(max(h.status, http.StatusOK))
	w.Write(h.body.Bytes())
}

func writeError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(`{"error":"` + code + `","error_description":"` + description + `"}` + "\n"))
}

// callback gives the app its code once the sign-in is done, in the browser
// that did it: a grant is bound to the session that completed it, so a
// sign-in started in one browser cannot be finished, and its code taken,
// in another. With prompt=none, what the person would have to do is the
// app's error.
func (p *Provider) callback(w http.ResponseWriter, r *http.Request) {
	id := r.Form.Get("id")
	g, _, err := p.auth.AppSignIn(r.Context(), id)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "no such sign-in")
		return
	}
	req := &authRequest{g: g}
	cur := httpx.CurrentIn(r.Context())
	if g.Done() && cur != nil && cur.Session.ID == g.SessionID {
		op.AuthResponse(req, p.op, w, r)
		return
	}
	refusal := r.Form.Get("error")
	if refusal == "" {
		refusal = "login_required"
	}
	var e *oidc.Error
	switch refusal {
	case "interaction_required":
		e = oidc.ErrInteractionRequired()
	default:
		e = oidc.ErrLoginRequired()
	}
	op.AuthRequestError(w, r, req, e, p.op)
}

// CallbackURL is where the continue page sends a browser once the
// sign-in is decided; refusal is the OpenID error for prompt=none ("" none).
func CallbackURL(grantID, refusal string) string {
	v := url.Values{"id": {grantID}}
	if refusal != "" {
		v.Set("error", refusal)
	}
	return PathCallback + "?" + v.Encode()
}

// stateKey holds a request's requestState in its context.
type stateKey struct{}

// requestState carries what one call learns for later in the same call:
// the apps op looked up (by client id; the signing algorithm of the last,
// for the key op asks for when it signs), and, for a sign-in that may be
// done at once, its grant not yet stored.
type requestState struct {
	alg    string
	apps   map[string]*gardien.App
	atOnce bool
	grant  *gardien.Grant
	app    *gardien.App
}

func stateOf(ctx context.Context) *requestState {
	if s, ok := ctx.Value(stateKey{}).(*requestState); ok {
		return s
	}
	return &requestState{}
}

// keyCache keeps the unsealed signing keys a minute: unsealing and parsing
// an RSA key costs more than the signature.
type keyCache struct {
	auth    *auth.Service
	mu      sync.Mutex
	keys    []auth.SigningKey
	fetched time.Time
}

const keysFresh = time.Minute

func (c *keyCache) get(ctx context.Context) ([]auth.SigningKey, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.auth.Now()
	if c.keys != nil && now.Sub(c.fetched) < keysFresh && !now.Before(c.fetched) {
		return c.keys, nil
	}
	keys, err := c.auth.SigningKeys(ctx)
	if err != nil {
		if c.keys != nil {
			return c.keys, nil
		}
		return nil, err
	}
	c.keys, c.fetched = keys, now
	return keys, nil
}

func (c *keyCache) signing(ctx context.Context, alg string) (*auth.SigningKey, error) {
	keys, err := c.get(ctx)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(keys, func(k auth.SigningKey) bool { return k.Alg == alg && !k.Retired })
	if i < 0 {
		return nil, errors.New("oidcop: no signing key for " + alg)
	}
	return &keys[i], nil
}

// subjectOf names a grant's person as apps know them.
func subjectOf(g *gardien.Grant) string { return auth.Subject(g.UserID) }
