// Command gardien runs the Gardien account-security service.
//
//	gardien [serve] [flags]          serve the pages and the JSON API (default)
//	gardien migrate [flags]          apply database migrations and list them
//	gardien user verify-email EMAIL  mark a person's email validated
//	gardien user reset-2fa EMAIL     remove a person's 2FA (lost phone)
//	gardien sso verify-domain ORG_ID DOMAIN  verify an organization's email domain
//	gardien backup PATH [flags]      copy the SQLite database, consistent, while serving
//	gardien healthcheck [flags]      exit 0 when the server answers ready, 1 otherwise
//	gardien version                  print the version
//
// Every flag has a GARDIEN_* environment variable of the same name; see
// `gardien serve -h` and docs/operations.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/i18n"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "gardien:", err)
		}
		os.Exit(1)
	}
}

// run is the whole program, with its outside world passed in so that tests
// can run it in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return inWords(command(ctx, args, getenv, stdout, stderr))
}

// inWords is err as an operator reads it: a rule's refusal in English
// words (the catalog's), not its key.
func inWords(err error) error {
	e, ok := gardien.AsError(err)
	if !ok {
		return err
	}
	cat, cerr := i18n.Load()
	if cerr != nil {
		return err
	}
	msg := cat.T("en", e.Message, e.Args...)
	for _, f := range e.Fields {
		msg += " " + cat.T("en", f.Message)
	}
	// What the command says around it (which person, which step) stays.
	if whole := err.Error(); strings.Contains(whole, e.Error()) {
		msg = strings.Replace(whole, e.Error(), msg, 1)
	}
	return &worded{msg: msg, err: err}
}

// worded is an error said in words, still wrapping the rule's.
type worded struct {
	msg string
	err error
}

func (w *worded) Error() string { return w.msg }
func (w *worded) Unwrap() error { return w.err }

func command(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, args, getenv, stdout, stderr)
	case "user":
		return user(ctx, args, getenv, stdout, stderr)
	case "sso":
		return ssoCommand(ctx, args, getenv, stdout, stderr)
	case "throttle":
		return throttle(ctx, args, getenv, stdout, stderr)
	case "mail":
		return mailCommand(ctx, args, getenv, stdout, stderr)
	case "keys":
		return keysCommand(ctx, args, getenv, stdout, stderr)
	case "backup":
		return backup(ctx, args, getenv, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, args, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "gardien", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

const usage = `Usage:
  gardien [serve] [flags]          serve the pages and the JSON API (default)
  gardien migrate [flags]          apply database migrations and list them
  gardien user verify-email EMAIL  mark a person's email validated
  gardien user reset-2fa EMAIL     remove a person's 2FA (lost phone), end their sessions
  gardien user delete EMAIL        delete an account and its personal data (the audit log keeps its lines)
  gardien user list [MATCH]        list accounts (email or name containing MATCH)
  gardien user disable|enable EMAIL
                                   stop an account from logging in (its sessions end), or let it again
  gardien user end-sessions EMAIL  end every session of a person
  gardien throttle clear EMAIL [IP]
                                   lift a person's second-factor lock; with IP, forget the wrong passwords from it
  gardien mail given-up            list the mails given up after their tries
  gardien mail retry ID...|all     send given-up mails again (once the mail settings are fixed), while their link lives
  gardien sso verify-domain ORG_ID DOMAIN
                                   verify a domain an organization claims for SSO (when its DNS cannot hold the TXT record)
  gardien keys rotate              give the OpenID Provider new signing keys (RS256, ES256); the old ones
                                   stop signing now and stay published until their ID tokens expire
  gardien backup PATH [flags]      copy the SQLite database to PATH while serving (PostgreSQL: use pg_dump)
  gardien healthcheck [flags] [-url URL]
                                   exit 0 when the server (of these settings, or at URL) answers
                                   ready within 3 s, 1 otherwise: for container health checks
  gardien version                  print the version
Run "gardien serve -h" for the flags; each has a GARDIEN_* variable, also
read from GARDIEN_CONFIG (a file of NAME=value lines) and, for secrets,
from NAME_FILE (the file's content).
`
