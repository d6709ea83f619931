package sso_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gardien/gardien/internal/sso"
)

// huge writes n bytes of JSON-looking text without holding them.
func huge(w http.ResponseWriter, n int) {
	chunk := []byte(strings.Repeat("x", 64<<10))
	for sent := 0; sent < n; sent += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			return // the reader hung up: what we want
		}
	}
}

func TestProviderAnswersAreCutAndSoAreTheirWords(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	sent := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		counting := &countWriter{ResponseWriter: w}
		switch {
		case strings.HasPrefix(r.URL.Path, "/big-discovery"):
			w.Header().Set("Content-Type", "application/json")
			counting.Write([]byte(`{"issuer":"`))
			huge(counting, 128<<20)
		case strings.HasPrefix(r.URL.Path, "/error-page"):
			w.WriteHeader(http.StatusInternalServerError)
			huge(counting, 8<<20)
		case strings.HasPrefix(r.URL.Path, "/big-metadata"):
			huge(counting, 128<<20)
		}
		mu.Lock()
		sent[r.URL.Path] = counting.n
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	p := sso.New(sso.Options{AllowPrivate: true})
	for _, issuer := range []string{srv.URL + "/big-discovery", srv.URL + "/error-page"} {
		err := p.CheckIssuer(ctx, issuer)
		if err == nil {
			t.Fatalf("%s: discovered", issuer)
		}
		if n := len(err.Error()); n > 400 {
			t.Errorf("%s: an error of %d bytes (it goes to the log)", issuer, n)
		}
	}
	// (go-oidc words the error with %v: only its text says why.)
	if err := p.CheckIssuer(ctx, srv.URL+"/big-discovery"); err == nil || !strings.Contains(err.Error(), sso.ErrAnswerTooLarge.Error()) {
		t.Errorf("a 128 MiB discovery document: %v, want %v", err, sso.ErrAnswerTooLarge)
	}
	_, err := p.IDPMetadata(ctx, srv.URL+"/big-metadata", "")
	if err == nil || len(err.Error()) > 400 {
		t.Errorf("128 MiB of metadata: %v", err)
	}
	srv.CloseClientConnections()
	mu.Lock()
	defer mu.Unlock()
	for path, n := range sent {
		// What the server managed to write before Gardien hung up: the
		// limit, plus what the sockets' buffers took.
		if n > 16<<20 {
			t.Errorf("%s: Gardien read on to %d MiB", path, n>>20)
		}
	}
}

type countWriter struct {
	http.ResponseWriter
	n int
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += n
	return n, err
}

// discoveryServer is an issuer whose discovery document says just enough
// to start a login, and counts its fetches.
func discoveryServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var fetches atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":%q,"token_endpoint":%q,"jwks_uri":%q}`,
			srv.URL, srv.URL+"/auth", srv.URL+"/token", srv.URL+"/keys")
	}))
	t.Cleanup(srv.Close)
	return srv, &fetches
}

func TestDiscoveryIsKeptForItsLifetime(t *testing.T) {
	ctx := context.Background()
	srv, fetches := discoveryServer(t)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	p := sso.New(sso.Options{AllowPrivate: true, DiscoveryTTL: time.Hour, Now: clock})
	c := sso.OIDCClient{Issuer: srv.URL, ClientID: "gardien", RedirectURL: "http://127.0.0.1/cb"}
	start := func() {
		t.Helper()
		to, err := p.AuthURL(ctx, c, "state", "nonce", "verifier-verifier-verifier-verifier-verifier", "ada@example.com")
		if err != nil || !strings.HasPrefix(to, srv.URL+"/auth?") {
			t.Fatalf("start: %q %v", to, err)
		}
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(start)
	}
	wg.Wait()
	if n := fetches.Load(); n != 1 {
		t.Fatalf("20 starts fetched the discovery document %d times, want 1", n)
	}
	mu.Lock()
	now = now.Add(61 * time.Minute)
	mu.Unlock()
	start()
	start()
	if n := fetches.Load(); n != 2 {
		t.Fatalf("after its lifetime: %d fetches, want 2", n)
	}
	// Saving or testing a connection asks the provider again.
	if err := p.CheckIssuer(ctx, srv.URL); err != nil {
		t.Fatal(err)
	}
	if n := fetches.Load(); n != 3 {
		t.Fatalf("a check: %d fetches, want 3", n)
	}
}

func TestProvidersOnInternalAddressesAreNotFetched(t *testing.T) {
	ctx := context.Background()
	srv, fetches := discoveryServer(t)
	tls := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(tls.Close)
	port := tls.URL[strings.LastIndexByte(tls.URL, ':'):]
	p := sso.New(sso.Options{})
	for _, u := range []string{
		srv.URL,                    // plain http
		tls.URL,                    // https, to loopback
		"https://localhost" + port, // a name resolving to loopback, checked after DNS
		"https://[::ffff:127.0.0.1]" + port,
		"https://10.255.255.1",    // a private network (refused before any packet)
		"https://169.254.169.254", // a cloud's metadata service
		"ftp://example.com/",
		"https://user:pass@example.com/",
	} {
		err := p.CheckIssuer(ctx, u)
		if !errors.Is(err, sso.ErrAddressRefused) {
			t.Errorf("issuer %s: %v, want ErrAddressRefused", u, err)
		}
		if _, err := p.IDPMetadata(ctx, u+"/metadata", ""); !errors.Is(err, sso.ErrAddressRefused) {
			t.Errorf("metadata at %s: %v, want ErrAddressRefused", u, err)
		}
	}
	if fetches.Load() != 0 {
		t.Fatal("an internal address was fetched")
	}

	// Allowed private providers: every redirect is checked all the same.
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	}))
	t.Cleanup(redirecting.Close)
	onPrem := sso.New(sso.Options{AllowPrivate: true})
	for _, to := range []string{"http://10.255.255.1/md", "file:///etc/passwd", "gopher://127.0.0.1/"} {
		if _, err := onPrem.IDPMetadata(ctx, redirecting.URL+"/?to="+to, ""); !errors.Is(err, sso.ErrAddressRefused) {
			t.Errorf("a redirect to %s: %v, want ErrAddressRefused", to, err)
		}
	}
}
