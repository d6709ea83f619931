package apptest

import (
	"context"
	"io"
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

// testLogger logs through t, so a failing test shows the server's log
// (warnings and errors), and everything from Info up to logs when set.
func testLogger(t testing.TB, logs io.Writer) *slog.Logger {
	h := slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})
	if logs == nil {
		return slog.New(h)
	}
	return slog.New(teeHandler{h, slog.NewTextHandler(logs, nil)})
}

// teeHandler writes each record to two handlers, each with its own level.
type teeHandler struct{ a, b slog.Handler }

func (t teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return t.a.Enabled(ctx, l) || t.b.Enabled(ctx, l)
}

func (t teeHandler) Handle(ctx context.Context, r slog.Record) error {
	for _, h := range []slog.Handler{t.a, t.b} {
		if h.Enabled(ctx, r.Level) {
			if err := h.Handle(ctx, r.Clone()); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return teeHandler{t.a.WithAttrs(as), t.b.WithAttrs(as)}
}

func (t teeHandler) WithGroup(name string) slog.Handler {
	return teeHandler{t.a.WithGroup(name), t.b.WithGroup(name)}
}
