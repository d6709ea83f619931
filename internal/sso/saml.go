package sso

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
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
	"slices"
	"strings"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
	"github.com/jonboulle/clockwork"
	dsig "github.com/russellhaering/goxmldsig"
)

// clockOf is Gardien's clock as crewjam/saml takes one (a clockwork.Clock
// of which it asks only the time).
type clockOf struct {
	clockwork.Clock
	now func() time.Time
}

func (c clockOf) Now() time.Time { return c.now() }

func init() {
	// crewjam/saml accepts an answer dated up to MaxClockSkew (3 minutes)
	// ahead, but only MaxIssueDelay (90 s) behind: an IdP whose clock is
	// 100 s slow was refused. Behind counts the clock and the trip through
	// the browser, so it gets the skew plus the delay. (A setting of the
	// library's, for the whole process: Gardien is its only user here.)
	saml.MaxIssueDelay = saml.MaxClockSkew + 90*time.Second
}

// SAMLClient is Gardien as an organization's SAML service provider.
type SAMLClient struct {
	EntityID    string // also where its metadata is served
	AcsURL      string // where the identity provider posts its answer
	KeyDER      []byte // PKCS #8 private key (sealed at rest by the caller)
	CertPEM     string
	IDPMetadata string // the identity provider's metadata XML
	// UseAssertion records an assertion of a login the identity provider
	// started, until it expires, and returns ErrAssertionUsed when it was
	// recorded already (nil: such logins are refused).
	UseAssertion func(assertionID string, expires time.Time) error
}

// ErrAssertionUsed is an assertion accepted once already.
var ErrAssertionUsed = errors.New("sso: the assertion was used already")

// assertionCache is crewjam's replay cache over SAMLClient.UseAssertion.
type assertionCache func(assertionID string, expires time.Time) error

func (c assertionCache) Consume(assertionID string, expires time.Time) error {
	if err := c(assertionID, expires); err != nil {
		if errors.Is(err, ErrAssertionUsed) {
			return saml.ErrAssertionReplayed
		}
		return err
	}
	return nil
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
	if err := signingCertsValid(md, p.now()); err != nil {
		return "", err
	}
	return string(data), nil
}

// IDPInfo is what a saved identity provider's metadata says, for its
// owner to recognize it.
type IDPInfo struct {
	EntityID string
	// SignedUntil is when its last trusted signing certificate ends.
	SignedUntil time.Time
}

// MetadataInfo reads an identity provider's metadata XML.
func MetadataInfo(xmlText string) (*IDPInfo, error) {
	md, err := samlsp.ParseMetadata([]byte(xmlText))
	if err != nil {
		return nil, fmt.Errorf("sso: metadata: %w", err)
	}
	info := &IDPInfo{EntityID: md.EntityID}
	for _, cert := range signingCerts(md) {
		if strongKey(cert) && cert.NotAfter.After(info.SignedUntil) {
			info.SignedUntil = cert.NotAfter
		}
	}
	return info, nil
}

// ErrCertificateExpired: every signing certificate the identity provider
// publishes is past its end (or not yet valid): its answers cannot be
// trusted until it publishes a current one.
var ErrCertificateExpired = errors.New("sso: the identity provider's signing certificate has expired")

// ErrWeakKey: every signing key the identity provider publishes is too
// weak to trust (RSA under 2048 bits, elliptic curves under 256).
var ErrWeakKey = errors.New("sso: the identity provider's signing key is too weak (RSA needs 2048 bits or more)")

func signingCertsValid(md *saml.EntityDescriptor, now time.Time) error {
	seen, strong := 0, 0
	for _, cert := range signingCerts(md) {
		seen++
		if !strongKey(cert) {
			continue
		}
		strong++
		if now.After(cert.NotBefore) && now.Before(cert.NotAfter) {
			return nil
		}
	}
	switch {
	case seen == 0:
		return errors.New("sso: the metadata publishes no signing certificate")
	case strong == 0:
		return ErrWeakKey
	}
	return ErrCertificateExpired
}

