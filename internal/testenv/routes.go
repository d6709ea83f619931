package testenv

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

var (
	routePattern = regexp.MustCompile(`"(GET|POST|PUT|PATCH|DELETE) (/[^"]*)"`)
	// Routes written "GET "+pathLogin, with the constants of web/links.go.
	routeConst = regexp.MustCompile(`"(GET|POST|PUT|PATCH|DELETE) "\+([Pp]ath\w+)`)
	pathConst  = regexp.MustCompile(`([Pp]ath\w+)\s*=\s*"([^"]+)"`)
)

// Routes returns every route (method, pattern) a routes.go of the module
// declares, as written there, for tests that must cover each one: pkg is
// "api" or "web". Path constants are read from web/links.go.
func Routes(t testing.TB, pkg string) [][2]string {
	t.Helper()
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	links, err := os.ReadFile(filepath.Join(root, "internal", "web", "links.go"))
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	for _, m := range pathConst.FindAllStringSubmatch(string(links), -1) {
		consts[m[1]] = m[2]
	}
	file := filepath.Join(root, "internal", pkg, "routes.go")
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var routes [][2]string
	for _, m := range routePattern.FindAllStringSubmatch(string(src), -1) {
		routes = append(routes, [2]string{m[1], m[2]})
	}
	for _, m := range routeConst.FindAllStringSubmatch(string(src), -1) {
		if consts[m[2]] == "" {
			t.Fatalf("%s: route with unknown constant %s", file, m[2])
		}
		routes = append(routes, [2]string{m[1], consts[m[2]]})
	}
	return routes
}
