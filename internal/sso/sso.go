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
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Protocols reaches identity providers and DNS.
type Protocols struct {
	// Resolver answers DNS questions (nil: the system's).
	Resolver *net.Resolver
	// HTTP fetches discovery documents and metadata (nil: a client with a
	// 10 s timeout).
	HTTP *http.Client
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

func (p Protocols) resolver() *net.Resolver {
	if p.Resolver == nil {
		return net.DefaultResolver
	}
	return p.Resolver
}

func (p Protocols) client() *http.Client {
	if p.HTTP == nil {
		return &http.Client{Timeout: 10 * time.Second}
	}
	return p.HTTP
}

// ErrNoRecord is a DNS answer without the record looked for.
var ErrNoRecord = errors.New("sso: no such DNS record")

// HasTXT says whether domain holds a TXT record of exactly want. The error
// says what DNS answered when it does not (for the person to fix it).
func (p Protocols) HasTXT(ctx context.Context, domain, want string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	records, err := p.resolver().LookupTXT(ctx, domain)
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

// CheckIssuer discovers an OpenID Provider: its discovery document must be
// served at issuer/.well-known/openid-configuration and name issuer itself.
func (p Protocols) CheckIssuer(ctx context.Context, issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
		return fmt.Errorf("sso: %q is not an https:// URL", issuer)
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, p.client()), 15*time.Second)
	defer cancel()
	if _, err := oidc.NewProvider(ctx, issuer); err != nil {
		return fmt.Errorf("sso: discovery at %s: %w", issuer, err)
	}
	return nil
}

// loopback says whether host is this machine (plain http is allowed there
// only: a provider on the same host, or a test's).
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
