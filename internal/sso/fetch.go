package sso

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
	"unicode/utf8"
)

// maxAnswer bounds what Gardien reads of any one answer of a provider
// (discovery, keys, token, userinfo): the largest real ones are a few
// kilobytes.
const maxAnswer = 256 << 10

// ErrAnswerTooLarge is a provider's answer longer than Gardien reads.
var ErrAnswerTooLarge = errors.New("sso: the provider's answer is too large")

// ErrAddressRefused is a provider URL that is not https, or whose host is
// (or resolves to) an address of this machine or of a private network,
// while the operator has not allowed those.
var ErrAddressRefused = errors.New("sso: the provider's address is not allowed")

// NewCheckedClient is an HTTP client for any URL Gardien is given to reach
// (an app's back-channel logout URI): newClient's checks, answers cut at
// limit bytes.
func NewCheckedClient(allowPrivate bool, timeout time.Duration, limit int64) *http.Client {
	return newClient(allowPrivate, timeout, limit)
}

// newClient is the HTTP client that reaches providers: every connection is
// checked after DNS (so a name that resolves, or later rebinds, to an
// internal address is refused), every redirect too, and every answer is
// cut at limit bytes.
func newClient(allowPrivate bool, timeout time.Duration, limit int64) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s", ErrAddressRefused, address)
		}
		if !allowPrivate && !public(ap.Addr()) {
			return fmt.Errorf("%w: %s is not a public address", ErrAddressRefused, ap.Addr())
		}
		return nil
	}}
	transport := &http.Transport{
		// No proxy: the address checked must be the provider's own.
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
	}
	return &http.Client{
		Timeout:   timeout,
		Transport: limitedAnswers{next: transport, limit: limit},
		CheckRedirect: func(r *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("sso: too many redirects")
			}
			return checkURL(r.URL, allowPrivate)
		},
	}
}

// checkURL says whether Gardien may fetch u: https, or plain http to this
// machine when the operator allows private providers (a provider on the
// same host, or a test's). The address itself is checked when connecting.
func checkURL(u *url.URL, allowPrivate bool) error {
	switch {
	case u.Host == "" || u.User != nil:
		return fmt.Errorf("%w: %q is not an https:// URL", ErrAddressRefused, u.Redacted())
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && allowPrivate && loopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("%w: %q is not an https:// URL", ErrAddressRefused, u.Redacted())
}

// parseURL reads a provider URL an owner typed, and checks it.
func parseURL(raw string, allowPrivate bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %q is not a URL", ErrAddressRefused, cutText(raw))
	}
	if err := checkURL(u, allowPrivate); err != nil {
		return nil, err
	}
	return u, nil
}

// loopback says whether host names this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// nonPublic are ranges no identity provider on the internet is in, beyond
// those netip names (loopback, private, link-local, multicast, unspecified).
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b::/96"),   // NAT64: may map to an internal IPv4
	netip.MustParsePrefix("64:ff9b:1::/48"), // local NAT64
	netip.MustParsePrefix("2002::/16"),      // 6to4: embeds an IPv4
	netip.MustParsePrefix("100::/64"),       // discard
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("fec0::/10"),      // site-local (deprecated)
	netip.MustParsePrefix("2001::/32"),      // Teredo: embeds an IPv4
	netip.MustParsePrefix("192.88.99.0/24"), // 6to4 relay anycast
	netip.MustParsePrefix("255.255.255.255/32"),
}

// PublicAddress says whether a is an address on the internet: what
// Gardien may reach for an owner's settings while the operator has not
// allowed private ones.
func PublicAddress(a netip.Addr) bool { return public(a) }

// public says whether a is an address on the internet.
func public(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsGlobalUnicast() || a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// limitedAnswers cuts every answer's body at limit bytes: a read past it
// fails with ErrAnswerTooLarge (the libraries Gardien hands its client to
// read bodies whole).
type limitedAnswers struct {
	next  http.RoundTripper
	limit int64
}

func (l limitedAnswers) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > l.limit {
		resp.Body.Close()
		return nil, fmt.Errorf("%w (%d bytes from %s)", ErrAnswerTooLarge, resp.ContentLength, r.URL.Host)
	}
	resp.Body = &limitedBody{rc: resp.Body, left: l.limit}
	return resp, nil
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the limit from a longer one.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, ErrAnswerTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// maxErrorText bounds the text of an error that carries a provider's
// words (an error page, a discovery document): errors are logged.
const maxErrorText = 300

// cut returns err with its text bounded (it still wraps err).
func cut(err error) error {
	if err == nil || len(err.Error()) <= maxErrorText {
		return err
	}
	return &cutError{text: cutText(err.Error()), err: err}
}

type cutError struct {
	text string
	err  error
}

func (e *cutError) Error() string { return e.text }
func (e *cutError) Unwrap() error { return e.err }

// cutText is s cut at maxErrorText bytes, on a character boundary, and
// marked as cut.
func cutText(s string) string {
	if len(s) <= maxErrorText {
		return s
	}
	s = s[:maxErrorText]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "… (cut)"
}
