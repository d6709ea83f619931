package api_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/gardien/gardien/internal/apptest"
)

// Mailed links are keys to accounts: the outbox never holds one in clear,
// drops a mail's body once it is given up, and the mail once its link expired.
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
		// The last try fails: the body goes, the trace stays. (Made due
		// again until it happens: a try under way may set its own retry.)
		var left int
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			if _, err := env.DB.Exec(`UPDATE outbox SET attempts = 7, next_attempt_at = 0 WHERE body IS NOT NULL`); err != nil {
				t.Fatal(err)
			}
			env.DB.QueryRow(`SELECT COUNT(*) FROM outbox WHERE body IS NOT NULL`).Scan(&left)
			if left == 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if left != 0 {
			t.Fatalf("%d given-up mails keep their body", left)
		}
		var traces int
		env.DB.QueryRow(`SELECT COUNT(*) FROM outbox WHERE last_error <> ''`).Scan(&traces)
		if traces != 2 {
			t.Fatalf("%d traces of given-up mails, want 2 for an operator", traces)
		}
		// Once the links expired (the validation link lives a day), the mails go.
		clock.Advance(25 * time.Hour)
		if _, err := env.App.Outbox.Purge(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := len(rows()); n != 0 {
			t.Fatalf("%d mails whose link expired are still in the outbox", n)
		}
	})
}
