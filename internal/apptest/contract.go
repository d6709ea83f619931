package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	contract "github.com/gardien/gardien/api"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// The API's contract (api/openapi.yaml), loaded once for every test of a
// package.
var spec struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

// Contract is the API's OpenAPI document, checked and resolved.
func Contract() (*openapi3.T, routers.Router, error) {
	spec.once.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromData(contract.OpenAPI)
		if err == nil {
			err = doc.Validate(context.Background())
		}
		var router routers.Router
		if err == nil {
			router, err = gorillamux.NewRouter(doc)
		}
		if err != nil {
			spec.err = fmt.Errorf("api/openapi.yaml: %w", err)
			return
		}
		// The audit export is JSON lines: read as text here, each line
		// checked against the schema its x-line-schema names.
		openapi3filter.RegisterBodyDecoder("application/x-ndjson", openapi3filter.PlainBodyDecoder)
		spec.doc, spec.router = doc, router
	})
	return spec.doc, spec.router, spec.err
}

// CheckContract reports as a test error an answer of the JSON API that its
// OpenAPI document does not describe: a status it does not list, a body that
// does not match the schema (unknown fields included), a missing header. An
// answer to what is not a call must be a 404 or 405 problem.
//
// Benchmarks are not checked: they measure the server, not the checker.
func CheckContract(t testing.TB, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	if _, bench := t.(*testing.B); bench || req.Method == http.MethodHead {
		return
	}
	if err := checkContract(req, resp, body); err != nil {
		t.Errorf("%s %s answered %d, which api/openapi.yaml does not describe: %v\nbody: %.600s",
			req.Method, req.URL.RequestURI(), resp.StatusCode, err, body)
	}
}

func checkContract(req *http.Request, resp *http.Response, body []byte) error {
	doc, router, err := Contract()
	if err != nil {
		return err
	}
	if resp.Header.Get("X-Request-ID") == "" {
		return errors.New("no X-Request-ID header")
	}
	if resp.Header.Get("Content-Type") == "application/problem+json" {
		var p struct{ Status int }
		if json.Unmarshal(body, &p) != nil || p.Status != resp.StatusCode {
			return fmt.Errorf("the problem's status is %d", p.Status)
		}
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		return notACall(doc, err, resp, body)
	}
	ref := route.Operation.Responses.Status(resp.StatusCode)
	if ref == nil {
		ref = route.Operation.Responses.Default()
	}
	if ref == nil {
		if resp.StatusCode < 500 {
			return fmt.Errorf("status %d is not listed", resp.StatusCode)
		}
		// 5XX ranges are checked by ValidateResponse below.
	}
	if ref != nil && len(ref.Value.Content) == 0 && len(body) > 0 {
		return errors.New("a body where the document says none")
	}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	})
	if err != nil {
		return err
	}
	if ref == nil {
		return nil
	}
	if mt := ref.Value.Content.Get(resp.Header.Get("Content-Type")); mt != nil {
		if line, ok := mt.Extensions["x-line-schema"]; ok {
			return checkLines(doc, line, body)
		}
	}
	return nil
}

// notACall checks the answer to a path or method the document has no call
// for: a problem, 404 (405 for another method of a known path), unless it
// was refused earlier (403 cross-origin) or the server failed (5xx).
func notACall(doc *openapi3.T, routeErr error, resp *http.Response, body []byte) error {
	want := http.StatusNotFound
	if errors.Is(routeErr, routers.ErrMethodNotAllowed) {
		want = http.StatusMethodNotAllowed
	}
	if s := resp.StatusCode; s != want && s != http.StatusForbidden && s < 500 {
		return fmt.Errorf("not a call of the document (%w): want %d", routeErr, want)
	}
	if want == http.StatusMethodNotAllowed && resp.StatusCode == want && resp.Header.Get("Allow") == "" {
		return errors.New("405 without Allow")
	}
	return validateJSON(doc.Components.Schemas["Problem"], body)
}

// checkLines checks each line of a JSON-lines body against the schema
// x-line-schema refers to.
func checkLines(doc *openapi3.T, ext any, body []byte) error {
	ref, _ := ext.(map[string]any)["$ref"].(string)
	schema := doc.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")]
	if schema == nil {
		return fmt.Errorf("x-line-schema %q names no schema", ref)
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
		if len(line) == 0 && len(body) == 0 {
			break
		}
		if err := validateJSON(schema, line); err != nil {
			return fmt.Errorf("line %d: %w", i+1, err)
		}
	}
	return nil
}

func validateJSON(schema *openapi3.SchemaRef, body []byte) error {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors())
}