// signingCerts are the certificates an identity provider's metadata
// publishes for signing (those that parse).
func signingCerts(md *saml.EntityDescriptor) []*x509.Certificate {
	var out []*x509.Certificate
	for _, d := range md.IDPSSODescriptors {
		for _, k := range d.KeyDescriptors {
			if k.Use != "" && k.Use != "signing" {
				continue
			}
			for _, c := range k.KeyInfo.X509Data.X509Certificates {
				if cert, err := parseCert(c.Data); err == nil {
					out = append(out, cert)
				}
			}
		}
	}
	return out
}

func parseCert(b64 string) (*x509.Certificate, error) {
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(b64), ""))
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// strongKey says whether a certificate's key is strong enough to trust
// its signatures.
func strongKey(cert *x509.Certificate) bool {
	switch k := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		return k.N.BitLen() >= 2048
	case *ecdsa.PublicKey:
		return k.Curve.Params().BitSize >= 256
	case ed25519.PublicKey:
		return true
	}
	return false
}

// withoutWeakKeys removes from the identity provider's metadata the
// signing keys Gardien does not trust, so that no answer signed with one
// checks out.
func withoutWeakKeys(md *saml.EntityDescriptor) {
	for i := range md.IDPSSODescriptors {
		d := &md.IDPSSODescriptors[i]
		kept := d.KeyDescriptors[:0]
		for _, k := range d.KeyDescriptors {
			var certs []saml.X509Certificate
			for _, c := range k.KeyInfo.X509Data.X509Certificates {
				if cert, err := parseCert(c.Data); err == nil && strongKey(cert) {
					certs = append(certs, c)
				}
			}
			if len(certs) > 0 || (k.Use != "" && k.Use != "signing") {
				if k.Use == "" || k.Use == "signing" {
					k.KeyInfo.X509Data.X509Certificates = certs
				}
				kept = append(kept, k)
			}
		}
		d.KeyDescriptors = kept
	}
}

// NewSAMLKeyPair makes a service provider's key and self-signed
// certificate (RSA 2048, ten years): what the identity provider sees in
// Gardien's metadata.
func NewSAMLKeyPair(commonName string, now time.Time) ([]byte, string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, "", err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	tmpl := x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: commonName},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
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

func (c SAMLClient) provider(now func() time.Time) (*saml.ServiceProvider, error) {
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
	withoutWeakKeys(md)
	if len(signingCerts(md)) == 0 {
		return nil, ErrWeakKey
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
		IDPMetadata: md,
		// No particular NameID format: the email may come as an attribute,
		// and IdPs log an error when asked for a format they do not give.
		AuthnNameIDFormat:    saml.UnspecifiedNameIDFormat,
		Clock:                dsig.NewFakeClock(clockOf{Clock: clockwork.NewRealClock(), now: now}),
		RejectSHA1Signatures: true,
		// A copy pasted into an IdP's console must not stop working.
		MetadataOmitValidUntil: true,
		// Gardien serves HTTP-POST answers only: no Artifact endpoint.
		AssertionConsumerServiceBindings: []string{saml.HTTPPostBinding}}, nil
}

// SPMetadata is Gardien's metadata as the organization's service provider.
func (p *Protocols) SPMetadata(c SAMLClient) ([]byte, error) {
	sp, err := c.provider(p.now)
	if err != nil {
		return nil, err
	}
	md := sp.Metadata()
	// No NameIDFormat either: an IdP that reads one it cannot make
	// (SimpleSAMLphp, given "unspecified" without a userid.attribute) logs
	// an error at every login; without, it sends a transient one.
	for i := range md.SPSSODescriptors {
		md.SPSSODescriptors[i].NameIDFormats = nil
	}
	return xml.MarshalIndent(md, "", "  ")
}

