package sso_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"math/big"
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
