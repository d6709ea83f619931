package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestPanicsBecomeA500(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	h := recoverPanics(log, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/me", nil))
	var p map[string]any
	if w.Code != 500 || w.Header().Get("Content-Type") != "application/problem+json" || json.Unmarshal(w.Body.Bytes(), &p) != nil || p["code"] != "internal" {
		t.Fatalf("API panic: %d %s %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/settings", nil))
	if w.Code != 500 || strings.Contains(w.Body.String(), "boom") {
		t.Fatalf("page panic: %d %s", w.Code, w.Body)
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
