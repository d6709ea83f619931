package sso_test

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gardien/gardien/internal/sso"
	"github.com/gardien/gardien/internal/sso/ssotest"
)

func TestIdentityProviderMetadataIsChecked(t *testing.T) {
	ctx := context.Background()
	idp := ssotest.StartSAMLIdP(t)
	xml, err := sso.New(sso.Options{AllowPrivate: true}).IDPMetadata(ctx, idp.MetadataURL, "")
	if err != nil || !strings.Contains(xml, "SingleSignOnService") {
		t.Fatalf("a live IdP's metadata: %v", err)
	}
	if _, err := sso.New(sso.Options{AllowPrivate: true}).IDPMetadata(ctx, "", xml); err != nil {
		t.Fatalf("the same, pasted: %v", err)
	}
	for name, bad := range map[string]string{
		"not XML":              "hello",
		"no SSO service":       `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"></IDPSSODescriptor></EntityDescriptor>`,
		"expired signing cert": strings.ReplaceAll(xml, xmlCertOf(t, xml), expiredCert(t)),
	} {
		if _, err := sso.New(sso.Options{AllowPrivate: true}).IDPMetadata(ctx, "", bad); err == nil {
			t.Errorf("%s: accepted", name)
		} else if name == "expired signing cert" && !errors.Is(err, sso.ErrCertificateExpired) {
			t.Errorf("expired certificate: %v, want ErrCertificateExpired", err)
		}
	}
	if _, err := sso.New(sso.Options{AllowPrivate: true}).IDPMetadata(ctx, "ftp://example.com/md", ""); err == nil {
		t.Error("a metadata URL that is not https:// was fetched")
	}
}

// expiredCert is the base64 DER of a certificate that ended yesterday.
func expiredCert(t *testing.T) string {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	tmpl := x509.Certificate{SerialNumber: big.NewInt(2), NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

func xmlCertOf(t *testing.T, xml string) string {
	t.Helper()
	open := strings.Index(xml, "<X509Certificate")
	if open < 0 {
		t.Fatal("no certificate in the metadata")
	}
	start := open + strings.Index(xml[open:], ">") + 1
	end := strings.Index(xml[start:], "<")
	return xml[start : start+end]
}

func TestGardiensSAMLRequestsAndMetadataAskForNothingItCannotUse(t *testing.T) {
	key, cert, err := sso.NewSAMLKeyPair("Gardien", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	idp := ssotest.StartSAMLIdP(t)
	p := sso.New(sso.Options{AllowPrivate: true})
	md, err := p.IDPMetadata(context.Background(), idp.MetadataURL, "")
	if err != nil {
		t.Fatal(err)
	}
	c := sso.SAMLClient{EntityID: "https://gardien.example/sso/saml/1/metadata", AcsURL: "https://gardien.example/sso/saml/1/acs",
		KeyDER: key, CertPEM: cert, IDPMetadata: md}
	sp, err := p.SPMetadata(c)
	if err != nil {
		t.Fatal(err)
	}
	// A copy pasted into an IdP's console lasts; no Artifact endpoint that
	// Gardien does not serve.
	for _, bad := range []string{"validUntil", "HTTP-Artifact", "NameIDFormat"} {
		if strings.Contains(string(sp), bad) {
			t.Errorf("the SP metadata holds %s:\n%s", bad, sp)
		}
	}
	to, _, err := p.SAMLAuthURL(c, "relay")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(to)
	z, _ := base64.StdEncoding.DecodeString(u.Query().Get("SAMLRequest"))
	xml, err := io.ReadAll(flate.NewReader(bytes.NewReader(z)))
	if err != nil {
		t.Fatal(err)
	}
	if regexp.MustCompile(`NameIDPolicy[^>]*Format=`).Match(xml) || strings.Contains(string(xml), "emailAddress") {
		t.Errorf("the AuthnRequest asks for a NameID format: %s", xml)
	}
}
