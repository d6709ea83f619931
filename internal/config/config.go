// Package config loads Gardien's configuration from flags and GARDIEN_*
// environment variables (the same names), and validates it once.
package config

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"github.com/gardien/gardien/internal/dburl"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of a Gardien process.
type Config struct {
	Addr        string // listen address
	DataDir     string // SQLite database and generated key live here
	DatabaseURL string // "" = SQLite in DataDir; postgres://… = PostgreSQL
	// Database is DatabaseURL read (dburl.Parse), once settings are all in.
	Database dburl.Database
	// DatabaseTimeout bounds each database call: past it, requests answer
	// 503 instead of hanging on a database that stopped answering.
	DatabaseTimeout time.Duration
	BaseURL         *url.URL // how people reach Gardien; links in mails
	// BaseURLDefault is true when BaseURL was derived from Addr, so that a
	// server listening on port 0 can put its real port in.
	BaseURLDefault bool
	SMTPURL        *url.URL      // nil = mails printed to the terminal
	MailFrom       string        // From: of every mail
	SecretKey      []byte        // 32 bytes; nil = generated into DataDir at first start
	SessionMax     time.Duration // absolute session lifetime
	SessionIdle    time.Duration // a session unused this long ends
	LogFormat      string        // "text" or "json"
	LogLevel       string        // debug, info, warn, error
	TOTPIssuer     string        // the issuer shown in authenticator apps
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed; empty: the TCP peer is the client.
	TrustedProxies []netip.Prefix
	// Password guessing limits: wrong passwords per account and address,
	// per address, and the window they are counted in.
	PasswordTriesPerAccount int
	PasswordTriesPerAddress int
	PasswordTriesWindow     time.Duration
	// DNSResolver is the DNS server asked for domains' TXT records
	// (host:port; "" = the system's).
	DNSResolver string
	// SSOAllowPrivate lets identity providers be on this machine or a
	// private network (on-premises); off, Gardien fetches only https URLs
	// of public addresses for SSO (no SSRF through an owner's settings).
	SSOAllowPrivate bool
	// CookieDomain is the parent domain of Gardien's host and the hosts it
	// protects behind a reverse proxy (forward-auth): their pass cookie is
	// set for it ("" = Gardien's host alone).
	CookieDomain string
	// PasskeyRPID is the relying party ID passkeys are made for: the base
	// URL's host ("") or a parent domain of it, so that keys keep working
	// when Gardien moves between hosts under it.
	PasskeyRPID string
	// AppsAllowPrivate lets apps' back-channel logout URIs be on this
	// machine or a private network; off, Gardien posts only to https URLs
	// of public addresses (an admin's settings cannot aim it inside).
	AppsAllowPrivate bool
	// WebhooksAllowPrivate lets organizations' webhooks post to this
	// machine or a private network; off, only to https URLs of public
	// addresses.
	WebhooksAllowPrivate bool
	// AdminAddr is where metrics and pprof are served ("" = nowhere): a
	// listener of its own, never the public one.
	AdminAddr string
}

type setting struct {
	flag, env, def, usage string
	set                   func(c *Config, v string) error
}

