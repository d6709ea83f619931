package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/pquerna/otp"

	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/browsertest"
	"github.com/gardien/gardien/internal/sso/ssotest"
	"github.com/gardien/gardien/internal/testenv"
	"github.com/gardien/gardien/internal/totp"
)

// notPages are the GET routes of routes.go that show no page of their own.
var notPages = map[string]string{
	"/static/":                             "files the pages use",
	"/settings":                            "redirects to /settings/profile",
	"/organization":                        "redirects to the person's organization",
	"/sso/start":                           "redirects to the identity provider (its errors are the login page, checked at /login/sso)",
	"/sso/saml/{id}/metadata":              "XML for the identity provider",
	"/oauth/continue":                      "redirects a sign-in to an app on (its refusals are the message page)",
	"/authz/start":                         "redirects a browser on to a protected host (its refusals are the message page)",
	"/organizations/{id}/security/confirm": "", // a page: listed here only to be sure it is not forgotten below
}

// TestBrowserEveryPageOnAPhoneAndALaptop visits every page of routes.go in
// both languages, at 375 px and 1280 px, in the state a person meets it
// (logged out, at the second step, at the forced set-up, logged in as an
// owner or a member), and checks each: nothing sticks out sideways, and
// axe-core finds no serious or critical violation. Each is saved as a
// screenshot.
func TestBrowserEveryPageOnAPhoneAndALaptop(t *testing.T) {
	for lang, w := range languages {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			s := newScenery(t)
			b := browsertest.New(t, w.accept)
			visited := map[string]bool{}
			for _, v := range s.visits {
				b.UseCookies(s.env.URL, v.as)
				b.Open(s.env.URL + v.path)
				b.Check(v.name())
				visited[s.pattern(v.path)] = true
			}
			// The browser tells the server its time zone (app.js): from the
			// next page on, dates are on the reader's clock.
			zone := map[string]string{"en": "America/New_York", "fr": "Europe/Paris"}[lang]
			b.TimeZone(zone)
			b.UseCookies(s.env.URL, s.owner)
			b.Open(s.env.URL + "/settings/sessions")
			b.Open(s.env.URL + "/settings/sessions")
			z, _ := time.LoadLocation(zone)
			b.See(time.Now().In(z).Format("15:04 MST")[5:]) // the zone's abbreviation (EST, CET …)
			for _, r := range testenv.Routes(t, "web") {
				if r[0] != "GET" || visited[r[1]] {
					continue
				}
				if why, ok := notPages[r[1]]; !ok || why == "" {
					t.Errorf("GET %s is not visited: add it to the scenery (or to notPages with the reason)", r[1])
				}
			}
		})
	}
}

// A visit is a page and the cookies of the person looking at it.
type visit struct {
	path string
	as   []*http.Cookie
}

// name is the visit's screenshot name: its path, and the name of its
// query's first parameter (never a token).
func (v visit) name() string {
	path, query, _ := strings.Cut(v.path, "?")
	name := strings.ReplaceAll(strings.Trim(path, "/"), "/", "_")
	if name == "" {
		name = "home"
	}
	if key, _, ok := strings.Cut(query, "="); ok {
		name += "_" + key
	}
	return name
}

// scenery is a server with an organization, its owner (2FA on), a member
// without 2FA, a pending invitation, and one person at each session level.
type scenery struct {
	env    *apptest.Env
	mux    *http.ServeMux
	visits []visit
	owner  []*http.Cookie
	org    string // the organization's path
}

