// Package sso speaks the protocols of identity providers — OpenID Connect
// (github.com/coreos/go-oidc, golang.org/x/oauth2), and the DNS that proves
// a domain is an organization's — and says in words what went wrong. It
// holds no rule about who may log in: those are in internal/auth.
package sso

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gardien/gardien"
)

// Protocols reaches identity providers and DNS.
type Protocols struct {
	resolver     *net.Resolver
	http         *http.Client
	metadataHTTP *http.Client
	allowPrivate bool
	discovery    *discoveryCache
	now          func() time.Time
}

// Options say how Gardien reaches identity providers.
type Options struct {
	// Resolver answers DNS questions (nil: the system's).
	Resolver *net.Resolver
	// AllowPrivate lets providers be on this machine or a private network
	// (an on-premises identity provider; plain http to loopback too). Off,
	// only https to public addresses is fetched.
	AllowPrivate bool
	// Timeout bounds each fetch (zero: 10 s).
	Timeout time.Duration
	// DiscoveryTTL is how long a provider's discovery document is kept
	// (zero: an hour).
	DiscoveryTTL time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// New returns what reaches identity providers and DNS.
func New(o Options) *Protocols {
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	if o.DiscoveryTTL == 0 {
		o.DiscoveryTTL = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Protocols{resolver: o.Resolver, allowPrivate: o.AllowPrivate, now: o.Now,
		http:         newClient(o.AllowPrivate, o.Timeout, maxAnswer),
		metadataHTTP: newClient(o.AllowPrivate, o.Timeout, maxMetadata+1),
		discovery:    newDiscoveryCache(o.DiscoveryTTL, o.Now)}
}

// NewResolver returns a resolver that asks the DNS server at addr
// (host:port; GARDIEN_DNS_RESOLVER), or the system's when addr is "".
func NewResolver(addr string) *net.Resolver {
	if addr == "" {
		return net.DefaultResolver
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// ErrNoRecord is a DNS answer without the record looked for.
var ErrNoRecord = errors.New("sso: no such DNS record")

// HasTXT says whether domain holds a TXT record of exactly want. The error
// says what DNS answered when it does not (for the person to fix it).
func (p *Protocols) HasTXT(ctx context.Context, domain, want string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	records, err := p.resolver.LookupTXT(ctx, domain)
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return fmt.Errorf("%w: %s has no TXT record", ErrNoRecord, domain)
	}
	if err != nil {
		return fmt.Errorf("sso: DNS lookup of %s: %w", domain, err)
	}
	for _, r := range records {
		if strings.TrimSpace(r) == want {
			return nil
		}
	}
	return fmt.Errorf("%w: %s has %d TXT record(s), none is %q", ErrNoRecord, domain, len(records), want)
}

// CheckIssuer discovers an OpenID Provider anew: its discovery document
// must be served at issuer/.well-known/openid-configuration and name issuer
// itself, exactly as given.
func (p *Protocols) CheckIssuer(ctx context.Context, issuer string) error {
	_, err := p.discovery.refresh(ctx, p, issuer)
	return err
}

// discover fetches an issuer's discovery document.
func (p *Protocols) discover(ctx context.Context, issuer string) (*oidc.Provider, error) {
	if _, err := parseURL(issuer, p.allowPrivate); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, p.http), 15*time.Second)
	defer cancel()
	prov, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return nil, cut(fmt.Errorf("sso: discovery at %s: %w", issuer, err))
	}
	return prov, nil
}

// OIDCClient is an organization's registration at its OpenID Provider.
type OIDCClient struct {
	Issuer, ClientID, ClientSecret string
	RedirectURL                    string // Gardien's callback, registered at the provider
}

// Identity is what an identity provider vouches for.
type Identity = gardien.SSOIdentity

func (p *Protocols) oauth(ctx context.Context, c OIDCClient) (context.Context, *oidc.Provider, *oauth2.Config, error) {
	prov, err := p.discovery.get(ctx, p, c.Issuer)
	if err != nil {
		return nil, nil, nil, err
	}
	return oidc.ClientContext(ctx, p.http), prov, &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Endpoint: prov.Endpoint(),
		RedirectURL: c.RedirectURL, Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}, nil
}

// AuthURL is where to send the person: the provider's authorization
// endpoint, for the code flow with state, nonce and PKCE (S256), and the
// email they typed as login_hint.
func (p *Protocols) AuthURL(ctx context.Context, c OIDCClient, state, nonce, verifier, loginHint string) (string, error) {
	_, _, conf, err := p.oauth(ctx, c)
	if err != nil {
		return "", err
	}
	return conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("login_hint", loginHint)), nil
}

// Exchange turns the provider's code into a verified identity: the code is
// exchanged with the PKCE verifier, the ID token's signature, issuer,
// audience, expiry and nonce are checked, and the email comes from the
// token or, when it holds none, from the userinfo endpoint for the same
// subject.
func (p *Protocols) Exchange(ctx context.Context, c OIDCClient, code, verifier, nonce string) (*Identity, error) {
	ctx, prov, conf, err := p.oauth(ctx, c)
	if err != nil {
		return nil, err
	}
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, cut(fmt.Errorf("%w: %w", errCodeExchange, err))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, errNoIDToken
	}
	idt, err := prov.Verifier(&oidc.Config{ClientID: c.ClientID}).Verify(ctx, raw)
	if err != nil {
		return nil, cut(fmt.Errorf("sso: ID token: %w", err))
	}
	if idt.Nonce != nonce {
		return nil, errNonce
	}
	var claims struct {
		Email         string   `json:"email"`
		EmailVerified *bool    `json:"email_verified"`
		Name          string   `json:"name"`
		AMR           []string `json:"amr"`
		ACR           string   `json:"acr"`
	}
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("sso: ID token claims: %w", err)
	}
	id := &Identity{Subject: idt.Subject, Email: claims.Email, Name: claims.Name, Context: "oidc"}
	if claims.EmailVerified != nil {
		id.EmailVerified = *claims.EmailVerified
	}
	if id.Email == "" {
		ui, err := prov.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return nil, cut(fmt.Errorf("sso: userinfo: %w", err))
		}
		if ui.Subject != idt.Subject {
			return nil, errors.New("sso: userinfo is about another subject than the ID token")
		}
		var more struct {
			Name string `json:"name"`
		}
		if err := ui.Claims(&more); err != nil {
			return nil, fmt.Errorf("sso: userinfo: %w", err)
		}
		id.Email, id.EmailVerified, id.Name = ui.Email, ui.EmailVerified, more.Name
	}
	if len(claims.AMR) > 0 {
		id.Context += " amr=" + strings.Join(claims.AMR, ",")
	}
	if claims.ACR != "" {
		id.Context += " acr=" + claims.ACR
	}
	return id, nil
}
