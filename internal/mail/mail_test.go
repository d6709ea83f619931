package mail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gardien/gardien/internal/i18n"
	"github.com/gardien/gardien/internal/mail"
	"github.com/gardien/gardien/internal/mail/mailtest"
)

func compose(t *testing.T, lang string) mail.Message {
	t.Helper()
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	c, err := mail.NewComposer(cat)
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Compose(mail.Letter{Kind: "verify_email", To: "zoé@example.com", Name: "Zoé <b>", Lang: lang,
		Link: "http://127.0.0.1:8080/verify-email?token=" + strings.Repeat("A", 43)})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSMTPModes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mode   mailtest.Mode
		scheme string
		tls    bool
	}{
		{"plain server when the URL allows it", mailtest.Plain, "smtp+insecure", false},
		{"STARTTLS when offered, even if not required", mailtest.StartTLS, "smtp+insecure", true},
		{"STARTTLS when offered", mailtest.StartTLS, "smtp", true},
		{"TLS from the first byte", mailtest.TLS, "smtps", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := mailtest.Start(t, tc.mode)
			u, _ := url.Parse(srv.URL(tc.scheme))
			s := &mail.SMTP{URL: u, From: "Gardien <gardien@example.com>", TLS: srv.ClientTLS, Now: time.Now}
			msg := compose(t, "fr")
			if err := s.Send(context.Background(), msg); err != nil {
				t.Fatal(err)
			}
			got := srv.Wait(t, "zoé@example.com")
			if got.TLS != tc.tls {
				t.Errorf("TLS = %v, want %v", got.TLS, tc.tls)
			}
			if got.From != "gardien@example.com" || got.Subject != "Validez votre e-mail" {
				t.Errorf("from %q subject %q", got.From, got.Subject)
			}
			if got.Link() != "http://127.0.0.1:8080/verify-email?token="+strings.Repeat("A", 43) {
				t.Errorf("link %q in text:\n%s", got.Link(), got.Text)
			}
			if !strings.Contains(got.Text, "Bonjour Zoé <b>,") || !strings.Contains(got.HTML, "Bonjour Zoé &lt;b&gt;,") {
				t.Errorf("greeting not in the text part as typed, or not escaped in HTML:\n%s\n%s", got.Text, got.HTML)
			}
		})
	}
}

func TestInternationalAddressesCrossSMTPEncoded(t *testing.T) {
	srv := mailtest.Start(t, mailtest.StartTLS)
	u, _ := url.Parse(srv.URL("smtp"))
	s := &mail.SMTP{URL: u, From: "g@example.com", TLS: srv.ClientTLS, Now: time.Now}
	m := compose(t, "en")
	m.To = "ada@exämple.fr"
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.Wait(t, "ada@xn--exmple-cua.fr")
	if got.ToHeader != "<ada@xn--exmple-cua.fr>" {
		t.Fatalf("To: header %q, want the domain as its A-label", got.ToHeader)
	}
	// A non-ASCII local part needs a server that takes it (SMTPUTF8).
	ascii := mailtest.Start(t, mailtest.StartTLSASCII)
	u, _ = url.Parse(ascii.URL("smtp"))
	s = &mail.SMTP{URL: u, From: "g@example.com", TLS: ascii.ClientTLS, Now: time.Now}
	if err := s.Send(context.Background(), compose(t, "en")); err == nil || !strings.Contains(err.Error(), "SMTPUTF8") {
		t.Fatalf("zoé@… to a server without SMTPUTF8: %v, want a refusal naming SMTPUTF8", err)
	}
	for _, bad := range []string{"a@example.com\r\nBcc: x@evil.example", "Ada <a@example.com>", "a@example.com, b@example.com"} {
		m.To = bad
		if err := s.Send(context.Background(), m); err == nil {
			t.Errorf("sent to %q", bad)
		}
	}
}

func TestSMTPRefusesToSendInClear(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Plain)
	u, _ := url.Parse(srv.URL("smtp"))
	s := &mail.SMTP{URL: u, From: "g@example.com", Now: time.Now}
	err := s.Send(context.Background(), compose(t, "en"))
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("smtp:// to a server without STARTTLS: %v, want a refusal naming STARTTLS", err)
	}
	srv.None(t, "zoé@example.com", 100*time.Millisecond)
}

