package authz_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	site, err := os.ReadFile(filepath.Join(root, "deploy", "caddy", "Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	listen := freeAddr(t)
	_, port, _ := net.SplitHostPort(listen)
	dir := t.TempDir()
	conf := "{\n\tadmin off\n\tauto_https off\n\tstorage file_system " + dir + "\n}\n" + strings.NewReplacer(
		"wiki.example.com {", "http://wiki.acme.test:"+port+" {", "127.0.0.1:8080", strings.TrimPrefix(env.URL, "http://"),
		"127.0.0.1:3000", whoApp(t)).Replace(string(site))
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--config", path, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir, "HOME="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := os.Create(filepath.Join(dir, "caddy.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait(); out.Close() })
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(out.Name())
			t.Fatalf("Caddy did not listen on %s:\n%s", port, log)
		}
	}
	throughProxy(t, env, clock, owner, "http://wiki.acme.test:"+port+"/page?x=1&y=2")
}
