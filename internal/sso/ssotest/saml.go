package ssotest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/crewjam/saml/samlidp"
	dsig "github.com/russellhaering/goxmldsig"
)

// SAMLIdP is a SAML 2.0 identity provider on loopback (crewjam/saml's
// samlidp): a login form at /login, its metadata at /metadata.
type SAMLIdP struct {
	URL         string
	MetadataURL string
}

// SAMLIdPOptions make an identity provider misbehave in one way, for the
// tests of what Gardien refuses.
type SAMLIdPOptions struct {
	KeyBits         int           // its RSA key's size (0: 2048)
	SignatureMethod string        // e.g. dsig.RSASHA1SignatureMethod ("": its default, RSA-SHA256)
	ClockOffset     time.Duration // how far its clock is ahead (negative: behind)
}

// StartSAMLIdP runs an identity provider knowing people (Username logs in
// with Password; Email is the NameID it asserts) until the test ends.
func StartSAMLIdP(t testing.TB, people ...OPUser) *SAMLIdP {
	t.Helper()
	return StartSAMLIdPWith(t, SAMLIdPOptions{}, people...)
}

// StartSAMLIdPWith is StartSAMLIdP with options.
func StartSAMLIdPWith(t testing.TB, o SAMLIdPOptions, people ...OPUser) *SAMLIdP {
	t.Helper()
	if o.KeyBits == 0 {
		o.KeyBits = 2048
	}
	key, err := rsa.GenerateKey(rand.Reader, o.KeyBits)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test idp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	srv := httptest.NewUnstartedServer(nil)
	base, _ := url.Parse("http://" + srv.Listener.Addr().String())
	opts := samlidp.Options{URL: *base, Key: key, Signer: key, Certificate: cert, Store: &samlidp.MemoryStore{}}
	if o.ClockOffset != 0 {
		opts.Clock = dsig.NewFakeClockAt(time.Now().Add(o.ClockOffset))
	}
	idp, err := samlidp.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	idp.IDP.SignatureMethod = o.SignatureMethod
	srv.Config.Handler = idp
	srv.Start()
	t.Cleanup(srv.Close)
	s := &SAMLIdP{URL: base.String(), MetadataURL: base.String() + "/metadata"}
	for _, p := range people {
		pw := p.Password
		body, _ := json.Marshal(samlidp.User{Name: p.Username, PlaintextPassword: &pw, Email: p.Email, CommonName: p.Name})
		s.put(t, "/users/"+p.Username, body)
	}
	return s
}

func (s *SAMLIdP) put(t testing.TB, path string, body []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, s.URL+path, bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("ssotest: PUT %s: %s", path, resp.Status)
	}
}

// Trust registers a service provider by its metadata (Gardien's, for an
// organization).
func (s *SAMLIdP) Trust(t testing.TB, id string, spMetadata []byte) {
	t.Helper()
	s.put(t, "/services/"+id, spMetadata)
}

// Shortcut makes /login/{name} start a login at the IdP for the service
// provider of entityID (an IdP-initiated login: a dashboard's tile).
func (s *SAMLIdP) Shortcut(t testing.TB, name, entityID string) {
	t.Helper()
	body, _ := json.Marshal(samlidp.Shortcut{Name: name, ServiceProviderID: entityID})
	s.put(t, "/shortcuts/"+name, body)
}
