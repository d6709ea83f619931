package oidcop

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
)

// storage is op.Storage over auth.
type storage struct{ p *Provider }

var errUnsupported = errors.New("oidcop: not supported")

// authRequest is a grant as op sees an authentication request.
type authRequest struct{ g *gardien.Grant }

func (a *authRequest) GetID() string          { return a.g.ID }
func (a *authRequest) GetACR() string         { return a.g.ACR }
func (a *authRequest) GetAMR() []string       { return a.g.AMR }
func (a *authRequest) GetAudience() []string  { return []string{a.g.ClientID} }
func (a *authRequest) GetAuthTime() time.Time { return a.g.AuthTime }
func (a *authRequest) GetClientID() string    { return a.g.ClientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	return &oidc.CodeChallenge{Challenge: a.g.Request.CodeChallenge, Method: oidc.CodeChallengeMethod(a.g.Request.CodeChallengeMethod)}
}
func (a *authRequest) GetNonce() string       { return a.g.Request.Nonce }
func (a *authRequest) GetRedirectURI() string { return a.g.Request.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType {
	return oidc.ResponseType(a.g.Request.ResponseType)
}
func (a *authRequest) GetResponseMode() oidc.ResponseMode {
	return oidc.ResponseMode(a.g.Request.ResponseMode)
}
func (a *authRequest) GetScopes() []string { return a.g.Request.Scopes }
func (a *authRequest) GetState() string    { return a.g.Request.State }
func (a *authRequest) GetSubject() string  { return subjectOf(a.g) }
func (a *authRequest) Done() bool          { return a.g.Done() }

// refreshRequest is a grant as op sees a refresh.
type refreshRequest struct {
	authRequest
}

func (r *refreshRequest) SetCurrentScopes(scopes []string) { r.g.Request.Scopes = scopes }

// grantOf is the grant behind a request op hands back.
func grantOf(req any) (*gardien.Grant, bool) {
	switch r := req.(type) {
	case *authRequest:
		return r.g, true
	case *refreshRequest:
		return r.g, true
	}
	return nil, false
}

// client is an app as op sees its client.
type client struct{ a *gardien.App }

func (c client) GetID() string                    { return c.a.ClientID }
func (c client) RedirectURIs() []string           { return c.a.RedirectURIs }
func (c client) PostLogoutRedirectURIs() []string { return c.a.PostLogoutRedirectURIs }
func (c client) ApplicationType() op.ApplicationType {
	switch c.a.Type {
	case gardien.AppSPA:
		return op.ApplicationTypeUserAgent
	case gardien.AppNative:
		return op.ApplicationTypeNative
	}
	return op.ApplicationTypeWeb
}

// AuthMethod: a web app proves itself with its secret, by Basic
// authentication or in the form (op reads both); a public app by PKCE.
func (c client) AuthMethod() oidc.AuthMethod {
	if c.a.Type.Confidential() {
		return oidc.AuthMethodBasic
	}
	return oidc.AuthMethodNone
}
func (c client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}
func (c client) LoginURL(id string) string           { return PathContinue + "?id=" + id }
func (c client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c client) IDTokenLifetime() time.Duration      { return auth.IDTokenLifetime }

// DevMode lets an http:// redirect URI through op's checks: registration
// (auth) accepts http only to loopback, and op compares URIs exactly.
func (c client) DevMode() bool { return true }
func (c client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c client) IsScopeAllowed(string) bool { return false }

// IDTokenUserinfoClaimsAssertion: the ID token says who the person is
// (email, name) even beside an access token; many apps read nothing else.
func (c client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c client) ClockSkew() time.Duration             { return 0 }

// oidcError turns auth's refusal into the OAuth error op answers with; a
// failure of Gardien's own stays one (op answers 500).
func oidcError(err error, fallback func() *oidc.Error) error {
	if e, ok := gardien.AsError(err); ok {
		return fallback().WithDescription("%s", e.Message).WithParent(err)
	}
	return err
}

// app is the app of a client id, looked up once a call.
func (s *storage) app(ctx context.Context, clientID string) (*gardien.App, error) {
	st := stateOf(ctx)
	if a, ok := st.apps[clientID]; ok {
		return a, nil
	}
	a, err := s.p.auth.AppOfClient(ctx, clientID)
	if err != nil {
		return nil, err
	}
	if st.apps == nil {
		st.apps = map[string]*gardien.App{}
	}
	st.apps[clientID] = a
	return a, nil
}

func (s *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	a, err := s.app(ctx, req.ClientID)
	if err != nil {
		return nil, oidcError(err, oidc.ErrInvalidClient)
	}
	r := gardien.AppRequest{ResponseType: string(req.ResponseType), ResponseMode: string(req.ResponseMode), RedirectURI: req.RedirectURI,
		Scopes: req.Scopes, State: req.State, Nonce: req.Nonce, CodeChallenge: req.CodeChallenge,
		CodeChallengeMethod: string(req.CodeChallengeMethod), Prompt: req.Prompt, LoginHint: req.LoginHint,
		ACRValues: req.ACRValues}
	if req.MaxAge != nil {
		age := int64(*req.MaxAge)
		r.MaxAge = &age
	}
	for _, l := range req.UILocales {
		r.UILocales = append(r.UILocales, l.String())
	}
	st := stateOf(ctx)
	var g *gardien.Grant
	if st.atOnce {
		g, err = s.p.auth.NewAppSignIn(a, r) // stored by the provider's authorize
		st.grant, st.app = g, a
	} else {
		g, err = s.p.auth.StartAppSignIn(ctx, a, r)
	}
	if err != nil {
		if gardien.ErrorCode(err) == gardien.CodeValidationFailed {
			return nil, oidc.ErrInvalidRequest().WithDescription("PKCE with S256 is required (code_challenge, code_challenge_method=S256)")
		}
		return nil, err
	}
	return &authRequest{g: g}, nil
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	g, _, err := s.p.auth.AppSignIn(ctx, id)
	if err != nil {
		return nil, oidcError(err, oidc.ErrInvalidRequest)
	}
	return &authRequest{g: g}, nil
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	g, err := s.p.auth.RedeemAppCode(ctx, code)
	if err != nil {
		return nil, oidcError(err, oidc.ErrInvalidGrant)
	}
	return &authRequest{g: g}, nil
}

func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return s.p.auth.SetAppCode(ctx, id, code)
}

