package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gardien/gardien"

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

// operatorApp wires the program for an operator's command; done sends the
// mails it queued (or leaves them in the outbox for the server) and closes.
func operatorApp(ctx context.Context, name string, args []string, getenv func(string) string, stdout, stderr io.Writer) (*app.App, func(), error) {
	cfg, _, err := config.Load(name, args, getenv, stderr)
	if err != nil {
		return nil, nil, err
	}
	a, err := app.New(ctx, cfg, app.Options{Stdout: stdout, Log: newLogger(cfg, stderr)})
	if err != nil {
		return nil, nil, err
	}
	return a, func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		a.Outbox.Drain(ctx)
		a.Store.Close()
	}, nil
}

func user(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: gardien user verify-email|reset-2fa|delete EMAIL [flags]")
	}
	sub, email := args[0], args[1]
	a, done, err := operatorApp(ctx, "gardien user "+sub, args[2:], getenv, stdout, stderr)
	if err != nil {
		return err
	}
	defer done()
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
	case "delete":
		u, err := a.Auth.OperatorDeleteUser(ctx, email, operator(getenv))
		if err != nil {
			return fmt.Errorf("delete %s: %w", email, describe(a, err))
		}
		fmt.Fprintf(stdout, "account %s deleted; its sessions ended and it was told by mail\n", u.Email)
		return nil
	}
	return fmt.Errorf("unknown user command %q (want verify-email, reset-2fa or delete)", sub)
}

// backup writes a consistent copy of the SQLite database to PATH while
// the server may keep serving; with PostgreSQL it says to use pg_dump.
func backup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 1 || strings.HasPrefix(args[0], "-") {
		return fmt.Errorf("usage: gardien backup PATH [flags]")
	}
	path := args[0]
	cfg, _, err := config.Load("gardien backup", args[1:], getenv, stderr)
	if err != nil {
		return err
	}
	store, err := sqlstore.OpenNoMigrate(cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Backup(ctx, path); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database copied to %s; keep it with the secret key (%s), without which 2FA secrets cannot be read\n",
		path, keyWhere(cfg))
	return nil
}

// keyWhere says where the secret key of cfg is.
func keyWhere(cfg *config.Config) string {
	if cfg.SecretKey != nil {
		return "GARDIEN_SECRET_KEY"
	}
	return filepath.Join(cfg.DataDir, "secret.key")
}

func ssoCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 3 || args[0] != "verify-domain" {
		return fmt.Errorf("usage: gardien sso verify-domain ORG_ID DOMAIN [flags]")
	}
	orgID, err := strconv.ParseInt(args[1], 10, 64)
	if err != nil || orgID <= 0 {
		return fmt.Errorf("sso verify-domain: %q is not an organization id (a positive number)", args[1])
	}
	a, done, err := operatorApp(ctx, "gardien sso verify-domain", args[3:], getenv, stdout, stderr)
	if err != nil {
		return err
	}
	defer done()
	if err := a.Auth.OperatorVerifySSODomain(ctx, orgID, args[2], operator(getenv)); err != nil {
		return fmt.Errorf("sso verify-domain %s: %w", args[2], describe(a, err))
	}
	fmt.Fprintf(stdout, "domain %s of organization %d is verified\n", args[2], orgID)
	return nil
}

// describe puts a domain error in words for the terminal.
func describe(a *app.App, err error) error {
	if e, ok := gardien.AsError(err); ok {
		return errors.New(a.Catalog.T("en", e.Message, e.Args...))
	}
	return err
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