var settings = []setting{
	{"addr", "GARDIEN_ADDR", "127.0.0.1:8080", "address to listen on (host:port)", func(c *Config, v string) error {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("want host:port, got %q", v)
		}
		c.Addr = v
		return nil
	}},
	{"data-dir", "GARDIEN_DATA_DIR", "./gardien-data", "directory for the SQLite database and the generated secret key (created if missing)", func(c *Config, v string) error {
		if v == "" {
			return errors.New("must not be empty")
		}
		c.DataDir = filepath.Clean(v)
		return nil
	}},
	{"database-url", "GARDIEN_DATABASE_URL", "", "database: empty for SQLite in the data dir, sqlite:PATH, or postgres://user:pass@host:port/db", func(c *Config, v string) error {
		if _, err := dburl.Parse(v, ""); err != nil {
			return err
		}
		c.DatabaseURL = v
		return nil
	}},
	{"database-timeout", "GARDIEN_DATABASE_TIMEOUT", "5s", "longest wait for one database call (a transaction as a whole) before a request answers 503", durationSetter(func(c *Config) *time.Duration { return &c.DatabaseTimeout })},
	{"base-url", "GARDIEN_BASE_URL", "", "URL people reach Gardien at, used in mail links (default http://ADDR)", func(c *Config, v string) error {
		if v == "" {
			return nil
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("want an http:// or https:// URL, got %q", v)
		}
		u.Path = strings.TrimSuffix(u.Path, "/")
		c.BaseURL = u
		return nil
	}},
	{"smtp-url", "GARDIEN_SMTP_URL", "", "SMTP server: smtp://user:pass@host:port (STARTTLS required), smtps://… (TLS), or smtp+insecure://… (clear text allowed); empty prints mails to the terminal", func(c *Config, v string) error {
		if v == "" {
			return nil
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps" && u.Scheme != "smtp+insecure") || u.Hostname() == "" {
			return fmt.Errorf("want smtp://host:port, smtps://host:port or smtp+insecure://host:port, got %q", redact(v))
		}
		c.SMTPURL = u
		return nil
	}},
	{"mail-from", "GARDIEN_MAIL_FROM", "Gardien <gardien@localhost>", "From address of mails", func(c *Config, v string) error {
		if !strings.Contains(v, "@") {
			return fmt.Errorf("want an address such as Gardien <security@example.com>, got %q", v)
		}
		c.MailFrom = v
		return nil
	}},
	{"secret-key", "GARDIEN_SECRET_KEY", "", "base64 of 32 random bytes sealing secrets at rest (e.g. openssl rand -base64 32); empty: generated into the data dir (SQLite only: required with PostgreSQL)", func(c *Config, v string) error {
		if v == "" {
			return nil
		}
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
		if err != nil || len(k) != 32 {
			return errors.New("want the base64 of exactly 32 bytes (openssl rand -base64 32)")
		}
		c.SecretKey = k
		return nil
	}},
	{"session-max", "GARDIEN_SESSION_MAX", "12h", "absolute lifetime of a login session", durationSetter(func(c *Config) *time.Duration { return &c.SessionMax })},
	{"session-idle", "GARDIEN_SESSION_IDLE", "2h", "a login session unused this long ends", durationSetter(func(c *Config) *time.Duration { return &c.SessionIdle })},
	{"log-format", "GARDIEN_LOG_FORMAT", "text", "log format: text or json", func(c *Config, v string) error {
		if v != "text" && v != "json" {
			return fmt.Errorf("want text or json, got %q", v)
		}
		c.LogFormat = v
		return nil
	}},
	{"log-level", "GARDIEN_LOG_LEVEL", "info", "log level: debug, info, warn or error", func(c *Config, v string) error {
		switch v {
		case "debug", "info", "warn", "error":
			c.LogLevel = v
			return nil
		}
		return fmt.Errorf("want debug, info, warn or error, got %q", v)
	}},
	{"trusted-proxies", "GARDIEN_TRUSTED_PROXIES", "", "reverse proxies whose X-Forwarded-For gives the client's address: comma-separated IPs or CIDRs (e.g. 10.0.0.0/8)", func(c *Config, v string) error {
		c.TrustedProxies = nil
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			p, err := netip.ParsePrefix(part)
			if err != nil {
				a, aerr := netip.ParseAddr(part)
				if aerr != nil {
					return fmt.Errorf("want IPs or CIDRs such as 10.0.0.0/8, got %q", part)
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			c.TrustedProxies = append(c.TrustedProxies, p.Masked())
		}
		return nil
	}},
	{"password-tries-per-account", "GARDIEN_PASSWORD_TRIES_PER_ACCOUNT", "10", "wrong passwords for one account from one address (IPv6: its /64) before tries wait for the window's end", intSetter(func(c *Config) *int { return &c.PasswordTriesPerAccount })},
	{"password-tries-per-address", "GARDIEN_PASSWORD_TRIES_PER_ADDRESS", "100", "wrong passwords from one address (IPv6: its /64), across accounts, before tries wait", intSetter(func(c *Config) *int { return &c.PasswordTriesPerAddress })},
	{"password-tries-window", "GARDIEN_PASSWORD_TRIES_WINDOW", "15m", "window in which wrong passwords are counted", durationSetter(func(c *Config) *time.Duration { return &c.PasswordTriesWindow })},
	{"dns-resolver", "GARDIEN_DNS_RESOLVER", "", "DNS server (host:port) asked for the TXT records that verify SSO domains; empty: the system's", func(c *Config, v string) error {
		if v != "" {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return fmt.Errorf("want host:port, got %q", v)
			}
		}
		c.DNSResolver = v
		return nil
	}},
	{"sso-allow-private", "GARDIEN_SSO_ALLOW_PRIVATE", "false", "let identity providers be on this machine or a private network (on-premises IdPs; plain http to loopback too); off, SSO fetches only https URLs of public addresses", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", v)
		}
		c.SSOAllowPrivate = b
		return nil
	}},
	{"apps-allow-private", "GARDIEN_APPS_ALLOW_PRIVATE", "false", "let apps' back-channel logout URIs be on this machine or a private network (plain http to loopback too); off, Gardien posts only to https URLs of public addresses", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", v)
		}
		c.AppsAllowPrivate = b
		return nil
	}},
	{"webhooks-allow-private", "GARDIEN_WEBHOOKS_ALLOW_PRIVATE", "false", "let organizations' webhooks post to this machine or a private network (plain http to loopback too); off, Gardien posts only to https URLs of public addresses", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", v)
		}
		c.WebhooksAllowPrivate = b
		return nil
	}},
	{"cookie-domain", "GARDIEN_COOKIE_DOMAIN", "", "the parent domain of Gardien's host and of the hosts it protects behind nginx, Traefik or Caddy (forward-auth), e.g. example.com: their pass cookie is set for it (never Gardien's session cookie); empty: Gardien's host alone", func(c *Config, v string) error {
		v = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(v)), ".")
		if v != "" && (strings.ContainsAny(v, "/:@ ") || !strings.Contains(v, ".") && v != "localhost") {
			return fmt.Errorf("want a domain such as example.com, got %q", v)
		}
		c.CookieDomain = v
		return nil
	}},
	{"passkey-rp-id", "GARDIEN_PASSKEY_RP_ID", "", "the domain passkeys and security keys are made for: GARDIEN_BASE_URL's host (empty) or a parent domain of it, e.g. example.com, so that keys keep working if Gardien moves to another host under it. Keys made for one domain never answer another: set it before people add keys", func(c *Config, v string) error {
		v = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(v)), ".")
		if v != "" && (strings.ContainsAny(v, "/:@ ") || !strings.Contains(v, ".") && v != "localhost") {
			return fmt.Errorf("want a domain such as example.com, got %q", v)
		}
		c.PasskeyRPID = v
		return nil
	}},
	{"admin-addr", "GARDIEN_ADMIN_ADDR", "", "address (host:port) of the admin listener serving /metrics (Prometheus) and /debug/pprof/; empty: none. Keep it private", func(c *Config, v string) error {
		if v != "" {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return fmt.Errorf("want host:port, got %q", v)
			}
		}
		c.AdminAddr = v
		return nil
	}},
	{"totp-issuer", "GARDIEN_TOTP_ISSUER", "Gardien", "issuer name shown in authenticator apps", func(c *Config, v string) error {
		if v == "" || strings.Contains(v, ":") {
			return fmt.Errorf("want a non-empty name without a colon, got %q", v)
		}
		c.TOTPIssuer = v
		return nil
	}},
}

