package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
)

// FuzzNormalizeEmail: an accepted address is valid UTF-8 without spaces or
// line breaks (it goes into mail headers) nor U+FFFD (a decoder's stand-in
// for bytes that were not UTF-8), has a host name for domain, and
// normalizing it again changes nothing.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"ada@example.com", " Ada@Example.COM ", "x@[127.0.0.1]", "a@b", "zoé@exämple.fr", "\"a b\"@example.com",
		"a@example.com\r\nBcc: x@evil.example", "ada@ａｃｍｅ.test", "a@xn--exmple-cua.fr", "a@@example.com", "\xff@example.com", "\ufffd@example.com", "@example.com", "a@.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		email, key, ok := auth.NormalizeEmail(raw)
		if !ok {
			return
		}
		if !utf8.ValidString(email) || strings.ContainsFunc(email, unicode.IsSpace) || strings.ContainsAny(email, "\r\n<>[]\ufffd") {
			t.Fatalf("NormalizeEmail(%q) accepted %q", raw, email)
		}
		if key != strings.ToLower(email) {
			t.Fatalf("key %q of %q", key, email)
		}
		if e2, k2, ok2 := auth.NormalizeEmail(email); !ok2 || e2 != email || k2 != key {
			t.Fatalf("normalizing %q again gives %q %q %v", email, e2, k2, ok2)
		}
	})
}

// FuzzTokens: any string offered as a session, reset, validation or
// invitation token is refused with a clear code, never an error of ours.
func FuzzTokens(f *testing.F) {
	for _, s := range []string{"", "x", strings.Repeat("A", 43), strings.Repeat("A", 500), "\x00", "\xff\xfe", "%00", "a b",
		"1." + strings.Repeat("A", 43), "1.", ".x", "01.x", "-1.x", "99999999999999999999.x", "1.\xff", "1.x.y"} {
		f.Add(s)
	}
	fx := newService(f)
	u := fx.signup(f, "ada@example.com", true)
	sess := fx.login(f, "ada@example.com")
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, tok string) {
		if _, _, err := fx.svc.Authenticate(ctx, tok); gardien.ErrorCode(err) != gardien.CodeUnauthorized {
			t.Fatalf("session token %q: %v", tok, err)
		}
		for name, err := range map[string]error{
			"reset":      fx.svc.CheckResetToken(ctx, tok),
			"invitation": func() error { _, err := fx.svc.PeekInvitation(ctx, tok); return err }(),
			"accept":     func() error { _, err := fx.svc.AcceptInvitation(ctx, sess.Session, u, tok, client); return err }(),
			"verify":     func() error { _, err := fx.svc.VerifyEmail(ctx, tok, client); return err }(),
		} {
			if _, ok := gardien.AsError(err); !ok {
				t.Fatalf("%s token %q: %v, want a domain error", name, tok, err)
			}
		}
	})
}

// FuzzSecondFactor: any code or recovery code at the second step is
// refused with a domain error (wrong, locked, missing), never accepted
// unless right, never an error of ours.
func FuzzSecondFactor(f *testing.F) {
	for _, s := range []string{"", "123456", "abcd-efgh-jkmn", "ABCD EFGH JKMN", strings.Repeat("9", 1000), "\x00", "١٢٣٤٥٦"} {
		f.Add(s, s)
	}
	fx := newService(f)
	fx.signup(f, "ada@example.com", true)
	l := fx.login(f, "ada@example.com")
	fx.enableTwoFactor(f, l)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, code, recovery string) {
		second := fx.login(t, "ada@example.com")
		_, err := fx.svc.VerifySecondFactor(ctx, second.Token, code, recovery, client)
		if _, ok := gardien.AsError(err); err != nil && !ok {
			t.Fatalf("code %q, recovery %q: %v, want a domain error", code, recovery, err)
		}
		fx.clock.Advance(25 * time.Hour) // a day on: no lock carries over
	})
}
