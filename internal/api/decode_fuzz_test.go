package api

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gardien/gardien"
)

// FuzzDecode: any body becomes the fields, or a validation_failed problem;
// never a panic, never another error.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"email":"a@example.com","password":"x"}`, "", "{", "null", "[]", `{"email":1}`, `{"email":"\xff"}`,
		strings.Repeat("[", 10001), `{"a":1} {"b":2}`, `{"email":"a","email":"b"}`, `{"require_two_factor":"yes"}`} {
		f.Add(s)
	}
	h := &Handler{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	f.Fuzz(func(t *testing.T, body string) {
		var in struct {
			Email   *string `json:"email"`
			Require *bool   `json:"require_two_factor"`
		}
		r := httptest.NewRequest("POST", "/api/v1/login", strings.NewReader(body))
		err := h.decode(httptest.NewRecorder(), r, &in)
		if err != nil && gardien.ErrorCode(err) != gardien.CodeValidationFailed {
			t.Fatalf("body %q: %v", body, err)
		}
	})
}
