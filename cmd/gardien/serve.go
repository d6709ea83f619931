package main

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gardien/gardien/internal/api"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/config"
	"github.com/gardien/gardien/internal/httpx"
	"github.com/gardien/gardien/internal/i18n"
	"github.com/gardien/gardien/internal/mail"
	"github.com/gardien/gardien/internal/password"
	"github.com/gardien/gardien/internal/secretbox"
	"github.com/gardien/gardien/internal/server"
	"github.com/gardien/gardien/internal/sqlstore"
	"github.com/gardien/gardien/internal/web"
)

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// app is the program's parts, wired once.
type app struct {
	cfg   *config.Config
	log   *slog.Logger
	store *sqlstore.Store
	auth  *auth.Service
	box   *secretbox.Box
	queue *mail.Queue
	key   []byte
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
	k := newKey()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	if _, err := f.WriteString(encodeKey(k) + "\n"); err != nil {
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
	log.Warn("GARDIEN_SECRET_KEY is not set: generated a key into the data directory; back it up, and give every node the same key with GARDIEN_SECRET_KEY",
		"path", path)
	return k, nil
}

func build(ctx context.Context, cfg *config.Config, stdout io.Writer, log *slog.Logger) (*app, error) {
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
		sender = &mail.SMTP{URL: cfg.SMTPURL, From: cfg.MailFrom, Now: time.Now}
	}
	queue := &mail.Queue{Sender: sender, Log: log}
	svc := auth.New(auth.Config{
		Store:       store,
		Hasher:      password.NewHasher(password.DefaultParams, runtime.GOMAXPROCS(0)),
		Mailer:      queue,
		Composer:    composer,
		Log:         log,
		BaseURL:     cfg.BaseURL,
		SessionMax:  cfg.SessionMax,
		SessionIdle: cfg.SessionIdle,
	})
	return &app{cfg: cfg, log: log, store: store, auth: svc, box: box, queue: queue, key: key}, nil
}

// subkey derives a key for one purpose from the secret key.
func (a *app) subkey(purpose string) []byte {
	k, _ := hkdf.Key(sha256.New, a.key, nil, "gardien "+purpose, 32)
	return k
}

func (a *app) handler() (http.Handler, error) {
	cat, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	cookies := httpx.Cookies{Secure: a.cfg.SecureCookies()}
	pages, err := web.New(web.Config{Auth: a.auth, Catalog: cat, Cookies: cookies, Log: a.log, FlashKey: a.subkey("flash")})
	if err != nil {
		return nil, err
	}
	return server.New(server.Config{
		Auth:    a.auth,
		API:     api.New(a.auth, cat, cookies, a.log),
		Web:     pages,
		DB:      a.store,
		Cookies: cookies,
		Log:     a.log,
	}), nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, _, err := config.Load("gardien serve", args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("GARDIEN_ADDR: %w", err)
	}
	if cfg.BaseURLDefault {
		cfg.BaseURL.Host = ln.Addr().String()
	}
	a, err := build(ctx, cfg, stdout, log)
	if err != nil {
		ln.Close()
		return err
	}
	defer a.store.Close()
	h, err := a.handler()
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	mails := "printed here, in this terminal (set GARDIEN_SMTP_URL to send them)"
	if cfg.SMTPURL != nil {
		mails = "sent through " + cfg.SMTPURL.Redacted()
	}
	db := "SQLite at " + filepath.Join(cfg.DataDir, "gardien.db")
	if a.store.Dialect() == sqlstore.Postgres {
		db = "PostgreSQL"
	} else if strings.HasPrefix(cfg.DatabaseURL, "sqlite:") {
		db = "SQLite at " + strings.TrimPrefix(cfg.DatabaseURL, "sqlite:")
	}
	fmt.Fprintf(stdout, "Gardien %s is serving on %s\n  database: %s\n  mails:    %s\n  stop with Ctrl+C\n", version(), cfg.BaseURL, db, mails)

	sweepCtx, stopSweep := context.WithCancel(ctx)
	defer stopSweep()
	go a.sweep(sweepCtx)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Error("shutdown", "err", err)
	}
	a.queue.Wait(shutCtx)
	log.Info("stopped")
	return nil
}

// sweep deletes ended sessions now and then.
func (a *app) sweep(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if n, err := a.auth.SweepSessions(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("session sweep", "err", err)
		} else if n > 0 {
			a.log.Debug("session sweep", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
