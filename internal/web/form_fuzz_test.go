package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzForm: any form body and Content-Type is read, or answered 400/413
// by formProblem; never a panic.
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
			if status, msg := formProblem(err); (status != http.StatusBadRequest && status != http.StatusRequestEntityTooLarge) || msg == "" {
				t.Fatalf("%q %q: %d %q", contentType, body, status, msg)
			}
		}
	})
}
