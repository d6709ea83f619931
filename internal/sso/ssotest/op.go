package ssotest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// provider is an OpenID Provider kept in memory, built on zitadel's op
// package alone (its storage, clients and login page are ours): code flow,
// client_secret_basic and _post, RS256.
type provider struct {
	issuer  string
	key     *rsa.PrivateKey
	keyID   string
	people  []OPUser
	clients map[string]Client

	mu       sync.Mutex
	requests map[string]*authRequest // by id
	codes    map[string]string       // code → request id
	tokens   map[string]string       // access token id → person's id
}

func newProvider(issuer string, clients []Client, people []OPUser) (*provider, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	p := &provider{issuer: issuer, key: key, keyID: randomID(), people: people, clients: map[string]Client{},
		requests: map[string]*authRequest{}, codes: map[string]string{}, tokens: map[string]string{}}
	for _, c := range clients {
		p.clients[c.ID] = c
	}
	return p, nil
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// handler is the provider's endpoints and its login page, /login/username
// (fields id, username, password).
func (p *provider) handler() (http.Handler, error) {
	var crypto [32]byte
	rand.Read(crypto[:])
	o, err := op.NewProvider(&op.Config{CryptoKey: crypto, CodeMethodS256: true, AuthMethodPost: true},
		p, op.StaticIssuer(p.issuer), op.WithAllowInsecure())
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/username", func(w http.ResponseWriter, r *http.Request) {
		p.loginPage(w, r.URL.Query().Get("authRequestID"), "")
	})
	mux.HandleFunc("POST /login/username", func(w http.ResponseWriter, r *http.Request) {
		id := r.PostFormValue("id")
		if err := p.logIn(id, r.PostFormValue("username"), r.PostFormValue("password")); err != nil {
			p.loginPage(w, id, err.Error())
			return
		}
		http.Redirect(w, r, o.AuthorizationEndpoint().Absolute(p.issuer)+"/callback?id="+id, http.StatusFound)
	})
	mux.Handle("/", o)
	return mux, nil
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html><html lang="en"><meta charset="utf-8"><title>Log in</title>
<form method="post" action="/login/username"><input type="hidden" name="id" value="{{.ID}}">
<p>{{.Error}}</p>
<label for="username">Username:</label> <input id="username" name="username">
<label for="password">Password:</label> <input id="password" name="password" type="password">
<button type="submit">Login</button></form></html>`))

func (p *provider) loginPage(w http.ResponseWriter, id, problem string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = loginPage.Execute(w, struct{ ID, Error string }{id, problem})
}

func (p *provider) logIn(id, username, password string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	req, ok := p.requests[id]
	if !ok {
		return errors.New("no such login under way")
	}
	for i, u := range p.people {
		if u.Username == username && u.Password == password {
			req.subject, req.authTime, req.done = personID(i), time.Now(), true
			return nil
		}
	}
	return errors.New("wrong username or password")
}

func personID(i int) string { return "u" + strconv.Itoa(i) }

func (p *provider) person(id string) (OPUser, bool) {
	for i, u := range p.people {
		if personID(i) == id {
			return u, true
		}
	}
	return OPUser{}, false
}

// authRequest is a login under way, op.AuthRequest.
type authRequest struct {
	id       string
	req      oidc.AuthRequest
	subject  string
	authTime time.Time
	done     bool
}

func (a *authRequest) GetID() string         { return a.id }
func (a *authRequest) GetACR() string        { return "" }
func (a *authRequest) GetAMR() []string      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string { return []string{a.req.ClientID} }
func (a *authRequest) GetAuthTime() time.Time {
	return a.authTime
}
func (a *authRequest) GetClientID() string { return a.req.ClientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.req.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.req.CodeChallenge, Method: a.req.CodeChallengeMethod}
}
func (a *authRequest) GetNonce() string                   { return a.req.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.req.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return a.req.ResponseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return a.req.ResponseMode }
func (a *authRequest) GetScopes() []string                { return a.req.Scopes }
func (a *authRequest) GetState() string                   { return a.req.State }
func (a *authRequest) GetSubject() string                 { return a.subject }
func (a *authRequest) Done() bool                         { return a.done }

// client is a relying party registered at the provider, op.Client.
type client struct{ Client }

func (c client) GetID() string                       { return c.ID }
func (c client) RedirectURIs() []string              { return []string{c.RedirectURI} }
func (c client) PostLogoutRedirectURIs() []string    { return nil }
func (c client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c client) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (c client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c client) GrantTypes() []oidc.GrantType        { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c client) LoginURL(id string) string           { return "/login/username?authRequestID=" + id }
func (c client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c client) IDTokenLifetime() time.Duration      { return time.Hour }
func (c client) DevMode() bool                       { return true } // http:// redirect URIs on loopback
func (c client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c client) IsScopeAllowed(string) bool           { return false }
func (c client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c client) ClockSkew() time.Duration             { return 0 }

// The provider's storage, op.Storage.

func (p *provider) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := &authRequest{id: randomID(), req: *req}
	p.requests[a.id] = a
	return a, nil
}

func (p *provider) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a, ok := p.requests[id]; ok {
		return a, nil
	}
	return nil, errors.New("no such request")
}

func (p *provider) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	p.mu.Lock()
	id, ok := p.codes[code]
	p.mu.Unlock()
	if !ok {
		return nil, errors.New("no such code")
	}
	return p.AuthRequestByID(ctx, id)
}

func (p *provider) SaveAuthCode(_ context.Context, id, code string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.codes[code] = id
	return nil
}

func (p *provider) DeleteAuthRequest(_ context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.requests, id)
	for code, rid := range p.codes {
		if rid == id {
			delete(p.codes, code)
		}
	}
	return nil
}

func (p *provider) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := randomID()
	p.tokens[id] = req.GetSubject()
	return id, time.Now().Add(5 * time.Minute), nil
}

var errUnsupported = errors.New("ssotest: not supported by the test provider")

func (p *provider) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errUnsupported
}

func (p *provider) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

func (p *provider) TerminateSession(context.Context, string, string) error { return nil }

func (p *provider) RevokeToken(_ context.Context, token, _, _ string) *oidc.Error {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.tokens, token)
	return nil
}

func (p *provider) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

// signingKey is the provider's RSA key, op.SigningKey and op.Key.
type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Algorithm() jose.SignatureAlgorithm          { return jose.RS256 }
func (k signingKey) Use() string                                 { return "sig" }
func (k signingKey) ID() string                                  { return k.id }
func (k signingKey) Key() any                                    { return k.key }

type publicKey struct{ signingKey }

func (k publicKey) Key() any { return &k.key.PublicKey }

func (p *provider) SigningKey(context.Context) (op.SigningKey, error) {
	return signingKey{p.keyID, p.key}, nil
}

func (p *provider) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (p *provider) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{signingKey{p.keyID, p.key}}}, nil
}

func (p *provider) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	c, ok := p.clients[id]
	if !ok {
		return nil, errors.New("no such client")
	}
	return client{c}, nil
}

func (p *provider) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	if c, ok := p.clients[id]; !ok || c.Secret != secret {
		return errors.New("wrong client or secret")
	}
	return nil
}

// setUserinfo fills what the provider says of a person: subject, email,
// whether it is verified, name.
func (p *provider) setUserinfo(info *oidc.UserInfo, subject string) error {
	u, ok := p.person(subject)
	if !ok {
		return errors.New("no such person")
	}
	info.Subject, info.Email, info.EmailVerified, info.Name = subject, u.Email, oidc.Bool(u.EmailVerified), u.Name
	return nil
}

func (p *provider) SetUserinfoFromScopes(_ context.Context, info *oidc.UserInfo, subject, _ string, _ []string) error {
	return p.setUserinfo(info, subject)
}

func (p *provider) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	p.mu.Lock()
	owner, ok := p.tokens[tokenID]
	p.mu.Unlock()
	if !ok || owner != subject {
		return errors.New("no such token")
	}
	return p.setUserinfo(info, subject)
}

func (p *provider) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errUnsupported
}

func (p *provider) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil //nolint:nilnil // op's contract: no private claims
}

func (p *provider) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errUnsupported
}

func (p *provider) ValidateJWTProfileScopes(_ context.Context, _ string, scopes []string) ([]string, error) {
	return slices.Clone(scopes), nil
}

func (p *provider) Health(context.Context) error { return nil }