// DeleteAuthRequest keeps the grant: its tokens stand on it, and a reused
// code must find it to revoke them.
func (s *storage) DeleteAuthRequest(context.Context, string) error { return nil }

func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	g, ok := grantOf(req)
	if !ok {
		return "", time.Time{}, errUnsupported
	}
	id, _, exp, err := s.p.auth.IssueAppTokens(ctx, g, false)
	if err != nil {
		return "", time.Time{}, oidcError(err, oidc.ErrInvalidGrant)
	}
	return id, exp, nil
}

func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, _ string) (string, string, time.Time, error) {
	g, ok := grantOf(req)
	if !ok {
		return "", "", time.Time{}, errUnsupported
	}
	id, refresh, exp, err := s.p.auth.IssueAppTokens(ctx, g, true)
	if err != nil {
		return "", "", time.Time{}, oidcError(err, oidc.ErrInvalidGrant)
	}
	return id, refresh, exp, nil
}

func (s *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	g, err := s.p.auth.RefreshAppGrant(ctx, token)
	if err != nil {
		if _, ok := gardien.AsError(err); ok {
			return nil, op.ErrInvalidRefreshToken
		}
		return nil, err
	}
	return &refreshRequest{authRequest{g: g}}, nil
}

// TerminateSession ends, at an app's request (RP-initiated logout with an
// id_token_hint), the Gardien session of this browser when it is the
// hint's person's: the apps it signed in to are told by back-channel.
func (s *storage) TerminateSession(ctx context.Context, userID, _ string) error {
	cur := httpx.CurrentIn(ctx)
	if cur == nil || userID == "" || cur.Session.UserID != auth.SubjectID(userID) {
		return nil
	}
	return s.p.auth.LogOut(ctx, cur.Session, gardien.Client{})
}

// refreshPrefix marks the id GetRefreshTokenInfo gives RevokeToken.
const refreshPrefix = "refresh:"

func (s *storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	g, err := s.p.auth.AppTokenGrant(ctx, token, "refresh")
	if err != nil || g.ClientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return subjectOf(g), refreshPrefix + token, nil
}

