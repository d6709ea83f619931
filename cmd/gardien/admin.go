package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gardien/gardien"

	"github.com/gardien/gardien/internal/app"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/config"
	"github.com/gardien/gardien/internal/mail"
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
	a, err := app.New(ctx, cfg, app.Options{Stdout: stdout, Log: newLogger(cfg, stderr), Existing: true})
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
	if len(args) >= 1 && args[0] == "list" {
		return listUsers(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) < 2 {
		return fmt.Errorf("usage: gardien user list [MATCH] | verify-email|reset-2fa|disable|enable|end-sessions|delete EMAIL [flags]")
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
	case "disable", "enable":
		u, err := a.Auth.OperatorSetDisabled(ctx, email, operator(getenv), sub == "disable")
		if err != nil {
			return fmt.Errorf("%s %s: %w", sub, email, describe(a, err))
		}
		if sub == "disable" {
			fmt.Fprintf(stdout, "account %s disabled: its sessions ended, it cannot log in until enabled\n", u.Email)
		} else {
			fmt.Fprintf(stdout, "account %s enabled\n", u.Email)
		}
		return nil
	case "end-sessions":
		u, n, err := a.Auth.OperatorEndSessions(ctx, email, operator(getenv))
		if err != nil {
			return fmt.Errorf("end-sessions %s: %w", email, describe(a, err))
		}
		fmt.Fprintf(stdout, "%d session(s) of %s ended\n", n, u.Email)
		return nil
	}
	return fmt.Errorf("unknown user command %q (want list, verify-email, reset-2fa, disable, enable, end-sessions or delete)", sub)
}

// listUsers prints the accounts whose email or name contains MATCH.
func listUsers(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	match := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		match, args = args[0], args[1:]
	}
	a, done, err := operatorApp(ctx, "gardien user list", args, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	defer done()
	rows, err := a.Store.ListUsers(ctx, match, 1000)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "EMAIL\tNAME\tVALIDATED\t2FA\tSTATE\tCREATED\tLAST LOGIN")
	for _, r := range rows {
		u := r.User
		second := map[bool]string{true: "on", false: "off"}[u.TwoFactorEnabled]
		if u.SSO {
			second = "sso"
		}
		last := "never"
		if !r.LastLogin.IsZero() {
			last = r.LastLogin.Format("2006-01-02 15:04")
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Email, u.Name, map[bool]string{true: "yes", false: "no"}[u.EmailVerified],
			second, map[bool]string{true: "disabled", false: "active"}[u.Disabled], u.CreatedAt.Format("2006-01-02"), last)
	}
	w.Flush()
	if len(rows) == 1000 {
		fmt.Fprintln(stdout, "(the first 1000; narrow with MATCH)")
	}
	return nil
}

// throttle clears a person's limits: gardien throttle clear EMAIL [IP].
func throttle(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 || args[0] != "clear" {
		return fmt.Errorf("usage: gardien throttle clear EMAIL [IP] [flags]")
	}
	email, ip, rest := args[1], "", args[2:]
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		ip, rest = rest[0], rest[1:]
	}
	a, done, err := operatorApp(ctx, "gardien throttle clear", rest, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	defer done()
	u, err := a.Auth.OperatorClearThrottle(ctx, email, ip, operator(getenv))
	if err != nil {
		return fmt.Errorf("throttle clear %s: %w", email, describe(a, err))
	}
	fmt.Fprintf(stdout, "second-factor lock of %s lifted", u.Email)
	if ip != "" {
		fmt.Fprintf(stdout, "; wrong passwords from %s forgotten", ip)
	}
	fmt.Fprintln(stdout)
	return nil
}

// mailCommand lists the mails given up (gardien mail given-up) and sends
// them again once the mail settings are fixed (gardien mail retry ID…|all).
func mailCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const use = "usage: gardien mail given-up [flags] | gardien mail retry ID...|all [flags]"
	if len(args) < 1 || (args[0] != "given-up" && args[0] != "retry") {
		return errors.New(use)
	}
	var ids []int64
	all, rest := false, args[1:]
	if args[0] == "retry" {
		for len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
			if rest[0] == "all" {
				all = true
			} else if id, err := strconv.ParseInt(rest[0], 10, 64); err == nil && id > 0 {
				ids = append(ids, id)
			} else {
				return fmt.Errorf("%q is not a mail id (see gardien mail given-up)\n%s", rest[0], use)
			}
			rest = rest[1:]
		}
		if len(ids) == 0 && !all {
			return errors.New(use)
		}
	}
	a, done, err := operatorApp(ctx, "gardien mail "+args[0], rest, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	defer done()
	list, err := a.Store.GivenUpMails(ctx, 1000)
	if err != nil {
		return err
	}
	if args[0] == "given-up" {
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tTO\tQUEUED\tTRIES\tRETRY UNTIL\tLAST ERROR")
		for _, m := range list {
			until := "- (link expired)"
			if m.RetryUntil.After(a.Auth.Now()) {
				until = m.RetryUntil.Format("2006-01-02 15:04")
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%s\t%s\n", m.ID, m.To, m.CreatedAt.Format("2006-01-02 15:04"), m.Attempts, until, m.LastError)
		}
		return w.Flush()
	}
	if all {
		for _, m := range list {
			if m.RetryUntil.After(a.Auth.Now()) {
				ids = append(ids, m.ID)
			}
		}
	}
	var failed error
	for _, id := range ids {
		switch err := a.Outbox.Retry(ctx, id); {
		case err == nil:
			fmt.Fprintf(stdout, "mail %d queued again\n", id)
		case errors.Is(err, gardien.ErrNotFound):
			failed = fmt.Errorf("mail %d: no given-up mail has that id (see gardien mail given-up)", id)
			fmt.Fprintln(stderr, failed)
		case errors.Is(err, mail.ErrCannotRetry):
			failed = fmt.Errorf("mail %d: %w", id, err)
			fmt.Fprintln(stderr, failed)
		default:
			return err
		}
	}
	if all && len(ids) == 0 {
		fmt.Fprintln(stdout, "no given-up mail can be sent again")
	}
	return failed
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

// keysCommand manages the OpenID Provider's signing keys.
func keysCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 1 || args[0] != "rotate" {
		return fmt.Errorf("usage: gardien keys rotate [flags]")
	}
	a, done, err := operatorApp(ctx, "gardien keys rotate", args[1:], getenv, stdout, stderr)
	if err != nil {
		return err
	}
	defer done()
	added, err := a.Auth.RotateSigningKeys(ctx, operator(getenv))
	if err != nil {
		return fmt.Errorf("keys rotate: %w", err)
	}
	fmt.Fprintf(stdout, "new signing keys: %s\nthe keys they replace stop signing now, and stay in the JWKS until %s (every ID token they signed has expired)\n",
		strings.Join(added, ", "), time.Now().Add(auth.IDTokenLifetime+5*time.Minute).UTC().Format(time.RFC3339))
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
