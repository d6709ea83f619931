// Package app wires Gardien's parts together, once, for the command and
// for whole-program tests.
package app

import (
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/api"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/authz"
	"github.com/gardien/gardien/internal/config"
	"github.com/gardien/gardien/internal/deliver"
	"github.com/gardien/gardien/internal/httpx"
	"github.com/gardien/gardien/internal/i18n"
	"github.com/gardien/gardien/internal/mail"
	"github.com/gardien/gardien/internal/metrics"
	"github.com/gardien/gardien/internal/oidcop"
	"github.com/gardien/gardien/internal/password"
	"github.com/gardien/gardien/internal/scim"
	"github.com/gardien/gardien/internal/secretbox"
	"github.com/gardien/gardien/internal/server"
	"github.com/gardien/gardien/internal/sqlstore"
	"github.com/gardien/gardien/internal/sso"
	"github.com/gardien/gardien/internal/web"
	"github.com/gardien/gardien/internal/webauthn"
	"github.com/gardien/gardien/internal/webhook"
)

// App is the program's parts, wired once.
type App struct {
	Config *config.Config
	Log    *slog.Logger
	Store  *sqlstore.Store
	Auth   *auth.Service
	Box    *secretbox.Box
	// Outbox keeps mails until they are sent; run it with Outbox.Run.
	Outbox *mail.Outbox
	// Provider is the OpenID Provider apps sign people in through.
	Provider *oidcop.Provider
	// Deliveries tells apps what they must know (back-channel logouts);
	// run it with Deliveries.Run.
	Deliveries *deliver.Worker
	// Webhooks posts events to organizations' endpoints; run it with
	// Webhooks.Run.
	Webhooks *deliver.Worker
	// Catalog holds the messages of pages and mails.
	Catalog *i18n.Catalog
	// Metrics counts for Prometheus; serve them with Metrics.Admin().
	Metrics *metrics.Metrics
	key     []byte
}

// deploymentExists says why an operator's command has nothing to work on:
// no SQLite database, or no secret key, where the configuration points.
func deploymentExists(cfg *config.Config) error {
	if db := cfg.Database; !db.Postgres {
		if _, err := os.Stat(db.Path); errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("no database at %s: run this where Gardien keeps its data (GARDIEN_DATA_DIR, or GARDIEN_DATABASE_URL); nothing was created", db.Path)
		}
	}
	if cfg.SecretKey == nil {
		path := filepath.Join(cfg.DataDir, "secret.key")
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("no secret key at %s (nor GARDIEN_SECRET_KEY): run this where Gardien keeps its data; nothing was created", path)
		}
	}
	return nil
}

