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
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

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
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	var id [12]byte
	rand.Read(id[:])
	domain := "gardien.local"
	if a, err := mail.ParseAddress(from); err == nil {
		if _, d, ok := strings.Cut(a.Address, "@"); ok {
			domain = d
		}
	}
	fmt.Fprintf(&buf, "From: %s\r\n", from)
	to, _, err := wireAddress(m.To)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(&buf, "To: %s\r\n", (&mail.Address{Address: to}).String())
	fmt.Fprintf(&buf, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", m.Subject))
	fmt.Fprintf(&buf, "Date: %s\r\n", now.Format(time.RFC1123Z))
	fmt.Fprintf(&buf, "Message-ID: <%s@%s>\r\n", hex.EncodeToString(id[:]), domain)
	fmt.Fprintf(&buf, "MIME-Version: 1.0\r\n")
	fmt.Fprintf(&buf, "Auto-Submitted: auto-generated\r\n")
	fmt.Fprintf(&buf, "Content-Type: multipart/alternative; boundary=%s\r\n\r\n", mw.Boundary())
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Transfer-Encoding", "8bit")
	pw, err := mw.CreatePart(h)
	if err != nil {
		return nil, err
	}
	io.WriteString(pw, strings.ReplaceAll(strings.ReplaceAll(m.Text, "\r\n", "\n"), "\n", "\r\n"))
	h = textproto.MIMEHeader{}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	pw, err = mw.CreatePart(h)
	if err != nil {
		return nil, err
	}
	qp := quotedprintable.NewWriter(pw)
	io.WriteString(qp, m.HTML)
	qp.Close()
	mw.Close()
	return buf.Bytes(), nil
}

// SMTP sends mail through an SMTP server.
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
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return fmt.Errorf("mail: from address: %w", err)
	}
	body, err := m.Bytes(s.From, s.Now())
	if err != nil {
		return fmt.Errorf("mail: build: %w", err)
	}
	port := s.URL.Port()
	if port == "" {
		port = map[string]string{"smtp": "587", "smtps": "465", "smtp+insecure": "587"}[s.URL.Scheme]
	}
	addr := net.JoinHostPort(s.URL.Hostname(), port)
	d := net.Dialer{Timeout: 15 * time.Second}
	var conn net.Conn
	if s.URL.Scheme == "smtps" {
		td := tls.Dialer{NetDialer: &d, Config: s.tlsConfig()}
		conn, err = td.DialContext(ctx, "tcp", addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("mail: connect %s: %w", addr, err)
	}
	defer conn.Close()
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(time.Minute)
	}
	if err := conn.SetDeadline(dl); err != nil {
		return fmt.Errorf("mail: connect %s: %w", addr, err)
	}
	c, err := smtp.NewClient(conn, s.URL.Hostname())
	if err != nil {
		return fmt.Errorf("mail: greeting from %s: %w", addr, err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return fmt.Errorf("mail: hello: %w", err)
	}
	if s.URL.Scheme != "smtps" {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(s.tlsConfig()); err != nil {
				return fmt.Errorf("mail: starttls: %w", err)
			}
		} else if s.URL.Scheme == "smtp" {
			return fmt.Errorf("mail: %s offers no STARTTLS: refusing to send in clear (GARDIEN_SMTP_URL=smtp+insecure://… allows it)", addr)
		}
	}
	if s.URL.User != nil {
		pass, _ := s.URL.User.Password()
		// PlainAuth refuses to send the password over a connection that is
		// neither TLS nor to localhost.
		if err := c.Auth(smtp.PlainAuth("", s.URL.User.Username(), pass, s.URL.Hostname())); err != nil {
			return fmt.Errorf("mail: auth: %w", err)
		}
	}
	to, utf8Local, err := wireAddress(m.To)
	if err != nil {
		return err
	}
	if ok, _ := c.Extension("SMTPUTF8"); utf8Local && !ok {
		return fmt.Errorf("mail: %s does not take addresses with non-ASCII letters before the @ (no SMTPUTF8); cannot send to %s", addr, m.To)
	}
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("mail: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("mail: RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mail: DATA: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("mail: DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail: DATA: %w", err)
	}
	if err := c.Quit(); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("mail: QUIT: %w", err)
	}
	return nil
}

// wireAddress is an address as it crosses SMTP and stands in headers: its
// domain in ASCII (an international domain name as its IDNA A-label, which
// every server understands); its local part as typed. utf8Local says the
// local part has non-ASCII letters, which only servers that speak SMTPUTF8
// take (net/smtp then asks for it). Anything that is not a plain address
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
