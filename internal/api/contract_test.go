package api_test

import (
	"bytes"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	contract "github.com/gardien/gardien/api"
	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/testenv"
)

// pathParam is a {name} in a path, whatever the name: routes.go and the
// document may name a parameter differently.
var pathParam = regexp.MustCompile(`\{[^}]*\}`)

// TestTheContractDescribesEveryCall fails when a route of routes.go is
// missing from api/openapi.yaml, or the document describes a call the
// server does not have.
func TestTheContractDescribesEveryCall(t *testing.T) {
	doc, _, err := apptest.Contract()
	if err != nil {
		t.Fatal(err)
	}
	inDoc := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			inDoc[method+" "+pathParam.ReplaceAllString(path, "{}")] = true
		}
	}
	inCode := map[string]bool{}
	for _, rt := range testenv.Routes(t, "api") {
		key := rt[0] + " " + pathParam.ReplaceAllString(strings.TrimPrefix(rt[1], "/api/v1"), "{}")
		inCode[key] = true
		if !inDoc[key] {
			t.Errorf("%s %s is served but api/openapi.yaml does not describe it", rt[0], rt[1])
		}
	}
	if len(inCode) < 50 {
		t.Fatalf("read %d routes from routes.go: the reader is broken", len(inCode))
	}
	for key := range inDoc {
		if !inCode[key] {
			t.Errorf("api/openapi.yaml describes %s, which the server does not serve", key)
		}
	}
}

func TestTheContractIsServed(t *testing.T) {
	env := apptest.Start(t)
	r := env.Client(t).API("GET", "/openapi.yaml", nil)
	if r.StatusCode != http.StatusOK || r.Header.Get("Content-Type") != "application/yaml" {
		t.Fatalf("GET /api/v1/openapi.yaml: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	if !bytes.Equal(r.Body, contract.OpenAPI) {
		t.Fatal("the served document is not api/openapi.yaml")
	}
	if !bytes.HasPrefix(r.Body, []byte("openapi: 3.1.")) {
		t.Fatalf("not an OpenAPI 3.1 document: %.40q", r.Body)
	}
	doc, _, err := apptest.Contract()
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			ops = append(ops, op.OperationID)
		}
	}
	slices.Sort(ops)
	if len(ops) != len(slices.Compact(slices.Clone(ops))) || slices.Contains(ops, "") {
		t.Errorf("every operation needs its own operationId: %v", ops)
	}
}