// SAMLAuthURL is where to send the person: the identity provider's single
// sign-on service with an AuthnRequest (HTTP-Redirect binding). It returns
// the request's ID, which the answer must be InResponseTo.
func (p *Protocols) SAMLAuthURL(c SAMLClient, relayState string) (string, string, error) {
	sp, err := c.provider(p.now)
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
// destination, in its time window, InResponseTo requestID — or, when
// requestID is "", an answer to no request (a login the provider started),
// accepted once (c.UseAssertion). The email comes from an emailAddress
// NameID or an email attribute.
func (p *Protocols) SAMLIdentity(c SAMLClient, samlResponse, requestID string) (*Identity, error) {
	sp, err := c.provider(p.now)
	if err != nil {
		return nil, err
	}
	var requestIDs []string
	switch {
	case requestID != "":
		requestIDs = []string{requestID}
	case c.UseAssertion != nil:
		sp.AllowIDPInitiated, sp.ReplayCache = true, assertionCache(c.UseAssertion)
	default:
		return nil, fmt.Errorf("%w: an answer to no request", saml.ErrRequestIDMismatch)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(samlResponse))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNotBase64, err)
	}
	a, err := sp.ParseXMLResponse(raw, requestIDs, sp.AcsURL)
	if err != nil {
		var ie *saml.InvalidResponseError
		if errors.As(err, &ie) {
			err = fmt.Errorf("%w: %w", err, ie.PrivateErr)
		}
		return nil, cut(fmt.Errorf("sso: SAML response: %w", err))
	}
	return identityOf(a)
}

// emailAttributes and nameAttributes are the attribute names (or
// FriendlyNames) identity providers give an email and a display name
// under, lower case: LDAP's and eduPerson's, their OIDs, PKCS #9's, and
// Microsoft's claim URIs.
var (
	emailAttributes = []string{"mail", "email", "emailaddress", "urn:oid:0.9.2342.19200300.100.1.3",
		"urn:oid:1.2.840.113549.1.9.1", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"}
	nameAttributes = []string{"displayname", "cn", "urn:oid:2.16.840.1.113730.3.1.241", "urn:oid:2.5.4.3",
		"http://schemas.microsoft.com/identity/claims/displayname"}
)

// identityOf is who a checked assertion vouches for: the email from an
// emailAddress NameID or an email attribute, the name from a display-name
// attribute, and the authentication context the provider reports.
func identityOf(a *saml.Assertion) (*Identity, error) {
	id := &Identity{Context: "saml", EmailVerified: true} // a signed assertion vouches for what it says
	if a.Subject != nil && a.Subject.NameID != nil {
		id.Subject = a.Subject.NameID.Value
		if a.Subject.NameID.Format == string(saml.EmailAddressNameIDFormat) {
			id.Email = a.Subject.NameID.Value
		}
	}
	// The first attribute of each list's order wins, whatever the order
	// the assertion gives them in.
	emailRank, nameRank := len(emailAttributes), len(nameAttributes)
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			if len(at.Values) == 0 || strings.TrimSpace(at.Values[0].Value) == "" {
				continue
			}
			v := strings.TrimSpace(at.Values[0].Value)
			for _, name := range []string{strings.ToLower(at.Name), strings.ToLower(at.FriendlyName)} {
				if i := slices.Index(emailAttributes, name); i >= 0 && i < emailRank && (id.Email == "" || emailRank < len(emailAttributes)) {
					id.Email, emailRank = v, i
				}
				if i := slices.Index(nameAttributes, name); i >= 0 && i < nameRank {
					id.Name, nameRank = v, i
				}
			}
		}
	}
	for _, st := range a.AuthnStatements {
		if ref := st.AuthnContext.AuthnContextClassRef; ref != nil && ref.Value != "" {
			id.Context += " authn=" + ref.Value
		}
	}
	if id.Email == "" {
		return nil, fmt.Errorf("%w (NameID emailAddress or an email attribute)", errNoEmail)
	}
	return id, nil
}