// secretKey returns the configured key, or the one kept in the data dir,
// generating it (mode 0600) at first start.
func secretKey(cfg *config.Config, log *slog.Logger) ([]byte, error) {
	if cfg.SecretKey != nil {
		return cfg.SecretKey, nil
	}
	path := filepath.Join(cfg.DataDir, "secret.key")
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(k) != 32 {
			return nil, fmt.Errorf("%s: not the base64 of 32 bytes; restore it from a backup, or set GARDIEN_SECRET_KEY", path)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	k := make([]byte, 32)
	rand.Read(k)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("secret key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("secret key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	// A first start is normal, not a fault: information, with where the key is.
	log.Info("first start: generated the secret key that seals 2FA secrets; back it up with the database (several nodes share it through GARDIEN_SECRET_KEY)",
		"path", path)
	return k, nil
}

// Options are what tests may change in the wiring.
type Options struct {
	// Stdout receives the mails when no SMTP server is configured.
	Stdout io.Writer
	Log    *slog.Logger
	// SMTPTLS overrides the TLS configuration of the SMTP client (tests
	// trust their own server's certificate with it).
	SMTPTLS *tls.Config
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Existing works on a deployment that exists already (an operator's
	// command): a missing SQLite database or secret key is an error that
	// names where they were looked for; nothing is created. Only serve and
	// migrate make a new deployment.
	Existing bool
}

// New wires the program: data directory, secret key, database (migrated),
// mailer and rules.
func New(ctx context.Context, cfg *config.Config, o Options) (*App, error) {
	log, stdout := o.Log, o.Stdout
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Every line written inside a request names it (request_id).
	log = slog.New(httpx.RequestIDs(log.Handler()))
	if stdout == nil {
		stdout = io.Discard
	}
	if o.Existing {
		if err := deploymentExists(cfg); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("GARDIEN_DATA_DIR: %w", err)
	}
	key, err := secretKey(cfg, log)
	if err != nil {
		return nil, err
	}
	box, err := secretbox.New(key)
	if err != nil {
		return nil, err
	}
	store, err := sqlstore.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	store.SetTimeout(cfg.DatabaseTimeout)
	cat, err := i18n.Load()
	if err != nil {
		store.Close()
		return nil, err
	}
	composer, err := mail.NewComposer(cat)
	if err != nil {
		store.Close()
		return nil, err
	}
	var sender mail.Sender = &mail.Terminal{W: stdout}
	if cfg.SMTPURL != nil {
		sender = &mail.SMTP{URL: cfg.SMTPURL, From: cfg.MailFrom, Now: time.Now, TLS: o.SMTPTLS}
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	outbox := mail.NewOutbox(store, box, sender, log, now)
	m := metrics.New()
	m.Pools(store.PoolStats)
	m.Outbox(store.OutboxCounts)
	hasher := password.NewHasher(password.DefaultParams, runtime.GOMAXPROCS(0))
	hasher.OnWait = m.HashWait
	// At an IP address (the first start's 127.0.0.1) browsers offer no
	// passkeys: they are off until Gardien has a domain name.
	passkeys, err := webauthn.New(cfg.TOTPIssuer, cfg.BaseURL, cfg.PasskeyRPID)
	if err != nil && !errors.Is(err, webauthn.ErrNoDomain) {
		store.Close()
		return nil, err
	}
	svc := auth.New(auth.Config{
		Passkeys:             passkeys,
		WebhooksAllowPrivate: cfg.WebhooksAllowPrivate,
		Store:                store,
		Hasher:               hasher,
		Observer:             m,
		Mailer:               outbox,
		Composer:             composer,
		Box:                  box,
		RecoveryKey:          subkey(key, "recovery codes"),
		Issuer:               cfg.TOTPIssuer,
		Log:                  log,
		Links:                web.Links{Base: cfg.BaseURL},
		SessionMax:           cfg.SessionMax,
		SessionIdle:          cfg.SessionIdle,
		Now:                  o.Now,
		Providers:            sso.New(sso.Options{Resolver: sso.NewResolver(cfg.DNSResolver), AllowPrivate: cfg.SSOAllowPrivate, Now: now}),
		PasswordLimits: auth.PasswordLimits{PerAccount: cfg.PasswordTriesPerAccount,
			PerAddress: cfg.PasswordTriesPerAddress, Window: cfg.PasswordTriesWindow},
	})
	var opKey [32]byte
	copy(opKey[:], subkey(key, "oidc access tokens"))
	provider, err := oidcop.New(svc, cfg.BaseURL.String(), opKey, cfg.AppsAllowPrivate, log)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("openid provider: %w", err)
	}
	deliveries := &deliver.Worker{Store: store, Queue: svc.QueueAppLogouts, Log: log, Now: now,
		Senders: map[string]deliver.Sender{gardien.DeliveryBackchannelLogout: provider.SendBackchannelLogout}}
	hooks := &webhook.Sender{Client: webhookClient(cfg.WebhooksAllowPrivate), Keys: svc.WebhookKeys, Now: now, UserAgent: "Gardien-Webhooks/1"}
	webhooks := &deliver.Worker{Store: store.WebhookQueue(), Failed: svc.WebhookFailed, Log: log, Now: now, Concurrency: 4,
		Senders: map[string]deliver.Sender{gardien.DeliveryWebhook: hooks.Send}}
	return &App{Config: cfg, Log: log, Store: store, Auth: svc, Box: box, Outbox: outbox, Catalog: cat, Metrics: m, key: key,
		Provider: provider, Deliveries: deliveries, Webhooks: webhooks}, nil
}

// webhookClient reaches webhooks' endpoints: addresses checked at each
// connection (sso's rule), answers cut, no redirect followed (a POST
// redirected would arrive as a GET elsewhere; the endpoint's 3xx is its
// answer, a failure).
func webhookClient(allowPrivate bool) *http.Client {
	c := sso.NewCheckedClient(allowPrivate, 10*time.Second, 64<<10)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// subkey derives a key for one purpose from the secret key.
func subkey(key []byte, purpose string) []byte {
	k, _ := hkdf.Key(sha256.New, key, nil, "gardien "+purpose, 32)
	return k
}

// Handler returns the HTTP handler of every page and API call.
func (a *App) Handler() (http.Handler, error) {
	cat := a.Catalog
	cookies := httpx.Cookies{Secure: a.Config.SecureCookies()}
	pages, err := web.New(web.Config{Auth: a.Auth, Catalog: cat, Cookies: cookies, Log: a.Log, FlashKey: subkey(a.key, "flash"),
		CookieDomain: a.Config.CookieDomain})
	if err != nil {
		return nil, err
	}
	return server.New(server.Config{
		Auth:           a.Auth,
		Provider:       a.Provider,
		Authz:          &authz.Handler{Auth: a.Auth, Base: a.Config.BaseURL, Log: a.Log},
		SCIM:           scim.New(a.Auth, cat, a.Config.BaseURL.String(), a.Log),
		API:            api.New(a.Auth, cat, cookies, a.Log),
		Web:            pages,
		DB:             a.Store,
		Cookies:        cookies,
		Log:            a.Log,
		TrustedProxies: a.Config.TrustedProxies,
		HTTPS:          a.Config.SecureCookies(),
		Metrics:        a.Metrics,
	}), nil
}

// Sweep deletes ended sessions, old counts and mails whose link expired,
// and sends the reminders of requirements' deadlines, every 10 minutes
// until ctx ends (each reminder is claimed in the database: several nodes
// sweeping send it once).
func (a *App) Sweep(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if n, err := a.Auth.SweepSessions(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("session sweep", "err", err)
		} else if n > 0 {
			a.Log.Debug("session sweep", "deleted", n)
		}
		if n, err := a.Auth.SendDeadlineReminders(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("deadline reminders", "err", err)
		} else if n > 0 {
			a.Log.Info("deadline reminders queued", "mails", n)
		}
		if n, err := a.Outbox.Purge(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("outbox purge", "err", err)
		} else if n > 0 {
			a.Log.Info("outbox purge: mails whose link expired deleted", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