func durationSetter(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("want a positive duration such as 30m or 12h, got %q", v)
		}
		*field(c) = d
		return nil
	}
}

func intSetter(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1_000_000 {
			return fmt.Errorf("want a whole number from 1 to 1000000, got %q", v)
		}
		*field(c) = n
		return nil
	}
}

// redact hides a password in a URL before it is printed.
func redact(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return v
	}
	return u.Redacted()
}

// Load reads the settings: defaults, then GARDIEN_* variables, then flags.
// The error names the setting and says what is wrong, in one line.
func Load(name string, args []string, getenv func(string) string, usageOut io.Writer) (*Config, []string, error) {
	c := &Config{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(usageOut)
	values := map[string]*string{}
	for _, s := range settings {
		values[s.flag] = fs.String(s.flag, s.def, s.usage+" ($"+s.env+")")
	}
	file, err := readConfigFile(getenv("GARDIEN_CONFIG"))
	if err != nil {
		return nil, nil, err
	}
	source := map[string]string{}
	for _, s := range settings {
		v, src, ok, err := lookup(getenv, file, s.env)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			*values[s.flag] = v
			source[s.flag] = src
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	fs.Visit(func(f *flag.Flag) { source[f.Name] = "-" + f.Name })
	for _, s := range settings {
		if err := s.set(c, *values[s.flag]); err != nil {
			src := source[s.flag]
			if src == "" {
				src = s.env
			}
			return nil, nil, fmt.Errorf("%s: %w", src, err)
		}
	}
	if c.Database, err = dburl.Parse(c.DatabaseURL, c.DataDir); err != nil {
		return nil, nil, fmt.Errorf("GARDIEN_DATABASE_URL: %w", err)
	}
	if c.SecretKey == nil && c.Database.Postgres {
		// Several nodes share a PostgreSQL database; a key generated by each
		// into its own data directory would make 2FA work on one node only.
		return nil, nil, errors.New("GARDIEN_SECRET_KEY: required with PostgreSQL, the same on every node; make one with: openssl rand -base64 32")
	}
	if c.BaseURL == nil {
		c.BaseURL = &url.URL{Scheme: "http", Host: c.Addr}
		c.BaseURLDefault = true
	}
	if c.SessionIdle > c.SessionMax {
		c.SessionIdle = c.SessionMax
	}
	if d := c.CookieDomain; d != "" && c.BaseURL.Hostname() != d && !strings.HasSuffix(c.BaseURL.Hostname(), "."+d) {
		// Browsers refuse a cookie for a domain the page is not in.
		return nil, nil, fmt.Errorf("GARDIEN_COOKIE_DOMAIN: %s is not a parent of GARDIEN_BASE_URL's host %s", d, c.BaseURL.Hostname())
	}
	if d := c.PasskeyRPID; d != "" && c.BaseURL.Hostname() != d && !strings.HasSuffix(c.BaseURL.Hostname(), "."+d) {
		// WebAuthn: a relying party ID is the page's host or a parent of it.
		return nil, nil, fmt.Errorf("GARDIEN_PASSKEY_RP_ID: %s is not a parent of GARDIEN_BASE_URL's host %s", d, c.BaseURL.Hostname())
	}
	return c, fs.Args(), nil
}

// lookup finds a setting's value outside the flags, and says where: the
// variable NAME, else NAME_FILE (the first line of that file: a secret
// stays out of the process environment), else the same names in the
// configuration file. Both NAME and NAME_FILE set is an error: one would
// silently win.
func lookup(getenv func(string) string, file *configFile, name string) (value, source string, ok bool, err error) {
	v, f := getenv(name), getenv(name+"_FILE")
	switch {
	case v != "" && f != "":
		return "", "", false, fmt.Errorf("%s and %s_FILE are both set: keep one", name, name)
	case v != "":
		return v, name, true, nil
	case f != "":
		v, err := readSecret(f)
		if err != nil {
			return "", "", false, fmt.Errorf("%s_FILE: %w", name, err)
		}
		return v, name + "_FILE", true, nil
	}
	return file.lookup(name)
}

// readSecret reads a value kept in a file: its content without the final
// line break.
func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// configFile is GARDIEN_CONFIG: lines NAME=value with the variables'
// names (NAME_FILE too), blank lines and # comments; a value may be
// quoted.
type configFile struct {
	path  string
	lines map[string]int    // name → line number
	vals  map[string]string // name → value
}

func readConfigFile(path string) (*configFile, error) {
	c := &configFile{path: path, lines: map[string]int{}, vals: map[string]string{}}
	if path == "" {
		return c, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("GARDIEN_CONFIG: %w", err)
	}
	known := map[string]bool{}
	for _, s := range settings {
		known[s.env], known[s.env+"_FILE"] = true, true
	}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, v, ok := strings.Cut(line, "=")
		name, v = strings.TrimSpace(name), strings.TrimSpace(v)
		where := fmt.Sprintf("%s:%d", path, i+1)
		switch {
		case !ok:
			return nil, fmt.Errorf("GARDIEN_CONFIG: %s: want NAME=value", where)
		case !known[name]:
			return nil, fmt.Errorf("GARDIEN_CONFIG: %s: unknown setting %q", where, name)
		case c.lines[name] != 0:
			return nil, fmt.Errorf("GARDIEN_CONFIG: %s: %s already set on line %d", where, name, c.lines[name])
		}
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		c.lines[name], c.vals[name] = i+1, v
	}
	return c, nil
}

// lookup is a setting's value in the file, by NAME or NAME_FILE.
func (c *configFile) lookup(name string) (value, source string, ok bool, err error) {
	if v, ok := c.vals[name]; ok {
		if _, both := c.vals[name+"_FILE"]; both {
			return "", "", false, fmt.Errorf("GARDIEN_CONFIG: %s and %s_FILE are both set: keep one", name, name)
		}
		return v, fmt.Sprintf("%s (%s:%d)", name, c.path, c.lines[name]), true, nil
	}
	if f, ok := c.vals[name+"_FILE"]; ok {
		v, err := readSecret(f)
		if err != nil {
			return "", "", false, fmt.Errorf("%s_FILE (%s:%d): %w", name, c.path, c.lines[name+"_FILE"], err)
		}
		return v, fmt.Sprintf("%s_FILE (%s:%d)", name, c.path, c.lines[name+"_FILE"]), true, nil
	}
	return "", "", false, nil
}

// SecureCookies is true when people reach Gardien over HTTPS.
func (c *Config) SecureCookies() bool { return c.BaseURL.Scheme == "https" }

// Settings lists the settings for documentation: flag, variable, default, usage.
func Settings() [][4]string {
	out := make([][4]string, 0, len(settings))
	for _, s := range settings {
		out = append(out, [4]string{s.flag, s.env, s.def, s.usage})
	}
	return out
}
