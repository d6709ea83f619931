package apptest

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// The checker must fail on an answer that drifted from the document,
// else the API tests' checks prove nothing.
func TestTheContractCatchesDrift(t *testing.T) {
	user := `{"id":1,"email":"a@example.com","name":"A","email_verified":true,"sso":false,"two_factor_enabled":false,"language":""}`
	problem := `{"type":"about:blank","title":"Not Found","status":404,"detail":"No.","code":"not_found","request_id":"x"}`
	for _, c := range []struct {
		name, method, path string
		status             int
		contentType, body  string
		allow              string
		ok                 bool
	}{
		{"as documented", "PATCH", "/api/v1/me", 200, "application/json", `{"user":` + user + `}`, "", true},
		{"a field the document does not have", "PATCH", "/api/v1/me", 200, "application/json",
			`{"user":` + strings.Replace(user, `"sso"`, `"secret":"x","sso"`, 1) + `}`, "", false},
		{"a required field missing", "PATCH", "/api/v1/me", 200, "application/json", `{"user":{"id":1}}`, "", false},
		{"a field of the wrong type", "PATCH", "/api/v1/me", 200, "application/json",
			`{"user":` + strings.Replace(user, `"id":1`, `"id":"1"`, 1) + `}`, "", false},
		{"a status the document does not list", "PATCH", "/api/v1/me", 409, "application/problem+json",
			strings.Replace(problem, "404", "409", 1), "", false},
		{"a problem with a code the document does not list", "DELETE", "/api/v1/me/sessions/7", 404, "application/problem+json",
			strings.Replace(problem, "not_found", "gone", 1), "", false},
		{"a problem whose status is not the answer's", "DELETE", "/api/v1/me/sessions/7", 404, "application/problem+json",
			strings.Replace(problem, "404", "400", 1), "", false},
		{"a body where the document says none", "DELETE", "/api/v1/me/sessions/7", 204, "application/json", `{}`, "", false},
		{"the wrong content type", "PATCH", "/api/v1/me", 200, "text/html", `{"user":` + user + `}`, "", false},
		{"not a call: 404 problem", "GET", "/api/v1/nothing", 404, "application/problem+json", problem, "", true},
		{"not a call: another status", "GET", "/api/v1/nothing", 200, "application/json", `{}`, "", false},
		{"another method: 405 with Allow", "PUT", "/api/v1/me", 405, "application/problem+json",
			strings.Replace(problem, "404", "405", 1), "GET, PATCH, DELETE", true},
		{"another method: 405 without Allow", "PUT", "/api/v1/me", 405, "application/problem+json",
			strings.Replace(problem, "404", "405", 1), "", false},
		{"audit lines as documented", "GET", "/api/v1/organizations/1/events.jsonl", 200, "application/x-ndjson",
			`{"id":1,"time":"2026-01-01T00:00:00Z","type":"x","ip":"","user_agent":""}` + "\n", "", true},
		{"an audit line the document does not describe", "GET", "/api/v1/organizations/1/events.jsonl", 200, "application/x-ndjson",
			`{"id":1,"time":"2026-01-01T00:00:00Z","type":"x","ip":"","user_agent":""}` + "\n" + `{"id":2,"what":1}` + "\n", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(c.method, c.path, nil)
			rec := httptest.NewRecorder()
			rec.Header().Set("Content-Type", c.contentType)
			rec.Header().Set("X-Request-ID", "x")
			if c.allow != "" {
				rec.Header().Set("Allow", c.allow)
			}
			if c.method == "GET" && strings.HasSuffix(c.path, ".jsonl") {
				rec.Header().Set("Content-Disposition", "attachment")
			}
			rec.WriteHeader(c.status)
			rec.WriteString(c.body)
			err := checkContract(req, rec.Result(), rec.Body.Bytes())
			if (err == nil) != c.ok {
				t.Errorf("ok = %v, want %v (err: %v)", err == nil, c.ok, err)
			}
		})
	}
}

// A path answers 405 with Allow for a method it does not take: every
// operation declares it, so that a client generated from the document sees it.
func TestEveryOperationDeclaresTheSharedMethodNotAllowed(t *testing.T) {
	doc, _, err := Contract()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			n++
			ref := op.Responses.Status(405)
			if ref == nil || ref.Ref != "#/components/responses/MethodNotAllowed" || ref.Value.Headers["Allow"] == nil {
				t.Errorf("%s %s declares no shared 405 with Allow", method, path)
			}
		}
	}
	if n == 0 {
		t.Fatal("no operations in the document")
	}
}
