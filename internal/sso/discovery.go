package sso

import (
	"context"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/sync/singleflight"
)

// maxDiscovered bounds the issuers whose discovery is kept.
const maxDiscovered = 1000

// discoveryCache keeps OpenID Providers' discovery documents (and, in
// go-oidc's Provider, their signing keys) for a lifetime, so that a login's
// start does not fetch the provider again: a burst of logins asks each
// provider once, and one slow or hostile provider costs its own logins only.
type discoveryCache struct {
	ttl     time.Duration
	now     func() time.Time
	flights singleflight.Group
	mu      sync.Mutex
	kept    map[string]discovered
}

type discovered struct {
	prov *oidc.Provider
	at   time.Time
}

func newDiscoveryCache(ttl time.Duration, now func() time.Time) *discoveryCache {
	return &discoveryCache{ttl: ttl, now: now, kept: map[string]discovered{}}
}

// get returns an issuer's provider, discovered within the lifetime.
func (c *discoveryCache) get(ctx context.Context, p *Protocols, issuer string) (*oidc.Provider, error) {
	if prov, ok := c.fresh(issuer); ok {
		return prov, nil
	}
	v, err, _ := c.flights.Do(issuer, func() (any, error) {
		// A caller that missed the cache just as another's fetch ended
		// finds its result here, not a second fetch.
		if prov, ok := c.fresh(issuer); ok {
			return prov, nil
		}
		return c.fetch(ctx, p, issuer)
	})
	if err != nil {
		return nil, err
	}
	return v.(*oidc.Provider), nil
}

// fresh is an issuer's provider kept within the lifetime.
func (c *discoveryCache) fresh(issuer string) (*oidc.Provider, bool) {
	c.mu.Lock()
	d, ok := c.kept[issuer]
	c.mu.Unlock()
	if ok && c.now().Sub(d.at) < c.ttl {
		return d.prov, true
	}
	return nil, false
}

// refresh discovers an issuer now (one fetch for concurrent callers) and
// keeps the result; a failure keeps nothing.
func (c *discoveryCache) refresh(ctx context.Context, p *Protocols, issuer string) (*oidc.Provider, error) {
	v, err, _ := c.flights.Do(issuer, func() (any, error) { return c.fetch(ctx, p, issuer) })
	if err != nil {
		return nil, err
	}
	return v.(*oidc.Provider), nil
}

// fetch discovers an issuer and keeps it; run inside a flight.
func (c *discoveryCache) fetch(ctx context.Context, p *Protocols, issuer string) (*oidc.Provider, error) {
	// Shared by every caller waiting: not cancelled by the first one.
	prov, err := p.discover(context.WithoutCancel(ctx), issuer)
	if err != nil {
		return nil, err
	}
	c.keep(issuer, prov)
	return prov, nil
}

func (c *discoveryCache) keep(issuer string, prov *oidc.Provider) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.kept) >= maxDiscovered {
		for k, d := range c.kept {
			if now.Sub(d.at) >= c.ttl {
				delete(c.kept, k)
			}
		}
	}
	if len(c.kept) >= maxDiscovered {
		for k := range c.kept { // all live: drop any one
			delete(c.kept, k)
			break
		}
	}
	c.kept[issuer] = discovered{prov: prov, at: now}
}
