package ssotest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gardien/gardien/internal/testenv"
)

// SimpleSAMLphp is Debian's SimpleSAMLphp as a SAML 2.0 identity provider,
// served by PHP's built-in server on loopback: people log in with a
// username and password (exampleauth:UserPass), and it signs with
// RSA-SHA256 and encrypts its assertions for the service provider.
type SimpleSAMLphp struct {
	URL         string
	MetadataURL string
	dir         string
}

// StartSimpleSAMLphp runs SimpleSAMLphp knowing people (their Email is
// given as the mail attribute, Name as displayName) until the test ends.
func StartSimpleSAMLphp(t testing.TB, people ...OPUser) *SimpleSAMLphp {
	t.Helper()
	return StartSimpleSAMLphpSigning(t, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", people...)
}

// StartSimpleSAMLphpSigning is StartSimpleSAMLphp signing with algorithm
// (an XML Signature algorithm URI, such as RSA-SHA1's, for the tests of
// what Gardien refuses).
func StartSimpleSAMLphpSigning(t testing.TB, algorithm string, people ...OPUser) *SimpleSAMLphp {
	t.Helper()
	phpBin, www := testenv.SimpleSAMLphp(t)
	dir := t.TempDir()
	for _, d := range []string{"config", "metadata", "cert", "log", "data", "tmp", "sessions"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &SimpleSAMLphp{URL: "http://" + addr, dir: dir}
	s.MetadataURL = s.URL + "/saml2/idp/metadata.php"
	writeKeyPair(t, filepath.Join(dir, "cert"))
	salt := make([]byte, 16)
	rand.Read(salt)
	files := map[string]string{
		"config/config.php": fmt.Sprintf(`<?php
$config = [
	'baseurlpath' => '%[1]s/',
	'certdir' => '%[2]s/cert/',
	'loggingdir' => '%[2]s/log/',
	'datadir' => '%[2]s/data/',
	'tempdir' => '%[2]s/tmp',
	'secretsalt' => '%[3]s',
	'auth.adminpassword' => '%[3]s',
	'admin.protectindexpage' => true,
	'technicalcontact_email' => 'na@example.org',
	'timezone' => 'UTC',
	'logging.level' => SimpleSAML\Logger::NOTICE,
	'logging.handler' => 'file',
	'logging.logfile' => 'simplesamlphp.log',
	'enable.saml20-idp' => true,
	'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true, 'admin' => true],
	'store.type' => 'phpsession',
	'session.phpsession.savepath' => '%[2]s/sessions',
	'session.cookie.secure' => false,
	'metadata.sources' => [
		['type' => 'flatfile', 'directory' => '%[2]s/metadata'],
		['type' => 'xml', 'file' => '%[2]s/metadata/sp.xml'],
	],
];
`, s.URL, dir, hex.EncodeToString(salt)),
		"config/authsources.php": "<?php\n$config = [\n\t'admin' => ['core:AdminPassword'],\n\t'example-userpass' => [\n\t\t'exampleauth:UserPass',\n" +
			userPassPHP(people) + "\t],\n];\n",
		"metadata/saml20-idp-hosted.php": fmt.Sprintf(`<?php
$metadata['%[1]s'] = [
	'host' => '__DEFAULT__',
	'privatekey' => 'idp.key',
	'certificate' => 'idp.crt',
	'auth' => 'example-userpass',
	'signature.algorithm' => '%[2]s',
	'assertion.encryption' => true,
];
`, s.MetadataURL, php(algorithm)),
		"metadata/sp.xml": `<?xml version="1.0"?><EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata"/>`,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(phpBin, "-S", addr, "-t", www)
	cmd.Env = append(os.Environ(), "SIMPLESAMLPHP_CONFIG_DIR="+filepath.Join(dir, "config"))
	out, err := os.Create(filepath.Join(dir, "log", "php-server.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("ssotest: php -S: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		out.Close()
		if t.Failed() {
			for _, f := range []string{"log/php-server.log", "log/simplesamlphp.log"} {
				b, _ := os.ReadFile(filepath.Join(dir, f))
				t.Logf("SimpleSAMLphp %s:\n%s", f, b)
			}
		}
	})
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(s.MetadataURL)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("ssotest: SimpleSAMLphp did not answer at %s: %v", s.MetadataURL, err)
		}
	}
	return s
}

// userPassPHP is the PHP of exampleauth:UserPass's people.
func userPassPHP(people []OPUser) string {
	var b strings.Builder
	for _, p := range people {
		fmt.Fprintf(&b, "\t\t'%s:%s' => ['uid' => ['%s'], 'mail' => ['%s'], 'displayName' => ['%s']],\n",
			php(p.Username), php(p.Password), php(p.Username), php(p.Email), php(p.Name))
	}
	return b.String()
}

// php quotes s for a single-quoted PHP string.
func php(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s)
}

// Trust registers a service provider by its metadata.
func (s *SimpleSAMLphp) Trust(t testing.TB, spMetadata []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(s.dir, "metadata", "sp.xml"), spMetadata, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Log is what SimpleSAMLphp logged so far.
func (s *SimpleSAMLphp) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "log", "simplesamlphp.log"))
	return string(b)
}

// writeKeyPair makes the IdP's signing key and certificate (idp.key,
// idp.crt) in dir.
func writeKeyPair(t testing.TB, dir string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "simplesamlphp test idp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	for name, block := range map[string]*pem.Block{"idp.crt": {Type: "CERTIFICATE", Bytes: der}, "idp.key": {Type: "PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
