// Package ssotest starts, for tests, the real parts single sign-on talks
// to: a DNS server answering TXT questions (github.com/miekg/dns), and an
// OpenID Provider built on a certified library (github.com/zitadel/oidc's
// op package, with its example storage).
package ssotest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/text/language"

	"github.com/go-jose/go-jose/v4"
	"github.com/miekg/dns"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
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

type users map[string]*storage.User

func (u users) GetUserByID(id string) *storage.User { return u[id] }
func (u users) GetUserByUsername(name string) *storage.User {
	for _, x := range u {
		if x.Username == name {
			return x
		}
	}
	return nil
}
func (u users) ExampleClientID() string { return "service" }

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
	us := users{}
	for i, p := range people {
		first, last, _ := strings.Cut(p.Name, " ")
		id := "u" + strconv.Itoa(i)
		us[id] = &storage.User{ID: id, Username: p.Username, Password: p.Password, Email: p.Email,
			EmailVerified: p.EmailVerified, FirstName: first, LastName: last, PreferredLanguage: language.English}
	}
	cs := map[string]*storage.Client{}
	for _, c := range clients {
		cs[c.ID] = storage.WebClient(c.ID, c.Secret, c.RedirectURI)
	}
	st := storage.NewStorageWithClients(us, cs)
	var h http.Handler = exampleop.SetupServer(issuer, st, nil, false)
	if tamper != nil {
		h = tamperTokens(t, h, st, tamper)
	}
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	return issuer
}

// tamperTokens rewrites the id_token of the token endpoint's answers.
func tamperTokens(t testing.TB, next http.Handler, st *storage.Storage, tamper TamperIDToken) http.Handler {
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
