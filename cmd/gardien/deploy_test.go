package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/gardien/gardien/internal/config"
	"github.com/gardien/gardien/internal/testenv"
)

// knownSetting tells whether name is a GARDIEN_* setting, its _FILE
// variant, or GARDIEN_CONFIG.
func knownSetting(name string) bool {
	name = strings.TrimSuffix(name, "_FILE")
	if name == "GARDIEN_CONFIG" {
		return true
	}
	for _, s := range config.Settings() {
		if s[1] == name {
			return true
		}
	}
	return false
}

var settingName = regexp.MustCompile(`GARDIEN_[A-Z_]+`)

// TestSystemdUnitVerifies: systemd-analyze finds nothing to say about the
// unit (the test binary stands in for /usr/local/bin/gardien), and every
// variable it sets is a setting.
func TestSystemdUnitVerifies(t *testing.T) {
	bin, err := exec.LookPath("systemd-analyze")
	if err != nil {
		testenv.Missing(t, "systemd-analyze (Debian package systemd)")
	}
	unit, err := os.ReadFile("../../deploy/systemd/gardien.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range settingName.FindAllString(string(unit), -1) {
		if !knownSetting(name) {
			t.Errorf("the unit sets %s, which is no setting", name)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "gardien.service")
	os.WriteFile(path, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/gardien", self)), 0o644)
	out, err := exec.Command(bin, "verify", path).CombinedOutput()
	if err != nil || strings.Contains(string(out), "gardien.service") {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestComposeFile: the compose file parses, its Gardien variables are
// settings, the secrets it uses are declared, both services have health
// checks, and it builds with the Dockerfile, whose variables are settings
// and which checks health with gardien healthcheck as nonroot.
func TestComposeFile(t *testing.T) {
	b, err := os.ReadFile("../../deploy/docker/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Build struct {
				Context, Dockerfile string
			}
			Environment map[string]string
			Secrets     []string
			Healthcheck struct{ Test []string }
		}
		Secrets map[string]struct{ File string }
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	g, ok := c.Services["gardien"]
	if !ok || len(c.Services["db"].Healthcheck.Test) == 0 || strings.Join(g.Healthcheck.Test, " ") != "CMD /gardien healthcheck" {
		t.Fatalf("services: %+v", c.Services)
	}
	for name := range g.Environment {
		if !knownSetting(name) {
			t.Errorf("compose sets %s, which is no setting", name)
		}
	}
	for svc, s := range c.Services {
		for _, sec := range s.Secrets {
			if _, ok := c.Secrets[sec]; !ok {
				t.Errorf("service %s uses the undeclared secret %s", svc, sec)
			}
		}
	}
	dockerfile := filepath.Join("../../deploy/docker", g.Build.Context, g.Build.Dockerfile)
	df, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatalf("the Dockerfile compose builds with: %v", err)
	}
	for _, name := range settingName.FindAllString(string(df), -1) {
		if !knownSetting(name) {
			t.Errorf("the Dockerfile sets %s, which is no setting", name)
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "USER nonroot", `HEALTHCHECK`, `CMD ["/gardien", "healthcheck"]`, "FROM gcr.io/distroless/static"} {
		if !strings.Contains(string(df), want) {
			t.Errorf("the Dockerfile lacks %q", want)
		}
	}
}
