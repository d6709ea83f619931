// Package testenv gives tests what they need from outside Go: a PostgreSQL
// database, Chromium. A test that lacks one names it; under scripts/test or
// CI it fails instead of skipping, so nothing is skipped silently.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// Missing skips t, or fails it under scripts/test and CI, naming what it
// needs.
func Missing(t testing.TB, what string) {
	t.Helper()
	missing(t, what)
}

// missing skips t, or fails it under scripts/test and CI.
func missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("GARDIEN_TEST_REQUIRE_ALL") != "" || os.Getenv("CI") != "" {
		t.Fatalf("needs %s (scripts/test provides it)", what)
	}
	t.Skipf("needs %s; run scripts/test, which provides it", what)
}

// PostgresURL returns the URL of a fresh, empty schema in the test cluster
// (GARDIEN_TEST_POSTGRES_URL), dropped when the test ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("GARDIEN_TEST_POSTGRES_URL")
	if base == "" {
		missing(t, "PostgreSQL: set GARDIEN_TEST_POSTGRES_URL")
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer db.Close()
	b := make([]byte, 8)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("postgres: create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("GARDIEN_TEST_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Chromium returns the path of the Chromium binary for browser tests.
func Chromium(t testing.TB) string {
	t.Helper()
	path := os.Getenv("GARDIEN_TEST_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(path); err != nil {
		missing(t, "Chromium at "+path+" (Debian package chromium)")
	}
	return path
}

// Axe returns the source of axe-core (the npm package in
// internal/browsertest/axe, which scripts/test installs with npm ci), for
// browser tests to inject into the pages they check.
func Axe(t testing.TB) string {
	t.Helper()
	path := os.Getenv("GARDIEN_TEST_AXE")
	if path == "" {
		root, err := ModuleRoot()
		if err != nil {
			t.Fatal(err)
		}
		path = filepath.Join(root, "internal", "browsertest", "axe", "node_modules", "axe-core", "axe.min.js")
	}
	src, err := os.ReadFile(path)
	if err != nil {
		missing(t, "axe-core at "+path+" (npm ci --prefix internal/browsertest/axe)")
	}
	return string(src)
}

// ModuleRoot is the directory of go.mod above the working directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = up
	}
}

// Nginx returns the path of nginx, for the tests of several nodes behind
// a load balancer.
// Caddy returns the path of the Caddy binary (scripts/test builds the
// version go.mod names into its cache: GARDIEN_TEST_CADDY).
func Caddy(t testing.TB) string {
	t.Helper()
	p := os.Getenv("GARDIEN_TEST_CADDY")
	if _, err := exec.LookPath(p); p == "" || err != nil {
		missing(t, "Caddy: set GARDIEN_TEST_CADDY (go build -o /tmp/caddy github.com/caddyserver/caddy/v2/cmd/caddy)")
	}
	return p
}

// OAuth2Proxy returns the path of the oauth2-proxy binary (scripts/test
// builds the version go.mod names: GARDIEN_TEST_OAUTH2_PROXY).
func OAuth2Proxy(t testing.TB) string {
	t.Helper()
	p := os.Getenv("GARDIEN_TEST_OAUTH2_PROXY")
	if _, err := exec.LookPath(p); p == "" || err != nil {
		missing(t, "oauth2-proxy: set GARDIEN_TEST_OAUTH2_PROXY (go build -o /tmp/oauth2-proxy github.com/oauth2-proxy/oauth2-proxy/v7)")
	}
	return p
}

func Nginx(t testing.TB) string {
	t.Helper()
	for _, p := range []string{os.Getenv("GARDIEN_TEST_NGINX"), "/usr/sbin/nginx"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	missing(t, "nginx at /usr/sbin/nginx (Debian package nginx)")
	return ""
}

// SimpleSAMLphp returns the paths of PHP and of SimpleSAMLphp's www
// directory (Debian's simplesamlphp), for the tests against a SAML identity
// provider not written with Gardien's libraries.
func SimpleSAMLphp(t testing.TB) (php, www string) {
	t.Helper()
	const dir = "/usr/share/simplesamlphp/www"
	php, err := exec.LookPath("php")
	if _, serr := os.Stat(filepath.Join(dir, "saml2", "idp", "SSOService.php")); err != nil || serr != nil {
		missing(t, "SimpleSAMLphp and PHP (Debian packages simplesamlphp, php-cli)")
		return "", ""
	}
	return php, dir
}

// NodeModule returns the directory of a Node.js program of the tests
// (under the module root) once its dependencies are installed (scripts/test
// runs npm ci there), and the node binary.
func NodeModule(t testing.TB, dir string) (node, path string) {
	t.Helper()
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(root, dir)
	if _, err := os.Stat(filepath.Join(path, "node_modules")); err != nil {
		missing(t, "the npm packages of "+dir+" (npm ci --prefix "+dir+")")
	}
	node, err = exec.LookPath("node")
	if err != nil {
		missing(t, "Node.js (Debian package nodejs)")
	}
	return node, path
}

// StartNginx runs nginx with site (server blocks, inside its http block)
// until the test ends, and waits until it listens on listen.
func StartNginx(t testing.TB, site, listen string) {
	t.Helper()
	bin := Nginx(t)
	dir := t.TempDir()
	main := fmt.Sprintf(`daemon off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 512; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
%[2]s
}
`, dir, site)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	StartProcess(t, listen, bin, "-p", dir, "-c", path, "-e", filepath.Join(dir, "error.log"))
}

// StartProcess runs a server (name and args) until the test ends, in its
// own process group (its children end with it), its output in a file of
// the test's (shown if it does not start), and waits until it listens on
// listen.
func StartProcess(t testing.TB, listen, name string, args ...string) *exec.Cmd {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := os.Create(filepath.Join(dir, "out.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", filepath.Base(name), err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		out.Close()
	})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", listen); err == nil {
			c.Close()
			return cmd
		}
		if time.Now().After(deadline) {
			said, _ := os.ReadFile(out.Name())
			t.Fatalf("%s did not listen on %s:\n%s", filepath.Base(name), listen, said)
		}
	}
}
