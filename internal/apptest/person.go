package apptest

import (
	"encoding/base32"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"

	"github.com/gardien/gardien/internal/totp"
)

// Password is the password of every Person.
const Password = "correct horse battery staple"

// Person is an account of a test, made through the API: its email, its id,
// its browser (logged in), and, once 2FA is on, its app's secret.
type Person struct {
	Email, ID string
	C         *Client
	Secret    []byte
}

// MustAPI calls the API with c and returns the JSON answer; an answer of
// 300 or more fails the test.
func MustAPI(t testing.TB, c *Client, method, path string, body any) map[string]any {
	t.Helper()
	r := c.API(method, path, body)
	if r.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, r.StatusCode, r.Body)
	}
	return r.JSON()
}

// NewPerson signs someone up (named "Ada" and their address's local part),
// validates the email through its mail, and logs them in.
func (e *Env) NewPerson(t testing.TB, email string) *Person {
	t.Helper()
	c := e.Client(t)
	MustAPI(t, c, "POST", "/signup", map[string]any{"email": email, "password": Password, "name": "Ada " + strings.Split(email, "@")[0]})
	MustAPI(t, c, "POST", "/email/verify", map[string]any{"token": e.Mail.Wait(t, email).Token()})
	MustAPI(t, c, "POST", "/login", map[string]any{"email": email, "password": Password})
	id := fmt.Sprint(MustAPI(t, c, "GET", "/me", nil)["user"].(map[string]any)["id"])
	return &Person{Email: email, ID: id, C: c}
}

// Code is the code of the person's app at the next time step (the clock
// moves on 30 s: a code is taken once).
func (p *Person) Code(clock *Clock) string {
	clock.Advance(30 * time.Second)
	return totp.Code(p.Secret, totp.Step(clock.Now()), otp.DigitsSix)
}

// Enable turns the person's 2FA on, in their session.
func (p *Person) Enable(t testing.TB, clock *Clock) {
	t.Helper()
	s := MustAPI(t, p.C, "POST", "/me/two-factor/setup", nil)["secret"].(string)
	p.Secret, _ = base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	MustAPI(t, p.C, "POST", "/me/two-factor/activate", map[string]any{"code": p.Code(clock)})
}
