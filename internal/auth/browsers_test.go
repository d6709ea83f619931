package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/pquerna/otp/totp"
)

// in is a client from a browser: its cookie value, its User-Agent.
func in(browser string) gardien.Client {
	return gardien.Client{IP: "198.51.100.7", Browser: strings.Repeat(browser, 43)[:43],
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"}
}

func newSignIns(f *fixture, addr string) []string {
	f.svc.Wait(context.Background())
	var out []string
	for _, m := range f.mails.titled(addr, "New sign-in to your account") {
		out = append(out, m.Text)
	}
	return out
}

// A login from a browser the account has not used before mails the person
// (the browser and system in words, the address, the time, a link to the
// sessions); the browser of the sign-up, one seen again, and a person who
// turned the alerts off get none.
func TestALoginFromANewBrowserIsMailed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newService(t)
	su, err := f.svc.SignUp(ctx, auth.SignupInput{Email: "ada@example.com", Password: pw, Name: "Ada"}, "", in("a"))
	if err != nil {
		t.Fatal(err)
	}
	logIn := func(c gardien.Client) {
		t.Helper()
		if _, err := f.svc.LogIn(ctx, "ada@example.com", pw, "", c); err != nil {
			t.Fatal(err)
		}
	}
	logIn(in("a"))
	if got := newSignIns(f, "ada@example.com"); len(got) != 0 {
		t.Fatalf("alerts for the browser of the sign-up: %q", got)
	}
	logIn(in("b"))
	got := newSignIns(f, "ada@example.com")
	if len(got) != 1 {
		t.Fatalf("%d alerts for a new browser", len(got))
	}
	for _, want := range []string{"Chrome on Linux", "198.51.100.7", "Nov 25, 2026, 10:00 UTC", "http://gardien.test/settings/sessions"} {
		if !strings.Contains(got[0], want) {
			t.Errorf("the alert lacks %q:\n%s", want, got[0])
		}
	}
	f.clock.Advance(3 * 24 * time.Hour) // a browser seen again days later is still known
	logIn(in("b"))
	logIn(in("a"))
	if n := len(newSignIns(f, "ada@example.com")); n != 1 {
		t.Fatalf("%d alerts, want the one", n)
	}
	// Turned off: no mail, and the trail says who turned it off.
	if err := f.svc.SetSignInAlerts(ctx, su.User.ID, false, in("a")); err != nil {
		t.Fatal(err)
	}
	if on, _ := f.svc.SignInAlerts(ctx, su.User.ID); on {
		t.Fatal("alerts still on")
	}
	logIn(in("c"))
	if n := len(newSignIns(f, "ada@example.com")); n != 1 {
		t.Fatalf("%d alerts with the alerts off", n)
	}
	events, _ := f.svc.UserEvents(ctx, su.User.ID, 50)
	found := false
	for _, e := range events {
		found = found || e.Type == gardien.EventSignInAlertsOff
	}
	if !found {
		t.Fatal("turning the alerts off is not in the trail")
	}
}

// An account that has no browser on record yet (made before the alerts
// existed) is not mailed at its first login: that is not news.
func TestTheFirstBrowserOnRecordIsNotNews(t *testing.T) {
	t.Parallel()
	f := newService(t)
	f.signup(t, "ada@example.com", true) // no browser value: none recorded
	for _, b := range []string{"a", "a"} {
		if _, err := f.svc.LogIn(context.Background(), "ada@example.com", pw, "", in(b)); err != nil {
			t.Fatal(err)
		}
	}
	if got := newSignIns(f, "ada@example.com"); len(got) != 0 {
		t.Fatalf("alerts: %q", got)
	}
}

// With a second factor, the alert comes once the code is right, not at
// the password: a wrong code has its own mail.
func TestANewBrowserIsMailedAfterTheSecondFactor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newService(t)
	if _, err := f.svc.SignUp(ctx, auth.SignupInput{Email: "ada@example.com", Password: pw, Name: "Ada"}, "", in("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.MarkEmailVerified(ctx, "ada@example.com"); err != nil {
		t.Fatal(err)
	}
	first, err := f.svc.LogIn(ctx, "ada@example.com", pw, "", in("a"))
	if err != nil {
		t.Fatal(err)
	}
	secret := f.enableTwoFactor(t, first)
	f.clock.Advance(time.Minute)
	l, err := f.svc.LogIn(ctx, "ada@example.com", pw, "", in("b"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(newSignIns(f, "ada@example.com")); n != 0 {
		t.Fatalf("%d alerts after the password alone", n)
	}
	code, err := totp.GenerateCode(secret, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.VerifySecondFactor(ctx, l.Token, code, "", in("b")); err != nil {
		t.Fatal(err)
	}
	if n := len(newSignIns(f, "ada@example.com")); n != 1 {
		t.Fatalf("%d alerts after the second factor", n)
	}
}
