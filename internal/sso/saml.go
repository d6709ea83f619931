package sso

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
)

// SAMLClient is Gardien as an organization's SAML service provider.
type SAMLClient struct {
	EntityID    string // also where its metadata is served
	AcsURL      string // where the identity provider posts its answer
	KeyDER      []byte // PKCS #8 private key (sealed at rest by the caller)
	CertPEM     string
	IDPMetadata string // the identity provider's metadata XML
}

// maxMetadata bounds an identity provider's metadata.
const maxMetadata = 1 << 20

// IDPMetadata returns an identity provider's metadata XML, fetched from
// metadataURL or given as xmlText, once it parses and names a single
// sign-on service.
func (p *Protocols) IDPMetadata(ctx context.Context, metadataURL, xmlText string) (string, error) {
	data := []byte(xmlText)
	if metadataURL != "" {
		u, err := parseURL(metadataURL, p.allowPrivate)
		if err != nil {
			return "", err
		}
		ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		resp, err := p.metadataHTTP.Do(req)
		if err != nil {
			return "", cut(fmt.Errorf("sso: metadata at %s: %w", metadataURL, err))
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("sso: metadata at %s: %s", metadataURL, resp.Status)
		}
		if data, err = io.ReadAll(io.LimitReader(resp.Body, maxMetadata+1)); err != nil {
			return "", cut(fmt.Errorf("sso: metadata at %s: %w", metadataURL, err))
		}
	}
	if len(data) == 0 || len(data) > maxMetadata {
		return "", errors.New("sso: no metadata, or more than 1 MiB of it")
	}
	md, err := samlsp.ParseMetadata(data)
	if err != nil {
		return "", cut(fmt.Errorf("sso: metadata: %w", err))
	}
	sp := saml.ServiceProvider{IDPMetadata: md}
	if sp.GetSSOBindingLocation(saml.HTTPRedirectBinding) == "" {
		return "", errors.New("sso: the metadata names no single sign-on service (HTTP-Redirect binding)")
	}
	if err := signingCertsValid(md, time.Now()); err != nil {
		return "", err
	}
	return string(data), nil
}

// ErrCertificateExpired: every signing certificate the identity provider
// publishes is past its end (or not yet valid): its answers cannot be
// trusted until it publishes a current one.
var ErrCertificateExpired = errors.New("sso: the identity provider's signing certificate has expired")

func signingCertsValid(md *saml.EntityDescriptor, now time.Time) error {
	seen := 0
	for _, d := range md.IDPSSODescriptors {
		for _, k := range d.KeyDescriptors {
			if k.Use != "" && k.Use != "signing" {
				continue
			}
			for _, c := range k.KeyInfo.X509Data.X509Certificates {
				der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c.Data), ""))
				if err != nil {
					continue
				}
				cert, err := x509.ParseCertificate(der)
				if err != nil {
					continue
				}
				seen++
				if now.After(cert.NotBefore) && now.Before(cert.NotAfter) {
					return nil
				}
			}
		}
	}
	if seen == 0 {
		return errors.New("sso: the metadata publishes no signing certificate")
	}
	return ErrCertificateExpired
}

// NewSAMLKeyPair makes a service provider's key and self-signed
// certificate (RSA 2048, ten years): what the identity provider sees in
// Gardien's metadata.
func NewSAMLKeyPair(commonName string) ([]byte, string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, "", err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	tmpl := x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: commonName},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(10, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, "", err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, "", err
	}
	return keyDER, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), nil
}

