// Package mailtest runs a real SMTP server (github.com/emersion/go-smtp) on
// loopback for tests, and hands over the mails it receives, parsed.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	smtp "github.com/emersion/go-smtp"
)

// Mode is how the server speaks TLS.
type Mode int

const (
	Plain    Mode = iota // no TLS offered
	StartTLS             // STARTTLS offered on a plain connection
	TLS                  // TLS from the first byte (smtps)
	// StartTLSASCII is StartTLS from a server that does not take non-ASCII
	// addresses (no SMTPUTF8).
	StartTLSASCII
)

// Mail is one received message.
type Mail struct {
	From, To string
	ToHeader string // the To: header as written
	Subject  string
	Text     string // the text/plain part, decoded
	HTML     string // the text/html part, decoded
	TLS      bool   // whether it came over TLS
	Raw      []byte
}

// Link returns the first link in the text part whose query has a token.
func (m *Mail) Link() string { return tokenLink.FindString(m.Text) }

// Token returns the token= of the mail's link.
func (m *Mail) Token() string {
	u, err := url.Parse(m.Link())
	if err != nil {
		return ""
	}
	return u.Query().Get("token")
}

var tokenLink = regexp.MustCompile(`https?://\S+[?&]token=[A-Za-z0-9_-]+`)

// Server is a running SMTP server.
type Server struct {
	Addr string
	// ClientTLS trusts this server's certificate: give it to the mailer.
	ClientTLS *tls.Config
	mu        sync.Mutex
	mails     []*Mail
	arrived   chan struct{}
}

// Start runs a server until the test ends.
func Start(t testing.TB, mode Mode) *Server {
	t.Helper()
	s := &Server{arrived: make(chan struct{}, 1000)}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.AllowInsecureAuth = true
	srv.EnableSMTPUTF8 = mode != StartTLSASCII
	var ln net.Listener
	var err error
	if mode != Plain {
		cert, pool := selfSigned(t)
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		s.ClientTLS = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	}
	if mode == TLS {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", srv.TLSConfig)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s.Addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

// URL is the GARDIEN_SMTP_URL for this server.
func (s *Server) URL(scheme string) string { return scheme + "://" + s.Addr }

// Wait returns the next mail to `to` (case-insensitive), waiting up to 10 s.
func (s *Server) Wait(t testing.TB, to string) *Mail {
	t.Helper()
	return s.wait(t, to, "")
}

// WaitSubject returns the next mail to `to` with this subject, waiting up
// to 10 s, and leaves the others in place: mails queued by two actions
// may arrive in either order.
func (s *Server) WaitSubject(t testing.TB, to, subject string) *Mail {
	t.Helper()
	return s.wait(t, to, subject)
}

func (s *Server) wait(t testing.TB, to, subject string) *Mail {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		s.mu.Lock()
		for i, m := range s.mails {
			if strings.EqualFold(m.To, to) && (subject == "" || m.Subject == subject) {
				s.mails = append(s.mails[:i], s.mails[i+1:]...)
				s.mu.Unlock()
				return m
			}
		}
		s.mu.Unlock()
		select {
		case <-s.arrived:
		case <-deadline:
			if subject != "" {
				t.Fatalf("mailtest: no mail %q to %s within 10s", subject, to)
			} else {
				t.Fatalf("mailtest: no mail to %s within 10s", to)
			}
			return nil
		}
	}
}

// Count is how many mails to `to` with this subject arrived and were not
// taken by Wait or WaitSubject.
func (s *Server) Count(to, subject string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.mails {
		if strings.EqualFold(m.To, to) && m.Subject == subject {
			n++
		}
	}
	return n
}

// None checks that no mail to `to` arrives within d.
func (s *Server) None(t testing.TB, to string, d time.Duration) {
	t.Helper()
	time.Sleep(d)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.mails {
		if strings.EqualFold(m.To, to) {
			t.Fatalf("mailtest: unexpected mail to %s: %q", to, m.Subject)
		}
	}
}

type session struct {
	s    *Server
	conn *smtp.Conn
	from string
	to   []string
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }
func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := x.conn.TLSConnectionState()
	for _, to := range x.to {
		m := parse(raw)
		m.From, m.To, m.TLS = x.from, to, isTLS
		x.s.mu.Lock()
		x.s.mails = append(x.s.mails, m)
		x.s.mu.Unlock()
		select {
		case x.s.arrived <- struct{}{}:
		default:
		}
	}
	return nil
}

func parse(raw []byte) *Mail {
	m := &Mail{Raw: raw}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return m
	}
	dec := new(mime.WordDecoder)
	m.Subject, _ = dec.DecodeHeader(msg.Header.Get("Subject"))
	m.ToHeader = msg.Header.Get("To")
	mt, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if !strings.HasPrefix(mt, "multipart/") {
		b, _ := io.ReadAll(msg.Body)
		m.Text = string(b)
		return m
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err != nil {
			break
		}
		var body io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body = quotedprintable.NewReader(p)
		}
		b, _ := io.ReadAll(body)
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			m.Text = strings.ReplaceAll(string(b), "\r\n", "\n")
		case "text/html":
			m.HTML = string(b)
		}
	}
	return m
}

func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mailtest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