func newScenery(t *testing.T) *scenery {
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	s := &scenery{env: env, mux: http.NewServeMux()}
	for _, r := range testenv.Routes(t, "web") {
		if r[0] == "GET" {
			s.mux.HandleFunc(r[0]+" "+r[1], func(http.ResponseWriter, *http.Request) {})
		}
	}
	code := func(secret []byte) string {
		clock.Advance(30 * time.Second) // a new step: each code is taken once
		return totp.Code(secret, totp.Step(clock.Now()), otp.DigitsSix)
	}
	link := func(to, subject string) string {
		return strings.TrimPrefix(env.Mail.WaitSubject(t, to, subject).Link(), env.URL)
	}
	cookies := func(c *apptest.Client) []*http.Cookie { return cookiesOf(env, c) }
	userID := func(email string) string {
		var id string
		if err := env.DB.QueryRow(env.Q("SELECT id FROM users WHERE email = ?"), email).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}

	owner := verifiedClient(t, env, "owner@example.com")
	secret := withTwoFactor(t, owner, clock)
	org := strings.TrimSuffix(owner.Form("/organizations", map[string]string{"name": "Acme Corporation"}).Header.Get("Location"), "/members")
	member := invited(t, env, owner, org, "member@example.com", "Grace Hopper")
	owner.Form(org+"/invitations", map[string]string{"email": "pending@example.com", "role": "admin"})
	invitation := link("pending@example.com", "Ada Lovelace invites you to join Acme Corporation on Gardien")
	invited(t, env, owner, org, "late@example.com", "Alan Turing")
	owner.Form(org+"/security", map[string]string{"require": "on"})
	owner.Form(org+"/reminders", nil)
	// Late logs in again: the requirement stands in the way.
	setup := env.Client(t)
	setup.Form("/login", map[string]string{"email": "late@example.com", "password": pw})
	setup.Form("/two-factor/setup/enable", nil)
	// The owner logs in on another browser: the second step.
	second := env.Client(t)
	second.Form("/login", map[string]string{"email": "owner@example.com", "password": pw})
	// A new address waits for its link; a password reset too; a new account is not validated.
	member.Form("/settings/email", map[string]string{"new_email": "grace@example.com", "password": pw})
	confirm := link("grace@example.com", "Confirm your new email")
	env.Client(t).Form("/password/forgot", map[string]string{"email": "member@example.com"})
	reset := link("member@example.com", "Reset your password")
	fresh := env.Client(t)
	fresh.Form("/signup", map[string]string{"name": "Zoé Martin", "email": "zoe@example.com", "password": pw})
	verify := link("zoe@example.com", "Validate your email")
	// The owner starts moving to a new app (its scan page), in a browser of its own.
	moving := env.Client(t)
	moving.Form("/login", map[string]string{"email": "owner@example.com", "password": pw})
	moving.Form("/login/two-factor", map[string]string{"code": code(secret)})
	moving.Form("/settings/two-factor/new-app", map[string]string{"password": pw, "code": code(secret)})
	// Someone whose 2FA check-up is due, logged in with a recovery code
	// long ago: the check-up asks for a code of the app.
	checking := verifiedClient(t, env, "checkup@example.com")
	withTwoFactor(t, checking, clock)
	if _, err := env.DB.Exec(env.Q("UPDATE two_factor SET checkup_due_at = 1, last_step = 1 WHERE user_id = ?"), userID("checkup@example.com")); err != nil {
		t.Fatal(err)
	}
	// They have a security key too (made here: this Gardien is at an IP
	// address, where no browser makes one); another browser of theirs is
	// at the second step, where the key comes first.
	var keyID string
	if err := env.DB.QueryRow(env.Q(`INSERT INTO passkeys (user_id, name, credential_id, credential, created_at) VALUES (?, 'YubiKey 5C', ?, '{}', ?) RETURNING id`),
		userID("checkup@example.com"), []byte("key-1"), clock.Now().Unix()).Scan(&keyID); err != nil {
		t.Fatal(err)
	}
	keyStep := env.Client(t)
	keyStep.Form("/login", map[string]string{"email": "checkup@example.com", "password": pw})
	// Grace starts turning 2FA on (its activation page).
	member.Form("/settings/two-factor/enable", nil)
	// An app of the organization's.
	app := owner.API("POST", org+"/apps", map[string]any{"name": "Team wiki", "type": "web",
		"redirect_uris": []string{"https://wiki.example.com/oauth/callback"}, "backchannel_logout_uri": "https://wiki.example.com/oauth/logout"})
	appPath := fmt.Sprintf("%s/apps/%v", org, app.JSON()["app"].(map[string]any)["id"])
	// A token of the owner's programs.
	token := owner.API("POST", "/me/tokens", map[string]any{"name": "Nightly export", "scopes": []string{"members:read", "audit:read"}})
	tokenPath := fmt.Sprintf("/settings/tokens/%v/revoke", token.JSON()["token"].(map[string]any)["id"])
	orgToken := owner.API("POST", org+"/tokens", map[string]any{"name": "SIEM", "scopes": []string{"audit:read"}})
	orgTokenPath := fmt.Sprintf("%s/tokens/%v/revoke", org, orgToken.JSON()["token"].(map[string]any)["id"])
	// SSO on for a verified domain, and SCIM on.
	if r := owner.API("PUT", org+"/sso", map[string]any{"protocol": "oidc", "enabled": true, "domains": []string{"acme.test"},
		"issuer": ssotest.StartOP(t, nil), "client_id": "gardien", "client_secret": "idp-secret"}); r.StatusCode != 200 {
		t.Fatalf("SSO: %d %s", r.StatusCode, r.Body)
	}
	if err := env.App.Auth.OperatorVerifySSODomain(context.Background(), orgIDOf(org), "acme.test", "root"); err != nil {
		t.Fatal(err)
	}
	if r := owner.API("POST", org+"/scim/token", nil); r.StatusCode != 201 {
		t.Fatalf("SCIM: %d %s", r.StatusCode, r.Body)
	}
	// A webhook endpoint (nothing listens there: its log has a failed try).
	hook := owner.API("POST", org+"/webhooks", map[string]any{"url": "https://127.0.0.1:9/gardien", "events": []string{"webhook.created", "org.member_joined"}})
	hookPath := fmt.Sprintf("%s/webhooks/%v", org, hook.JSON()["webhook"].(map[string]any)["id"])

	nobody := []*http.Cookie(nil)
	o, m := cookies(owner), cookies(member)
	s.owner, s.org = o, org
	s.visits = []visit{
		{"/signup", nobody},
		{"/signup?invitation=" + strings.TrimPrefix(invitation, "/invitations/accept?token="), nobody},
		{"/login", nobody},
		{"/login?with=password", nobody},
		{"/login/sso?sso_email=nobody@unknown.test", nobody},
		{"/password/forgot", nobody},
		{reset, nobody},
		{verify, nobody},
		{invitation, nobody},
		{"/sso/oidc/callback?state=x&code=y", nobody},
		{"/sso/saml/finish?answer=x", nobody},
		{"/nowhere", nobody},
		{"/login/two-factor", cookies(second)},
		{"/login/recovery", cookies(second)},
		{"/two-factor/setup", cookies(setup)},
		{"/two-factor/setup/activate", cookies(setup)},
		{"/", o},
		{"/settings/profile", o},
		{"/settings/password", o},
		{"/settings/two-factor", o},
		{"/settings/two-factor/disable", o},
		{"/settings/two-factor/recovery-codes", o},
		{"/settings/two-factor/new-app", o},
		{"/settings/two-factor/new-app/scan", cookies(moving)},
		{"/settings/sessions", o},
		{"/settings/delete", o},
		{org + "/members", o},
		{org + "/members/" + userID("member@example.com") + "/remove", o},
		{org + "/members/" + userID("member@example.com") + "/reset-two-factor", o},
		{org + "/members/" + userID("member@example.com") + "/sign-out", o},
		{org + "/general", o},
		{org + "/audit", o},
		{org + "/security", o},
		{org + "/security/confirm?require=off", o},
		{org + "/sso/delete", o},
		{org + "/delete", o},
		{org + "/apps", o},
		{org + "/apps/new", o},
		{appPath, o},
		{appPath + "/secret", o},
		{appPath + "/delete", o},
		{"/settings/apps", o},
		{"/settings/tokens", o},
		{tokenPath, o},
		{org + "/tokens", o},
		{orgTokenPath, o},
		{org + "/scim/token", o},
		{org + "/scim/off", o},
		{org + "/webhooks", o},
		{hookPath, o},
		{hookPath + "/delete", o},
		{"/sso/link", o},
		{org + "/overview", m},
		{org + "/leave", m},
		{"/settings/two-factor/activate", m},
		{"/two-factor/checkup", cookies(checking)},
		{"/settings/two-factor/keys/" + keyID + "/remove", cookies(checking)},
		{"/login/two-factor?next=/settings/profile", cookies(keyStep)},
		{confirm, m},
	}
	return s
}

