package apptest

import (
	"log/slog"
	"net/url"
	"testing"
)

func urlEncode(s string) string { return url.QueryEscape(s) }

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(b))
	return len(b), nil
}

// testLogger logs through t, so a failing test shows the server's log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