func (c SAMLClient) provider() (*saml.ServiceProvider, error) {
	key, err := x509.ParsePKCS8PrivateKey(c.KeyDER)
	if err != nil {
		return nil, fmt.Errorf("sso: service provider key: %w", err)
	}
	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("sso: service provider key is not RSA")
	}
	block, _ := pem.Decode([]byte(c.CertPEM))
	if block == nil {
		return nil, errors.New("sso: service provider certificate is not PEM")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("sso: service provider certificate: %w", err)
	}
	md, err := samlsp.ParseMetadata([]byte(c.IDPMetadata))
	if err != nil {
		return nil, fmt.Errorf("sso: identity provider metadata: %w", err)
	}
	entity, err := url.Parse(c.EntityID)
	if err != nil {
		return nil, err
	}
	acs, err := url.Parse(c.AcsURL)
	if err != nil {
		return nil, err
	}
	return &saml.ServiceProvider{EntityID: c.EntityID, Key: rsaKey, Certificate: cert, MetadataURL: *entity, AcsURL: *acs,
		IDPMetadata: md, AuthnNameIDFormat: saml.EmailAddressNameIDFormat}, nil
}

// SPMetadata is Gardien's metadata as the organization's service provider.
func (p *Protocols) SPMetadata(c SAMLClient) ([]byte, error) {
	sp, err := c.provider()
	if err != nil {
		return nil, err
	}
	return xml.MarshalIndent(sp.Metadata(), "", "  ")
}

// SAMLAuthURL is where to send the person: the identity provider's single
// sign-on service with an AuthnRequest (HTTP-Redirect binding). It returns
// the request's ID, which the answer must be InResponseTo.
func (p *Protocols) SAMLAuthURL(c SAMLClient, relayState string) (string, string, error) {
	sp, err := c.provider()
	if err != nil {
		return "", "", err
	}
	req, err := sp.MakeAuthenticationRequest(sp.GetSSOBindingLocation(saml.HTTPRedirectBinding), saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		return "", "", fmt.Errorf("sso: authn request: %w", err)
	}
	u, err := req.Redirect(relayState, sp)
	if err != nil {
		return "", "", fmt.Errorf("sso: authn request: %w", err)
	}
	return u.String(), req.ID, nil
}

// SAMLIdentity checks the identity provider's answer (the SAMLResponse of
// the HTTP-POST binding): signed by the provider, for this audience and
// destination, in its time window, InResponseTo requestID. The email comes
// from an emailAddress NameID or an email attribute.
func (p *Protocols) SAMLIdentity(c SAMLClient, samlResponse, requestID string) (*Identity, error) {
	sp, err := c.provider()
	if err != nil {
		return nil, err
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(samlResponse))
	if err != nil {
		return nil, fmt.Errorf("sso: SAMLResponse is not base64: %w", err)
	}
	a, err := sp.ParseXMLResponse(raw, []string{requestID}, sp.AcsURL)
	if err != nil {
		var ie *saml.InvalidResponseError
		if errors.As(err, &ie) {
			err = fmt.Errorf("%w: %v", err, ie.PrivateErr)
		}
		return nil, fmt.Errorf("sso: SAML response: %w", err)
	}
	id := &Identity{Context: "saml", EmailVerified: true} // a signed assertion vouches for what it says
	if a.Subject != nil && a.Subject.NameID != nil {
		id.Subject = a.Subject.NameID.Value
		if a.Subject.NameID.Format == string(saml.EmailAddressNameIDFormat) {
			id.Email = a.Subject.NameID.Value
		}
	}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			if len(at.Values) == 0 {
				continue
			}
			switch strings.ToLower(at.Name) {
			case "email", "mail", "urn:oid:0.9.2342.19200300.100.1.3", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress":
				if id.Email == "" {
					id.Email = at.Values[0].Value
				}
			case "cn", "displayname", "urn:oid:2.5.4.3":
				id.Name = at.Values[0].Value
			}
		}
	}
	for _, st := range a.AuthnStatements {
		if ref := st.AuthnContext.AuthnContextClassRef; ref != nil && ref.Value != "" {
			id.Context += " authn=" + ref.Value
		}
	}
	if id.Email == "" {
		return nil, errors.New("sso: the assertion carries no email (NameID emailAddress or an email attribute)")
	}
	return id, nil
}
