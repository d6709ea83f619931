package server

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/gardien/gardien"
)

// failing is a transport that records what it was asked to answer.
type failing struct {
	http.Handler
	name string
	got  *[]string
}

func (f failing) Fail(w http.ResponseWriter, _ *http.Request, err error) {
	*f.got = append(*f.got, f.name+": "+string(gardien.ErrorCode(err)))
	w.WriteHeader(http.StatusInternalServerError)
}
func (failing) Pattern(*http.Request) string   { return "" }
func (failing) OwnsSession(*http.Request) bool { return false }

// TestPanicsBecomeA500: the panic is logged with its value, and the
// request's transport answers it as an internal error (the API's answer:
// api's TestTheMiddlewaresRefusalsAreProblems).
func TestPanicsBecomeA500(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	var got []string
	transport := func(r *http.Request) Transport {
		if isAPI(r) {
			return failing{name: "api", got: &got}
		}
		return failing{name: "web", got: &got}
	}
	h := recoverPanics(log, transport, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	for _, path := range []string{"/api/v1/me", "/settings"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != 500 {
			t.Fatalf("%s: %d", path, w.Code)
		}
	}
	if strings.Join(got, ", ") != "api: internal, web: internal" {
		t.Fatalf("answered %v", got)
	}
	if !strings.Contains(logs.String(), "panic=boom") {
		t.Fatalf("panic not logged: %s", logs.String())
	}
}

func TestRequestLogHasNoQueryString(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	h := logRequests(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(418) }))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/verify-email?token=SECRET", nil))
	if strings.Contains(logs.String(), "SECRET") || !strings.Contains(logs.String(), "status=418") || !strings.Contains(logs.String(), "path=/verify-email") {
		t.Fatalf("log line: %s", logs.String())
	}
}

func TestClientAddressBehindTrustedProxies(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	var got string
	h := realClient(trusted, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.RemoteAddr }))
	for _, tc := range []struct{ peer, xff, want string }{
		{"10.0.0.5:4000", "203.0.113.7", "203.0.113.7:0"},
		{"10.0.0.5:4000", "198.51.100.1, 203.0.113.7, 10.0.0.9", "203.0.113.7:0"}, // the client forged the first one
		{"192.0.2.1:4000", "203.0.113.7", "192.0.2.1:4000"},                       // not a trusted proxy: ignored
		{"10.0.0.5:4000", "", "10.0.0.5:4000"},
		{"10.0.0.5:4000", "garbage", "10.0.0.5:4000"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.peer
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != tc.want {
			t.Errorf("peer %s, X-Forwarded-For %q: client %s, want %s", tc.peer, tc.xff, got, tc.want)
		}
	}
}
