// Package mail writes Gardien's mails (text and HTML, in the person's
// language) and sends them over SMTP, or prints them to the terminal when no
// SMTP server is configured.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"
	"golang.org/x/net/idna"
)

// Message is one mail to one person.
type Message struct {
	To      string
	Subject string
	Text    string // text/plain body; links stand whole on their own line
	HTML    string // text/html body
	// Expires is when the mail's link stops working (zero: a notice, kept
	// a week): a mail not sent by then is dropped.
	Expires time.Time
}

// Sender delivers a message.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Bytes renders m as an RFC 5322 message with a multipart/alternative body.
// The text part is 8bit so that links are never folded; the HTML part is
// quoted-printable.
func (m Message) Bytes(from string, now time.Time) ([]byte, error) {
	msg, _, err := m.msg(from, now)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// msg is m as go-mail builds it, and whether its address has non-ASCII
// letters before the @ (utf8Local: only servers that speak SMTPUTF8 take
// them).
func (m Message) msg(from string, now time.Time) (msg *gomail.Msg, utf8Local bool, err error) {
	to, utf8Local, err := wireAddress(m.To)
	if err != nil {
		return nil, false, err
	}
	msg = gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(from); err != nil {
		return nil, false, fmt.Errorf("mail: from address: %w", err)
	}
	if err := msg.To(to); err != nil {
		return nil, false, fmt.Errorf("mail: to address: %w", err)
	}
	domain := "gardien.local"
	if a, err := mail.ParseAddress(from); err == nil {
		if _, d, ok := strings.Cut(a.Address, "@"); ok {
			domain = d
		}
	}
	var id [12]byte
	rand.Read(id[:])
	msg.SetMessageIDWithValue(hex.EncodeToString(id[:]) + "@" + domain)
	msg.SetDateWithValue(now)
	msg.Subject(m.Subject)
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	// Lines end in CRLF, as RFC 5322 wants (an 8bit part is written as given).
	text := strings.ReplaceAll(strings.ReplaceAll(m.Text, "\r\n", "\n"), "\n", "\r\n")
	msg.SetBodyString(gomail.TypeTextPlain, text, gomail.WithPartEncoding(gomail.NoEncoding))
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML, gomail.WithPartEncoding(gomail.EncodingQP))
	return msg, utf8Local, nil
}

// SMTP sends mail through an SMTP server, with go-mail's client.
type SMTP struct {
	// URL is smtp://user:pass@host:port (STARTTLS required), smtps://…
	// (TLS from the first byte) or smtp+insecure://… (STARTTLS when
	// offered, else in clear: only for a relay on a trusted network).
	URL  *url.URL
	From string
	// TLS is the TLS configuration for STARTTLS and smtps (nil: system roots,
	// server name from the URL). Tests set it to trust their own server.
	TLS *tls.Config
	Now func() time.Time
}

func (s *SMTP) tlsConfig() *tls.Config {
	if s.TLS != nil {
		return s.TLS
	}
	return &tls.Config{ServerName: s.URL.Hostname(), MinVersion: tls.VersionTLS12}
}

// Send delivers m. With smtp:// the connection is upgraded with STARTTLS,
// and a server that does not offer it is refused: a reset link must never
// cross the network in clear by surprise. With smtps:// it is TLS from the
// first byte; smtp+insecure:// upgrades when it can and sends anyway.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg, utf8Local, err := m.msg(s.From, s.Now())
	if err != nil {
		return err
	}
	port := s.URL.Port()
	if port == "" {
		port = map[string]string{"smtp": "587", "smtps": "465", "smtp+insecure": "587"}[s.URL.Scheme]
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return fmt.Errorf("mail: port %q: %w", port, err)
	}
	addr := net.JoinHostPort(s.URL.Hostname(), port)
	timeout := time.Minute
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	opts := []gomail.Option{gomail.WithPort(n), gomail.WithTLSConfig(s.tlsConfig()), gomail.WithHELO("localhost"),
		gomail.WithTimeout(timeout), gomail.WithoutNoop()}
	switch s.URL.Scheme {
	case "smtps":
		opts = append(opts, gomail.WithSSL())
	case "smtp":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.URL.User != nil {
		pass, _ := s.URL.User.Password()
		// PLAIN, which go-mail sends only over TLS or to localhost.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(s.URL.User.Username()), gomail.WithPassword(pass))
	}
	c, err := gomail.NewClient(s.URL.Hostname(), opts...)
	if err != nil {
		return fmt.Errorf("mail: %s: %w", addr, err)
	}
	sc, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		if s.URL.Scheme == "smtp" && strings.Contains(err.Error(), "STARTTLS") {
			return fmt.Errorf("mail: %s offers no STARTTLS: refusing to send in clear (GARDIEN_SMTP_URL=smtp+insecure://… allows it): %w", addr, err)
		}
		return fmt.Errorf("mail: connect %s: %w", addr, err)
	}
	defer c.CloseWithSMTPClient(sc) //nolint:errcheck // the mail is sent or its error returned; QUIT's answer adds nothing
	if ok, _ := sc.Extension("SMTPUTF8"); utf8Local && !ok {
		return fmt.Errorf("mail: %s does not take addresses with non-ASCII letters before the @ (no SMTPUTF8); cannot send to %s", addr, m.To)
	}
	if err := c.SendWithSMTPClient(sc, msg); err != nil {
		return fmt.Errorf("mail: send to %s: %w", addr, err)
	}
	return nil
}

// wireAddress is an address as it crosses SMTP and stands in headers: its
// domain in ASCII (an international domain name as its IDNA A-label, which
// every server understands); its local part as typed. utf8Local says the
// local part has non-ASCII letters, which only servers that speak SMTPUTF8
// take (the client then asks for it). Anything that is not a plain address
// (a name, several addresses, a line break) is refused.
func wireAddress(addr string) (string, bool, error) {
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != addr {
		return "", false, fmt.Errorf("mail: %q is not a plain address", addr)
	}
	at := strings.LastIndexByte(addr, '@')
	local, domain := addr[:at], addr[at+1:]
	ascii, err := idna.Lookup.ToASCII(domain)
	if err != nil {
		return "", false, fmt.Errorf("mail: domain of %q: %w", addr, err)
	}
	return local + "@" + ascii, strings.ContainsFunc(local, func(r rune) bool { return r >= utf8.RuneSelf }), nil
}

// Terminal prints mails, whole and readable, instead of sending them: the
// default when no SMTP server is configured, so a first run works offline.
type Terminal struct {
	mu sync.Mutex
	W  io.Writer
}

// Send prints m.
func (t *Terminal) Send(_ context.Context, m Message) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	// Framed and spaced apart, so that it stands out among the request log
	// lines of the same terminal.
	top := "══ A mail (printed here: no SMTP server is set, GARDIEN_SMTP_URL) " + strings.Repeat("═", 8)
	bottom := strings.Repeat("═", utf8.RuneCountInString(top))
	_, err := fmt.Fprintf(t.W, "\n%s\nMail to: %s\nSubject: %s\n\n%s\n%s\n\n", top, m.To, m.Subject, strings.TrimRight(m.Text, "\n"), bottom)
	return err
}
