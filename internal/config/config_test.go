package config

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, env map[string]string, args ...string) (*Config, error) {
	t.Helper()
	c, _, err := Load("test", args, func(k string) string { return env[k] }, io.Discard)
	return c, err
}

func TestDefaults(t *testing.T) {
	c, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DataDir != "gardien-data" || c.DatabaseURL != "" || c.SMTPURL != nil ||
		c.BaseURL.String() != "http://127.0.0.1:8080" || !c.BaseURLDefault || c.SessionMax != 12*time.Hour ||
		c.SecretKey != nil || c.TOTPIssuer != "Gardien" || c.SecureCookies() {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestEnvironmentThenFlags(t *testing.T) {
	env := map[string]string{
		"GARDIEN_ADDR":         "127.0.0.1:9000",
		"GARDIEN_BASE_URL":     "https://id.example.com/",
		"GARDIEN_SMTP_URL":     "smtps://u:p@mail.example.com:465",
		"GARDIEN_DATABASE_URL": "postgres://g@db/gardien",
		"GARDIEN_SECRET_KEY":   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"GARDIEN_SESSION_MAX":  "1h",
	}
	c, err := load(t, env, "-addr", "127.0.0.1:9001")
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9001" {
		t.Errorf("flag did not win over the variable: %s", c.Addr)
	}
	if c.BaseURL.String() != "https://id.example.com" || c.BaseURLDefault || !c.SecureCookies() {
		t.Errorf("base URL %s", c.BaseURL)
	}
	if c.SMTPURL.Scheme != "smtps" || c.DatabaseURL != env["GARDIEN_DATABASE_URL"] || len(c.SecretKey) != 32 {
		t.Errorf("config %+v", c)
	}
	if c.SessionMax != time.Hour || c.SessionIdle != time.Hour {
		t.Errorf("idle (2h default) must not exceed max (1h): %v %v", c.SessionIdle, c.SessionMax)
	}
}

func TestBadValuesNameTheSetting(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"GARDIEN_ADDR": "8080"}, nil, "GARDIEN_ADDR: want host:port"},
		{nil, []string{"-addr", "nope"}, "-addr: want host:port"},
		{map[string]string{"GARDIEN_SMTP_URL": "http://x"}, nil, "GARDIEN_SMTP_URL:"},
		{map[string]string{"GARDIEN_SMTP_URL": "ftp://u:secret@x"}, nil, "GARDIEN_SMTP_URL:"},
		{map[string]string{"GARDIEN_DATABASE_URL": "mysql://x"}, nil, "GARDIEN_DATABASE_URL:"},
		{map[string]string{"GARDIEN_BASE_URL": "example.com"}, nil, "GARDIEN_BASE_URL:"},
		{map[string]string{"GARDIEN_SECRET_KEY": "c2hvcnQ="}, nil, "GARDIEN_SECRET_KEY: want the base64 of exactly 32 bytes"},
		{map[string]string{"GARDIEN_SESSION_IDLE": "forever"}, nil, "GARDIEN_SESSION_IDLE: want a positive duration"},
		{map[string]string{"GARDIEN_SESSION_MAX": "-1h"}, nil, "GARDIEN_SESSION_MAX:"},
		{map[string]string{"GARDIEN_LOG_FORMAT": "xml"}, nil, "GARDIEN_LOG_FORMAT:"},
		{map[string]string{"GARDIEN_MAIL_FROM": "nobody"}, nil, "GARDIEN_MAIL_FROM:"},
		{map[string]string{"GARDIEN_TRUSTED_PROXIES": "10.0.0.0/8, proxy.local"}, nil, "GARDIEN_TRUSTED_PROXIES: want IPs or CIDRs"},
		{map[string]string{"GARDIEN_PASSWORD_TRIES_PER_ACCOUNT": "0"}, nil, "GARDIEN_PASSWORD_TRIES_PER_ACCOUNT: want a whole number"},
		{map[string]string{"GARDIEN_DATABASE_TIMEOUT": "soon"}, nil, "GARDIEN_DATABASE_TIMEOUT:"},
		{map[string]string{"GARDIEN_PASSKEY_RP_ID": "https://x"}, nil, "GARDIEN_PASSKEY_RP_ID: want a domain"},
		// A relying party ID the pages are not served under: no browser makes a key for it.
		{map[string]string{"GARDIEN_BASE_URL": "https://id.example.com", "GARDIEN_PASSKEY_RP_ID": "example.org"}, nil, "GARDIEN_PASSKEY_RP_ID: example.org is not a parent"},
		// Several nodes on one PostgreSQL must share one key: none generated.
		{map[string]string{"GARDIEN_DATABASE_URL": "postgres://g@db/gardien"}, nil, "GARDIEN_SECRET_KEY: required with PostgreSQL"},
	} {
		_, err := load(t, tc.env, tc.args...)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v %v: error %v, want one line starting %q", tc.env, tc.args, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") && strings.Contains(tc.want, "SMTP") {
			t.Errorf("error shows the SMTP password: %v", err)
		}
	}
}