func TestSMTPRefusesAnUntrustedCertificate(t *testing.T) {
	srv := mailtest.Start(t, mailtest.TLS)
	u, _ := url.Parse(srv.URL("smtps"))
	s := &mail.SMTP{URL: u, From: "g@example.com", Now: time.Now} // system roots only
	if err := s.Send(context.Background(), compose(t, "en")); err == nil {
		t.Fatal("sent over TLS to a server whose certificate nobody trusts")
	}
}

func TestTerminalPrintsTheWholeMail(t *testing.T) {
	var buf bytes.Buffer
	term := &mail.Terminal{W: &buf}
	if err := term.Send(context.Background(), compose(t, "en")); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	// It stands out among log lines: framed, with a blank line around it.
	if !strings.HasPrefix(out, "\n══ A mail") || !strings.HasSuffix(out, "═\n\n") {
		t.Errorf("the mail is not set apart:\n%s", out)
	}
	for _, want := range []string{"Mail to: zoé@example.com", "Subject: Validate your email", "Hello Zoé <b>,", "http://127.0.0.1:8080/verify-email?token=" + strings.Repeat("A", 43)} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal output lacks %q:\n%s", want, out)
		}
	}
}

// A security alert ("if it was not you, act at once") must not end with
// "you can ignore it": no mail, in either language, says both.
func TestNoMailSaysBothActAtOnceAndIgnoreIt(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	c, err := mail.NewComposer(cat)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("../i18n/catalog/en.json")
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	if err := json.Unmarshal(raw, &keys); err != nil {
		t.Fatal(err)
	}
	words := map[string]struct{ ignore, urgent []string }{
		"en": {[]string{"ignore"}, []string{"at once", " now"}},
		"fr": {[]string{"ignorez"}, []string{"tout de suite", "maintenant", "immédiatement"}},
	}
	n := 0
	for k := range keys {
		kind, ok := strings.CutSuffix(strings.TrimPrefix(k, "mail."), ".body")
		if !ok || !strings.HasPrefix(k, "mail.") {
			continue
		}
		n++
		for lang, w := range words {
			m, err := c.Compose(mail.Letter{Kind: kind, To: "zoe@example.com", Name: "Zoé", Lang: lang, Link: "http://127.0.0.1/x", Args: []any{"A", "B"}})
			if err != nil {
				t.Fatal(err)
			}
			text := strings.ToLower(m.Text)
			has := func(list []string) bool {
				for _, s := range list {
					if strings.Contains(text, s) {
						return true
					}
				}
				return false
			}
			if has(w.ignore) && has(w.urgent) {
				t.Errorf("%s mail (%s) says both to act at once and to ignore it:\n%s", kind, lang, m.Text)
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d mail kinds found in the catalog", n)
	}
}

// TestTheMailsShape: what crosses SMTP — lines ending in CRLF, the text
// part in 8bit (a link never folded), the HTML part quoted-printable, an
// Auto-Submitted header (no out-of-office replies), nothing that names
// the software that wrote it.
func TestTheMailsShape(t *testing.T) {
	b, err := compose(t, "fr").Bytes("Gardien <gardien@example.com>", time.Unix(1_800_000_000, 0))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	link := "\r\nhttp://127.0.0.1:8080/verify-email?token=" + strings.Repeat("A", 43) + "\r\n"
	for _, want := range []string{"Auto-Submitted: auto-generated\r\n", "Content-Transfer-Encoding: 8bit\r\n",
		"Content-Transfer-Encoding: quoted-printable\r\n", "multipart/alternative", link, "To: <zoé@example.com>\r\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("no %q in:\n%s", want, s)
		}
	}
	if strings.Contains(strings.ReplaceAll(s, "\r\n", ""), "\n") {
		t.Errorf("a line ends without CR:\n%q", s)
	}
	for _, header := range []string{"User-Agent:", "X-Mailer:"} {
		if strings.Contains(s, header) {
			t.Errorf("%s names the mail's software:\n%s", header, s)
		}
	}
}
