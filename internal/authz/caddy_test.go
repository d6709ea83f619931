package authz_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/testenv"
)

// TestCaddyAsksGardien: deploy/caddy/Caddyfile, as shipped, in front of an
// app that says who it sees (throughProxy); Caddy built from the version
// go.mod names.
func TestCaddyAsksGardien(t *testing.T) {
	t.Parallel()
	bin := testenv.Caddy(t)
	env, clock, owner, _ := acme(t, apptest.BaseHost("gardien.acme.test"), apptest.Setting("GARDIEN_COOKIE_DOMAIN", "acme.test"))
	listen := freeAddr(t)
	_, port, _ := net.SplitHostPort(listen)
	dir := t.TempDir()
	conf := "{\n\tadmin off\n\tauto_https off\n\tstorage file_system " + dir + "\n}\n" + strings.NewReplacer(
		"wiki.example.com {", "http://wiki.acme.test:"+port+" {", "127.0.0.1:8080", strings.TrimPrefix(env.URL, "http://"),
		"127.0.0.1:3000", whoApp(t)).Replace(string(shipped(t, "deploy", "caddy", "Caddyfile")))
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	testenv.StartProcess(t, listen, bin, "run", "--config", path, "--adapter", "caddyfile")
	throughProxy(t, env, clock, owner, "http://wiki.acme.test:"+port+"/page?x=1&y=2")
}

// shipped is a file of the repository, as shipped.
func shipped(t *testing.T, path ...string) []byte {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(append([]string{root}, path...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// nginxSite runs deploy/nginx/forward-auth.conf, as shipped, for
// wiki.acme.test in front of an app that says who it sees, asking env;
// it returns nginx's port.
func nginxSite(t *testing.T, env *apptest.Env) string {
	t.Helper()
	listen := freeAddr(t)
	testenv.StartNginx(t, strings.NewReplacer("127.0.0.1:8443", listen, "wiki.example.com", "wiki.acme.test",
		"127.0.0.1:3000", whoApp(t), "127.0.0.1:8080", strings.TrimPrefix(env.URL, "http://")).Replace(string(shipped(t, "deploy", "nginx", "forward-auth.conf"))), listen)
	_, port, _ := net.SplitHostPort(listen)
	return port
}