// pattern is the route of routes.go that serves path ("" for the page
// that says there is nothing here).
func (s *scenery) pattern(path string) string {
	r, _ := http.NewRequest("GET", path, nil)
	_, p := s.mux.Handler(r)
	return strings.TrimPrefix(p, "GET ")
}

// insideDialog tells where the focus is: "dialog" inside an open dialog,
// else the focused element's tag.
const insideDialog = `(() => { const el = document.activeElement; return el && el.closest("dialog[open]") ? "dialog" : (el ? el.tagName.toLowerCase() + ":" + el.textContent.trim() : "none"); })()`

// TestBrowserRemoveAsksInADialogThatHoldsTheFocus: with JavaScript, Remove
// asks in a dialog that opens on Cancel (not on the destructive button),
// keeps the keyboard inside, and closes on Escape with the focus back on
// Remove; Yes removes.
func TestBrowserRemoveAsksInADialogThatHoldsTheFocus(t *testing.T) {
	t.Parallel()
	s := newScenery(t)
	b := browsertest.New(t, "en-US")
	b.UseCookies(s.env.URL, s.owner)
	b.Open(s.env.URL + s.org + "/members")
	b.Click("button", "Remove") // Grace's row comes first of the removable
	b.Has("dialog", "Remove a member")
	b.Shot("remove-dialog")
	for i := range 8 {
		where, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](insideDialog))
		if err != nil || where != "dialog" {
			t.Fatalf("after %d Tab: the focus left the dialog (%s, %v)", i, where, err)
		}
		if i == 0 {
			focused, _ := chromedp.Run(b.Context(), chromedp.Evaluate[string](`document.activeElement.textContent.trim()`))
			if focused != "Cancel" {
				t.Fatalf("the dialog opened with the focus on %q, want Cancel", focused)
			}
		}
		b.Run("Tab", chromedp.KeyEvent(kb.Tab))
	}
	b.Run("Escape", chromedp.KeyEvent(kb.Escape))
	open, _ := chromedp.Run(b.Context(), chromedp.Evaluate[bool](`!!document.querySelector("dialog[open]")`))
	if open {
		t.Fatal("Escape left the dialog open")
	}
	back, _ := chromedp.Run(b.Context(), chromedp.Evaluate[string](`document.activeElement.textContent.trim()`))
	if back != "Remove" {
		t.Fatalf("after Escape the focus is on %q, want Remove", back)
	}
	b.See("member@example.com") // nobody removed
	b.Click("button", "Remove")
	b.Go("button", "Yes, remove")
	b.See("Member removed.")
	if strings.Contains(b.Text(), "member@example.com") {
		t.Fatal("the member is still listed")
	}
}
