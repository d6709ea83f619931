// Package apptest starts a whole Gardien, wired as in production, for HTTP
// tests: a real database (SQLite in a temporary directory, or PostgreSQL),
// a real SMTP server receiving the mails, and an httptest server.
package apptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gardien/gardien/internal/app"
	"github.com/gardien/gardien/internal/config"
	"github.com/gardien/gardien/internal/mail/mailtest"
	"github.com/gardien/gardien/internal/sqlstore"
	"github.com/gardien/gardien/internal/testenv"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver
	_ "modernc.org/sqlite"             // the sqlite driver
)

// Env is a running Gardien.
type Env struct {
	URL  string
	Mail *mailtest.Server
	App  *app.App
	// DB is a connection of the test's own to the server's database, for
	// setting up what the API would take too long to make (bulk rows).
	DB       *sql.DB
	settings map[string]string
}

type options struct {
	env    map[string]string
	now    func() time.Time
	logs   io.Writer
	mail   *mailtest.Server
	around func(http.Handler) http.Handler
	// baseHost names the server in its base URL (BaseHost).
	baseHost string
}

// NodeOf makes another node of the same deployment as first: its
// database, secret key, base URL and SMTP server.
func NodeOf(first *Env) Option {
	return func(o *options) {
		for _, k := range []string{"GARDIEN_DATABASE_URL", "GARDIEN_SECRET_KEY", "GARDIEN_BASE_URL", "GARDIEN_SMTP_URL"} {
			o.env[k] = first.settings[k]
		}
		o.mail = first.Mail
	}
}

// BaseHost has the server known as host (GARDIEN_BASE_URL
// http://host:port, its port the listener's): a name under a domain whose
// cookies it shares (GARDIEN_COOKIE_DOMAIN). The test's clients resolve
// it themselves (the listener is on 127.0.0.1).
func BaseHost(host string) Option {
	return func(o *options) { o.baseHost = host }
}

// Around wraps the server's handler (to mark which node answered, say).
func Around(wrap func(http.Handler) http.Handler) Option {
	return func(o *options) { o.around = wrap }
}

// Option changes the environment of a test server.
type Option func(*options)

// Postgres runs the server on a fresh PostgreSQL schema.
func Postgres(t testing.TB) Option {
	url := testenv.PostgresURL(t)
	return func(o *options) { o.env["GARDIEN_DATABASE_URL"] = url }
}

// OnEachDatabase runs fn as a parallel subtest on SQLite and on
// PostgreSQL; db are the options that pick the database, for Start.
func OnEachDatabase(t *testing.T, fn func(t *testing.T, db []Option)) {
	for name, db := range map[string]func(*testing.T) []Option{
		"sqlite":   func(*testing.T) []Option { return nil },
		"postgres": func(t *testing.T) []Option { return []Option{Postgres(t)} },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, db(t))
		})
	}
}

// Setting sets one GARDIEN_* variable.
func Setting(key, value string) Option {
	return func(o *options) { o.env[key] = value }
}

// WithLogs copies every line the server logs (Info and above) to w.
func WithLogs(w io.Writer) Option {
	return func(o *options) { o.logs = w }
}

// WithClock makes the server read the time from c.
func WithClock(c *Clock) Option {
	return func(o *options) { o.now = c.Now }
}

