package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/gardien/gardien/internal/app"
	"github.com/gardien/gardien/internal/config"
	"github.com/gardien/gardien/internal/sqlstore"
)

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, _, err := config.Load("gardien migrate", args, getenv, stderr)
	if err != nil {
		return err
	}
	store, err := sqlstore.OpenNoMigrate(cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	defer store.Close()
	before, err := store.Migrations(ctx)
	if err != nil {
		return err
	}
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	for _, m := range before {
		state := "already applied"
		if !m.Applied {
			state = "applied now"
		}
		fmt.Fprintf(stdout, "%04d %-40s %s\n", m.Version, m.Name, state)
	}
	return nil
}

func user(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: gardien user verify-email|reset-2fa EMAIL [flags]")
	}
	sub, email := args[0], args[1]
	cfg, _, err := config.Load("gardien user "+sub, args[2:], getenv, stderr)
	if err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, app.Options{Stdout: stdout, Log: newLogger(cfg, stderr)})
	if err != nil {
		return err
	}
	defer a.Store.Close()
	defer func() {
		// Mails the command queued leave before it exits (or stay in the
		// outbox for the server to send).
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		a.Outbox.Drain(ctx)
	}()
	switch sub {
	case "verify-email":
		u, err := a.Auth.MarkEmailVerified(ctx, email)
		if err != nil {
			return fmt.Errorf("verify-email %s: %w", email, err)
		}
		fmt.Fprintf(stdout, "email %s of %q is validated\n", u.Email, u.Name)
		return nil
	case "reset-2fa":
		u, err := a.Auth.ResetTwoFactor(ctx, email, operator(getenv))
		if err != nil {
			return fmt.Errorf("reset-2fa %s: %w", email, err)
		}
		fmt.Fprintf(stdout, "two-factor authentication of %s removed; their sessions ended and they were told by mail\n", u.Email)
		return nil
	}
	return fmt.Errorf("unknown user command %q (want verify-email or reset-2fa)", sub)
}

// operator names who runs a command, for the audit trail.
func operator(getenv func(string) string) string {
	for _, k := range []string{"SUDO_USER", "USER", "LOGNAME"} {
		if v := getenv(k); v != "" {
			return v
		}
	}
	return "unknown"
}