func TestTrustedProxies(t *testing.T) {
	c, err := load(t, map[string]string{"GARDIEN_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7 ,::1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(c.TrustedProxies); got != "[10.0.0.0/8 192.0.2.7/32 ::1/128]" {
		t.Fatalf("trusted proxies %s", got)
	}
}

// TestConfigFileAndSecretFiles: GARDIEN_CONFIG holds NAME=value lines (the
// variables' names); NAME_FILE reads a value from a file, so secrets stay
// out of the environment; variables win over the file, flags over both.
func TestConfigFileAndSecretFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	key := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	keyFile := write("key", key+"\n")
	smtpFile := write("smtp", "smtps://u:secret@mail.example.com:465\r\n")
	conf := write("gardien.conf", `# Gardien
GARDIEN_ADDR = 127.0.0.1:9100
GARDIEN_BASE_URL="https://id.example.com"
GARDIEN_SESSION_MAX='3h'
GARDIEN_SECRET_KEY_FILE=`+keyFile+`

GARDIEN_MAIL_FROM=Gardien <id@example.com>
`)
	c, err := load(t, map[string]string{"GARDIEN_CONFIG": conf, "GARDIEN_SMTP_URL_FILE": smtpFile, "GARDIEN_MAIL_FROM": "env@example.com"}, "-session-max", "2h")
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9100" || c.BaseURL.String() != "https://id.example.com" || c.SessionMax != 2*time.Hour ||
		len(c.SecretKey) != 32 || c.SMTPURL.String() != "smtps://u:secret@mail.example.com:465" || c.MailFrom != "env@example.com" {
		t.Fatalf("loaded: %+v", c)
	}
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"GARDIEN_CONFIG": filepath.Join(dir, "missing")}, "GARDIEN_CONFIG: open"},
		{map[string]string{"GARDIEN_CONFIG": write("typo", "GARDIEN_ADR=1\n")}, `typo:1: unknown setting "GARDIEN_ADR"`},
		{map[string]string{"GARDIEN_CONFIG": write("noeq", "\nGARDIEN_ADDR\n")}, "noeq:2: want NAME=value"},
		{map[string]string{"GARDIEN_CONFIG": write("twice", "GARDIEN_ADDR=a:1\nGARDIEN_ADDR=b:2\n")}, "twice:2: GARDIEN_ADDR already set on line 1"},
		{map[string]string{"GARDIEN_CONFIG": write("bad", "GARDIEN_SESSION_MAX=soon\n")}, "GARDIEN_SESSION_MAX (" + filepath.Join(dir, "bad") + ":1)"},
		{map[string]string{"GARDIEN_SECRET_KEY": key, "GARDIEN_SECRET_KEY_FILE": keyFile}, "GARDIEN_SECRET_KEY and GARDIEN_SECRET_KEY_FILE are both set"},
		{map[string]string{"GARDIEN_SECRET_KEY_FILE": filepath.Join(dir, "nope")}, "GARDIEN_SECRET_KEY_FILE: open"},
		{map[string]string{"GARDIEN_SECRET_KEY_FILE": write("short", "c2hvcnQ=\n")}, "GARDIEN_SECRET_KEY_FILE:"},
	} {
		_, err := load(t, tc.env)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to say %q", tc.env, err, tc.want)
		}
	}
}
