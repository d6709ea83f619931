package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/httpx"
)

// FuzzForm: any form body and Content-Type is read, or refused as a
// domain error the person is shown (413 or 400); never a panic.
func FuzzForm(f *testing.F) {
	for _, s := range [][2]string{{"application/x-www-form-urlencoded", "email=a%40example.com"}, {"application/x-www-form-urlencoded", "%zz"},
		{"application/x-www-form-urlencoded", "a=1;b=2"}, {"multipart/form-data; boundary=", "--"}, {"application/x-www-form-urlencoded; charset", ""},
		{"text/plain", "x"}, {"", "a=%FF"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, contentType, body string) {
		r := httptest.NewRequest("POST", "/login", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		if err := parseForm(httptest.NewRecorder(), r); err != nil {
			e, ok := gardien.AsError(err)
			if status := httpx.Status(gardien.ErrorCode(err)); !ok || e.Message == "" || (status != http.StatusBadRequest && status != http.StatusRequestEntityTooLarge) {
				t.Fatalf("%q %q: %v (%d)", contentType, body, err, status)
			}
		}
	})
}
