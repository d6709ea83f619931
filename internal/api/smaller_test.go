package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gardien/gardien/internal/apptest"
)

func TestMeAtThePasswordStepShowsOnlyWhatTheCodeStepNeeds(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	p := enabled(t, env, clock, "ada@example.com")
	if r := p.c.API("POST", "/organizations", map[string]any{"name": "Acme"}); r.StatusCode != 201 {
		t.Fatalf("org: %d", r.StatusCode)
	}
	c := env.Client(t) // someone with the password only
	login(t, c, "ada@example.com", pw)
	r := c.API("GET", "/me", nil)
	if r.StatusCode != 200 {
		t.Fatalf("me: %d %s", r.StatusCode, r.Body)
	}
	body := string(r.Body)
	for _, leak := range []string{"Acme", "organizations", "Lovelace", `"id"`} {
		if strings.Contains(body, leak) {
			t.Errorf("GET /me at the password step shows %q: %s", leak, body)
		}
	}
	if !strings.Contains(body, `"two_factor_required"`) {
		t.Errorf("GET /me at the password step does not say what is due: %s", body)
	}
}

func TestHSTSIsSentWhenPeopleComeOverHTTPS(t *testing.T) {
	t.Parallel()
	// Behind a proxy that ends TLS: the request is plain HTTP, the base URL https.
	env := apptest.Start(t, apptest.Setting("GARDIEN_BASE_URL", "https://id.example.com"))
	if h := env.Client(t).Get("/login").Header.Get("Strict-Transport-Security"); h == "" {
		t.Fatal("no Strict-Transport-Security behind an HTTPS base URL")
	}
	plain := apptest.Start(t)
	if h := plain.Client(t).Get("/login").Header.Get("Strict-Transport-Security"); h != "" {
		t.Fatalf("Strict-Transport-Security %q over plain HTTP", h)
	}
}

func TestStaticFilesAreNotListed(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.Client(t)
	if r := c.Get("/static/"); r.StatusCode != http.StatusNotFound || strings.Contains(string(r.Body), "style.css") {
		t.Fatalf("/static/: %d %s", r.StatusCode, r.Body)
	}
	if r := c.Get("/static/style.css"); r.StatusCode != 200 {
		t.Fatalf("/static/style.css: %d", r.StatusCode)
	}
}

// The API's sign-up is the pages' sign-up: logged in at once, and joining
// the organization of the invitation it answers.
func TestSignupLogsInAndAcceptsTheInvitation(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	owner := enabled(t, env, clock, "owner@example.com")
	org := owner.c.API("POST", "/organizations", map[string]any{"name": "Acme"}).JSON()["organization"].(map[string]any)
	id := fmt.Sprint(org["id"])
	owner.c.API("PUT", "/organizations/"+id+"/security", map[string]any{"require_two_factor": true})
	owner.c.API("POST", "/organizations/"+id+"/invitations", map[string]any{"email": "new@example.com", "role": "member"})
	tok := env.Mail.Wait(t, "new@example.com").Token()
	c := env.Client(t)
	r := c.API("POST", "/signup", map[string]any{"email": "new@example.com", "password": pw, "name": "New", "invitation": tok})
	if r.StatusCode != 201 {
		t.Fatalf("signup: %d %s", r.StatusCode, r.Body)
	}
	out := r.JSON()
	if out["status"] != "two_factor_setup_required" || out["organization"] == nil {
		t.Fatalf("signup into an organization that requires 2FA: %s", r.Body)
	}
	wantProblem(t, c.API("GET", "/organizations", nil), 403, "two_factor_setup_required")
	if r := c.API("POST", "/me/two-factor/setup", nil); r.StatusCode != 200 {
		t.Fatalf("the new member cannot set 2FA up: %d %s", r.StatusCode, r.Body)
	}
	// Without an invitation: logged in, full.
	c2 := env.Client(t)
	if r := c2.API("POST", "/signup", map[string]any{"email": "solo@example.com", "password": pw, "name": "Solo"}); r.JSON()["status"] != "ok" {
		t.Fatalf("signup: %s", r.Body)
	}
	if r := c2.API("GET", "/me", nil); r.StatusCode != 200 {
		t.Fatalf("not logged in after signing up: %d", r.StatusCode)
	}
}

func TestWhereImLoggedIn(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	laptop := env.Client(t)
	laptop.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0")
	signup(t, env, laptop, "ada@example.com")
	login(t, laptop, "ada@example.com", pw)
	phone := env.Client(t)
	phone.Header.Set("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1")
	login(t, phone, "ada@example.com", pw)
	bob := env.Client(t)
	signup(t, env, bob, "bob@example.com")
	login(t, bob, "bob@example.com", pw)

	list := laptop.API("GET", "/me/sessions", nil).JSON()["sessions"].([]any)
	if len(list) < 2 {
		t.Fatalf("sessions: %v", list)
	}
	var phoneID any
	for _, x := range list {
		s := x.(map[string]any)
		switch {
		case s["current"] == true && (s["browser"] != "Firefox" || s["system"] != "Linux"):
			t.Fatalf("this session: %v", s)
		case s["current"] == false && s["browser"] == "Safari" && s["system"] == "iOS":
			phoneID = s["id"]
		}
	}
	if phoneID == nil {
		t.Fatalf("the phone's session is not listed: %v", list)
	}
	// Bob cannot end Ada's session.
	wantProblem(t, bob.API("DELETE", fmt.Sprintf("/me/sessions/%v", phoneID), nil), 404, "not_found")
	if r := laptop.API("DELETE", fmt.Sprintf("/me/sessions/%v", phoneID), nil); r.StatusCode != 204 {
		t.Fatalf("end the phone's session: %d %s", r.StatusCode, r.Body)
	}
	wantProblem(t, phone.API("GET", "/me", nil), 401, "unauthorized")
	login(t, phone, "ada@example.com", pw)
	if r := laptop.API("DELETE", "/me/sessions", nil); r.StatusCode != 200 || r.JSON()["ended"].(float64) < 1 {
		t.Fatalf("end the others: %d %s", r.StatusCode, r.Body)
	}
	wantProblem(t, phone.API("GET", "/me", nil), 401, "unauthorized")
	if r := laptop.API("GET", "/me", nil); r.StatusCode != 200 {
		t.Fatalf("this session ended too: %d", r.StatusCode)
	}
}

func TestDeleteMe(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.Client(t)
	signup(t, env, c, "ada@example.com")
	login(t, c, "ada@example.com", pw)
	wantProblem(t, c.API("DELETE", "/me", map[string]any{"password": "a wrong password"}), 422, "validation_failed")
	if r := c.API("DELETE", "/me", map[string]any{"password": pw}); r.StatusCode != 204 {
		t.Fatalf("delete me: %d %s", r.StatusCode, r.Body)
	}
	wantProblem(t, c.API("GET", "/me", nil), 401, "unauthorized")
	wantProblem(t, login(t, env.Client(t), "ada@example.com", pw), 401, "invalid_credentials")
}
