package api_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/gardien/gardien/internal/apptest"
)

// Mailed links are keys to accounts: the outbox never holds one in clear,
// keeps a given-up mail's sealed body only while its link lives, and its
// trace 30 days.
func TestOutboxHoldsNoLinkInClear(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...apptest.Option) {
		clock := apptest.NewClock()
		// A mail server that refuses: mails wait in the outbox.
		env := apptest.Start(t, append(opts, apptest.WithClock(clock), apptest.Setting("GARDIEN_SMTP_URL", "smtp+insecure://127.0.0.1:1"))...)
		c := env.Client(t)
		if r := c.API("POST", "/signup", map[string]any{"email": "ada@example.com", "password": pw, "name": "Ada"}); r.StatusCode != 201 {
			t.Fatalf("signup: %d %s", r.StatusCode, r.Body)
		}
		if r := c.API("POST", "/password/forgot", map[string]any{"email": "ada@example.com"}); r.StatusCode != 202 {
			t.Fatalf("forgot: %d %s", r.StatusCode, r.Body)
		}
		rows := func() [][]byte {
			t.Helper()
			rs, err := env.DB.Query(`SELECT to_addr, subject, text_body, html_body, COALESCE(body, ''), last_error FROM outbox`)
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Close()
			var out [][]byte
			for rs.Next() {
				var to, subject, text, html, lastErr string
				var body []byte
				if err := rs.Scan(&to, &subject, &text, &html, &body, &lastErr); err != nil {
					t.Fatal(err)
				}
				out = append(out, bytes.Join([][]byte{[]byte(to), []byte(subject), []byte(text), []byte(html), body, []byte(lastErr)}, []byte{0}))
			}
			return out
		}
		deadline := time.Now().Add(10 * time.Second)
		for len(rows()) < 2 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := len(rows()); n != 2 {
			t.Fatalf("%d mails in the outbox, want 2 (validation, reset)", n)
		}
		for _, r := range rows() {
			for _, clear := range []string{"token=", "/password/reset", "/verify-email", "Reset your password"} {
				if bytes.Contains(r, []byte(clear)) {
					t.Fatalf("the outbox holds %q in clear: %q", clear, r)
				}
			}
		}
		// The last try fails: the mail is given up, its trace kept for an
		// operator, and its body too, sealed, to be sent again while its
		// link lives. (Made due again until it happens: a try under way
		// may set its own retry.)
		givenUp := func() int {
			var n int
			env.DB.QueryRow(env.Q(`SELECT COUNT(*) FROM outbox WHERE next_attempt_at >= ?`), int64(1)<<40).Scan(&n)
			return n
		}
		for deadline := time.Now().Add(10 * time.Second); givenUp() < 2 && time.Now().Before(deadline); {
			if _, err := env.DB.Exec(env.Q(`UPDATE outbox SET attempts = 7, next_attempt_at = 0 WHERE next_attempt_at < ?`), int64(1)<<40); err != nil {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if n := givenUp(); n != 2 {
			t.Fatalf("%d mails given up, want 2", n)
		}
		var sealed, traces int
		env.DB.QueryRow(`SELECT COUNT(*) FROM outbox WHERE body IS NOT NULL`).Scan(&sealed)
		env.DB.QueryRow(`SELECT COUNT(*) FROM outbox WHERE last_error <> ''`).Scan(&traces)
		if sealed != 2 || traces != 2 {
			t.Fatalf("given up: %d sealed bodies and %d traces, want 2 and 2", sealed, traces)
		}
		for _, r := range rows() {
			if bytes.Contains(r, []byte("token=")) {
				t.Fatalf("a given-up mail holds its link in clear: %q", r)
			}
		}
		// Once the links expired (the validation link lives a day), the
		// bodies go; the traces stay for the operator, 30 days.
		clock.Advance(25 * time.Hour)
		if _, err := env.App.Outbox.Purge(context.Background()); err != nil {
			t.Fatal(err)
		}
		env.DB.QueryRow(`SELECT COUNT(*) FROM outbox WHERE body IS NOT NULL`).Scan(&sealed)
		if n := len(rows()); sealed != 0 || n != 2 {
			t.Fatalf("links expired: %d bodies kept, %d traces (want 0, 2)", sealed, n)
		}
		clock.Advance(30 * 24 * time.Hour)
		if _, err := env.App.Outbox.Purge(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := len(rows()); n != 0 {
			t.Fatalf("%d traces older than 30 days are still in the outbox", n)
		}
	})
}
