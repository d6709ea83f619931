package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/gardien/gardien/internal/app"
	"github.com/gardien/gardien/internal/config"
)

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, _, err := config.Load("gardien serve", args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	// zitadel/oidc (the OpenID Provider) logs through the process's default
	// logger only: it is ours, at our level and in our format.
	slog.SetDefault(log)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("GARDIEN_ADDR: %w", err)
	}
	var aln net.Listener
	if cfg.AdminAddr != "" {
		// Metrics and pprof, on a listener of their own: never public.
		if aln, err = net.Listen("tcp", cfg.AdminAddr); err != nil {
			ln.Close()
			return fmt.Errorf("GARDIEN_ADMIN_ADDR: %w", err)
		}
		defer aln.Close()
	}
	if cfg.BaseURLDefault {
		cfg.BaseURL.Host = ln.Addr().String()
	}
	a, err := app.New(ctx, cfg, app.Options{Stdout: stdout, Log: log})
	if err != nil {
		ln.Close()
		return err
	}
	defer a.Store.Close()
	h, err := a.Handler()
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
	fmt.Fprintf(stdout, "Gardien %s is serving on %s\n  database: %s\n  mails:    %s\n  stop with Ctrl+C\n", version(), cfg.BaseURL, cfg.Database, mails)

	sweepCtx, stopSweep := context.WithCancel(ctx)
	defer stopSweep()
	go a.Sweep(sweepCtx)
	// Mail workers: they outlive the request handling during shutdown, so
	// mails of the last requests leave too; what is left stays in the
	// outbox for the next start.
	mailCtx, stopMail := context.WithCancel(context.Background())
	defer stopMail()
	mailDone := make(chan struct{})
	go func() { a.Outbox.Run(mailCtx, 4); close(mailDone) }()
	deliveriesDone := make(chan struct{})
	go func() { a.Deliveries.Run(mailCtx); close(deliveriesDone) }()
	webhooksDone := make(chan struct{})
	go func() { a.Webhooks.Run(mailCtx); close(webhooksDone) }()
	defer func() { stopMail(); <-deliveriesDone; <-webhooksDone }()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if aln != nil {
		// Where requests wait on each other (a pool's mutex, SQLite's
		// locks) is what a machine of many cores must show: one
		// contention in a hundred is recorded, for /debug/pprof/mutex.
		runtime.SetMutexProfileFraction(100)
		admin := &http.Server{Handler: a.Metrics.Admin(), ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		go func() {
			if err := admin.Serve(aln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("admin listener stopped", "err", err)
			}
		}()
		defer admin.Close()
		fmt.Fprintf(stdout, "  admin:    http://%s/metrics and /debug/pprof/ (GARDIEN_ADMIN_ADDR)\n", aln.Addr())
	}
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
	// Work requests handed off (reminders, reset mails) ends before the
	// mails are drained.
	if err := a.Auth.Wait(shutCtx); err != nil {
		log.Error("shutdown: background work cut short", "err", err)
	}
	drainCtx, stopDrain := context.WithTimeout(shutCtx, 5*time.Second)
	a.Outbox.Drain(drainCtx)
	stopDrain()
	stopMail()
	select {
	case <-mailDone:
	case <-shutCtx.Done():
	}
	log.Info("stopped")
	return nil
}