func (s *storage) RevokeToken(ctx context.Context, tokenOrID, _, clientID string) *oidc.Error {
	kind, token := "access", tokenOrID
	if t, ok := strings.CutPrefix(tokenOrID, refreshPrefix); ok {
		kind, token = "refresh", t
	}
	if err := s.p.auth.RevokeAppToken(ctx, clientID, token, kind); err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

// signingKey is a private key as op signs with it.
type signingKey struct{ k *auth.SigningKey }

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm {
	return jose.SignatureAlgorithm(k.k.Alg)
}
func (k signingKey) Key() any   { return k.k.Private }
func (k signingKey) ID() string { return k.k.ID }

// publicKey is a key as the JWKS publishes it.
type publicKey struct{ k auth.SigningKey }

func (k publicKey) ID() string                         { return k.k.ID }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.SignatureAlgorithm(k.k.Alg) }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return k.k.Private.Public() }

// SigningKey is the key of the algorithm of the app this call is for
// (learnt when op looked its client up), RS256 when none is known.
func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	alg := stateOf(ctx).alg
	if alg == "" {
		alg = gardien.AlgRS256
	}
	k, err := s.p.keys.signing(ctx, alg)
	if err != nil {
		return nil, err
	}
	return signingKey{k}, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256, jose.ES256}, nil
}

func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	keys, err := s.p.keys.get(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, len(keys))
	for i, k := range keys {
		out[i] = publicKey{k}
	}
	return out, nil
}

func (s *storage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	a, err := s.app(ctx, clientID)
	if err != nil {
		return nil, oidcError(err, oidc.ErrInvalidClient)
	}
	stateOf(ctx).alg = a.SigningAlg
	return client{a}, nil
}

func (s *storage) AuthorizeClientIDSecret(ctx context.Context, clientID, secret string) error {
	a, err := s.app(ctx, clientID)
	if err != nil {
		return oidcError(err, oidc.ErrInvalidClient)
	}
	if err := s.p.auth.CheckAppSecret(ctx, a, secret); err != nil {
		return oidcError(err, oidc.ErrInvalidClient)
	}
	return nil
}

// setClaims writes what the app of a grant is told of its person, by the
// scopes it got.
func (s *storage) setClaims(ctx context.Context, info *oidc.UserInfo, g *gardien.Grant, scopes []string) error {
	a, err := s.app(ctx, g.ClientID)
	if err != nil {
		return oidcError(err, oidc.ErrAccessDenied)
	}
	c, err := s.p.auth.Claims(ctx, g.UserID, a)
	if err != nil {
		return oidcError(err, oidc.ErrAccessDenied)
	}
	info.Subject = c.Subject
	if slices.Contains(scopes, oidc.ScopeEmail) {
		info.Email, info.EmailVerified = c.Email, oidc.Bool(c.EmailVerified)
	}
	if slices.Contains(scopes, oidc.ScopeProfile) {
		info.Name = c.Name
	}
	info.AppendClaims("org_id", c.OrgID)
	if c.OrgRole != "" {
		info.AppendClaims("org_role", string(c.OrgRole))
	}
	return nil
}

// SetUserinfoFromScopes is left to SetUserinfoFromRequest, which knows the
// grant (and so the app's organization).
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	g, ok := grantOf(req)
	if !ok {
		return errUnsupported
	}
	if g.SessionID != 0 {
		info.AppendClaims("sid", auth.SessionSID(g.SessionID))
	}
	return s.setClaims(ctx, info, g, scopes)
}

func (s *storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	g, err := s.p.auth.AppTokenGrant(ctx, tokenID, "access")
	if err != nil || subjectOf(g) != subject {
		return oidc.ErrAccessDenied().WithDescription("the token is not valid")
	}
	return s.setClaims(ctx, info, g, g.Request.Scopes)
}

// SetIntrospectionFromToken answers an app about one of its own tokens;
// another app's token is inactive to it.
func (s *storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	g, err := s.p.auth.AppTokenGrant(ctx, tokenID, "access")
	if err != nil || subjectOf(g) != subject || g.ClientID != clientID {
		return oidc.ErrAccessDenied().WithDescription("the token is not valid")
	}
	info := new(oidc.UserInfo)
	if err := s.setClaims(ctx, info, g, g.Request.Scopes); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.Active, resp.Scope, resp.ClientID, resp.Audience = true, g.Request.Scopes, g.ClientID, []string{g.ClientID}
	resp.AuthTime = oidc.FromTime(g.AuthTime)
	resp.TokenType = oidc.BearerToken
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return map[string]any{}, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errUnsupported
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errUnsupported
}

func (s *storage) Health(context.Context) error { return nil }