// Clock is a settable clock for tests of expiry.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at the current time.
func NewClock() *Clock { return &Clock{t: time.Now()} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Start runs a Gardien until the test ends.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	mail := mailtest.Start(t, mailtest.StartTLS)
	srv := httptest.NewUnstartedServer(nil)
	var key [32]byte
	rand.Read(key[:])
	o := &options{env: map[string]string{
		"GARDIEN_DATA_DIR":   t.TempDir(),
		"GARDIEN_SMTP_URL":   mail.URL("smtp"),
		"GARDIEN_BASE_URL":   "http://" + srv.Listener.Addr().String(),
		"GARDIEN_SECRET_KEY": base64.StdEncoding.EncodeToString(key[:]),
		// The tests' identity providers are on loopback.
		"GARDIEN_SSO_ALLOW_PRIVATE": "true",
		// And the apps' back-channel logout URIs, and webhooks.
		"GARDIEN_APPS_ALLOW_PRIVATE":     "true",
		"GARDIEN_WEBHOOKS_ALLOW_PRIVATE": "true",
	}}
	for _, opt := range opts {
		opt(o)
	}
	if o.baseHost != "" {
		_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
		o.env["GARDIEN_BASE_URL"] = "http://" + net.JoinHostPort(o.baseHost, port)
	}
	if o.mail != nil { // a node of another's deployment: its SMTP server
		mail = o.mail
	}
	env := o.env
	cfg, _, err := config.Load("test", nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, app.Options{SMTPTLS: mail.ClientTLS, Log: testLogger(t, o.logs), Now: o.now})
	if err != nil {
		t.Fatal(err)
	}
	h, err := a.Handler()
	if err != nil {
		t.Fatal(err)
	}
	if o.around != nil {
		h = o.around(h)
	}
	srv.Config.Handler = h
	srv.Start()
	mailCtx, stopMail := context.WithCancel(context.Background())
	mailDone := make(chan struct{})
	go func() { a.Outbox.Run(mailCtx, 4); close(mailDone) }()
	deliveriesDone := make(chan struct{})
	a.Deliveries.Every = 100 * time.Millisecond
	go func() { a.Deliveries.Run(mailCtx); close(deliveriesDone) }()
	webhooksDone := make(chan struct{})
	a.Webhooks.Every = 100 * time.Millisecond
	go func() { a.Webhooks.Run(mailCtx); close(webhooksDone) }()
	t.Cleanup(func() {
		srv.Close()
		wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		a.Auth.Wait(wctx)
		cancel()
		stopMail()
		<-mailDone
		<-deliveriesDone
		<-webhooksDone
		a.Store.Close()
	})
	driver, dsn := "sqlite", "file:"+cfg.Database.Path+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
	if cfg.Database.Postgres {
		driver, dsn = "pgx", cfg.Database.URL
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &Env{URL: srv.URL, Mail: mail, App: a, DB: db, settings: env}
}

// BaseURL is the server's GARDIEN_BASE_URL (BaseHost names it; the
// clients still reach it at URL).
func (e *Env) BaseURL() string { return e.settings["GARDIEN_BASE_URL"] }

// Q rewrites ? placeholders for the server's database (PostgreSQL wants $n).
func (e *Env) Q(query string) string { return sqlstore.Rebind(e.App.Store.Dialect(), query) }

// Client is a browser-like HTTP client with its own cookie jar.
type Client struct {
	*http.Client
	Base string
	t    testing.TB
	// Header is added to every request.
	Header http.Header
}

// Client returns a new client with an empty cookie jar that does not follow redirects.
func (e *Env) Client(t testing.TB) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{
		Client: &http.Client{Jar: jar, Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		Base: e.URL, t: t, Header: http.Header{},
	}
}

// Response is an answer, its body read.
type Response struct {
	*http.Response
	Body []byte
}

// JSON decodes the body into a map.
func (r *Response) JSON() map[string]any {
	var m map[string]any
	json.Unmarshal(r.Body, &m)
	return m
}

// Do sends a request with a raw body.
func (c *Client) Do(method, path, contentType string, body io.Reader) *Response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.Base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range c.Header {
		req.Header[k] = v
	}
	resp, err := c.Client.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if strings.HasPrefix(req.URL.Path, "/api/") {
		CheckContract(c.t, req, resp, b)
	}
	return &Response{Response: resp, Body: b}
}

// API sends a JSON body (nil for none) to the JSON API.
func (c *Client) API(method, path string, body any) *Response {
	c.t.Helper()
	var r io.Reader
	ct := ""
	if body != nil {
		if s, ok := body.(string); ok {
			r = strings.NewReader(s)
		} else {
			b, _ := json.Marshal(body)
			r = bytes.NewReader(b)
		}
		ct = "application/json"
	}
	return c.Do(method, "/api/v1"+path, ct, r)
}

// Form posts a form to a page.
func (c *Client) Form(path string, form map[string]string) *Response {
	c.t.Helper()
	v := make([]string, 0, len(form))
	for k, val := range form {
		v = append(v, urlEncode(k)+"="+urlEncode(val))
	}
	return c.Do(http.MethodPost, path, "application/x-www-form-urlencoded", strings.NewReader(strings.Join(v, "&")))
}

// Get fetches a page.
func (c *Client) Get(path string) *Response {
	c.t.Helper()
	return c.Do(http.MethodGet, path, "", nil)
}
