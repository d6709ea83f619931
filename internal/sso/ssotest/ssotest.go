// Package ssotest starts, for tests, the real parts single sign-on talks
// to: a DNS server answering TXT questions (github.com/miekg/dns), and an
// OpenID Provider built on a certified library (github.com/zitadel/oidc's
// op package; its storage, clients and login page are this package's).
package ssotest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/miekg/dns"
)

// DNS is a DNS server on loopback whose TXT records a test sets.
type DNS struct {
	Addr string // host:port, for GARDIEN_DNS_RESOLVER
	mu   sync.Mutex
	txt  map[string][]string // fully qualified name → records
}

// StartDNS runs a DNS server (UDP and TCP, one port) until the test ends.
func StartDNS(t testing.TB) *DNS {
	t.Helper()
	d := &DNS{txt: map[string][]string{}}
	// One port for UDP and TCP: the UDP port the system picks may be taken
	// in TCP, so try a few.
	var pc net.PacketConn
	var ln net.Listener
	for try := 0; ; try++ {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatalf("ssotest: dns: %v", err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
		if try == 20 {
			t.Fatalf("ssotest: dns tcp: %v", err)
		}
	}
	d.Addr = pc.LocalAddr().String()
	udp := &dns.Server{PacketConn: pc, Handler: d}
	tcp := &dns.Server{Listener: ln, Handler: d}
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	t.Cleanup(func() { udp.Shutdown(); tcp.Shutdown() })
	return d
}

// SetTXT sets the TXT records of a name (e.g. example.com).
func (d *DNS) SetTXT(name string, records ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.txt[dns.Fqdn(strings.ToLower(name))] = records
}

// ServeDNS answers TXT questions from the records set; NXDOMAIN otherwise.
func (d *DNS) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(q)
	d.mu.Lock()
	for _, question := range q.Question {
		recs, ok := d.txt[strings.ToLower(question.Name)]
		if !ok {
			m.Rcode = dns.RcodeNameError
			continue
		}
		if question.Qtype != dns.TypeTXT {
			continue
		}
		for _, r := range recs {
			m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{r}})
		}
	}
	d.mu.Unlock()
	w.WriteMsg(m)
}

// OPUser is a person the provider knows: they log in at its login page
// with Username and Password.
type OPUser struct {
	Username, Password string
	Email              string
	EmailVerified      bool
	Name               string
}

// Client is a relying party registered at the provider.
type Client struct {
	ID, Secret, RedirectURI string
}

// StartOP runs an OpenID Provider on loopback, knowing the clients and
// people given, until the test ends, and returns its issuer URL. Its login
// page is /login/username (fields id, username, password).
func StartOP(t testing.TB, clients []Client, people ...OPUser) string {
	t.Helper()
	return StartTamperedOP(t, nil, clients, people...)
}

// TamperIDToken rewrites the ID token an OpenID Provider's token endpoint
// returns: given the token and a function that signs claims with the
// provider's own key, it returns the token to send instead. It stands for
// a provider (or a network) that misbehaves, so that tests can show what
// the relying party refuses.
type TamperIDToken func(raw string, sign func(claims map[string]any) string) string

// StartTamperedOP is StartOP whose token endpoint passes its ID tokens
// through tamper (nil: untouched).
func StartTamperedOP(t testing.TB, tamper TamperIDToken, clients []Client, people ...OPUser) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	p, err := newProvider(issuer, clients, people)
	if err != nil {
		t.Fatal(err)
	}
	h, err := p.handler()
	if err != nil {
		t.Fatal(err)
	}
	if tamper != nil {
		h = tamperTokens(t, h, p, tamper)
	}
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	return issuer
}

// tamperTokens rewrites the id_token of the token endpoint's answers.
func tamperTokens(t testing.TB, next http.Handler, st *provider, tamper TamperIDToken) http.Handler {
	sign := func(claims map[string]any) string {
		k, err := st.SigningKey(context.Background())
		if err != nil {
			t.Errorf("ssotest: signing key: %v", err)
			return ""
		}
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k.Key(), KeyID: k.ID()}}, nil)
		if err != nil {
			t.Errorf("ssotest: signer: %v", err)
			return ""
		}
		payload, _ := json.Marshal(claims)
		jws, err := signer.Sign(payload)
		if err != nil {
			t.Errorf("ssotest: sign: %v", err)
			return ""
		}
		out, _ := jws.CompactSerialize()
		return out
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth/token" {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		var answer map[string]any
		if json.Unmarshal(body, &answer) == nil {
			if raw, ok := answer["id_token"].(string); ok {
				answer["id_token"] = tamper(raw, sign)
				body, _ = json.Marshal(answer)
			}
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		w.Write(body)
	})
}

// Claims decodes, without checking it, the payload of a JWT.
func Claims(raw string) map[string]any {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var c map[string]any
	json.Unmarshal(b, &c)
	return c
}
