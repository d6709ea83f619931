package server_test

import (
	"bytes"
	"encoding/base32"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"

	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/authz"
	"github.com/gardien/gardien/internal/oidcop"
	"github.com/gardien/gardien/internal/testenv"
	"github.com/gardien/gardien/internal/totp"
)

// routes is every route of internal/api/routes.go and internal/web/routes.go,
// as written there: a new route is covered by adding its line (and
// TestEveryRouteFacesHostileInput fails until it is).
var routes = [][2]string{
	{"POST", "/api/v1/signup"},
	{"POST", "/api/v1/email/verify"},
	{"POST", "/api/v1/email/resend"},
	{"POST", "/api/v1/login"},
	{"POST", "/api/v1/logout"},
	{"GET", "/api/v1/openapi.yaml"},
	{"GET", "/api/v1/me"},
	{"PATCH", "/api/v1/me"},
	{"DELETE", "/api/v1/me"},
	{"POST", "/api/v1/me/email"},
	{"POST", "/api/v1/email/confirm"},
	{"POST", "/api/v1/me/password"},
	{"GET", "/api/v1/me/sessions"},
	{"DELETE", "/api/v1/me/sessions/{session}"},
	{"DELETE", "/api/v1/me/sessions"},
	{"GET", "/api/v1/me/events"},
	{"GET", "/api/v1/me/sign-in-alerts"},
	{"PUT", "/api/v1/me/sign-in-alerts"},
	{"POST", "/api/v1/password/forgot"},
	{"POST", "/api/v1/password/reset"},
	{"POST", "/api/v1/sso/start"},
	{"POST", "/api/v1/login/two-factor"},
	{"GET", "/api/v1/me/two-factor"},
	{"POST", "/api/v1/me/two-factor/setup"},
	{"POST", "/api/v1/me/two-factor/activate"},
	{"POST", "/api/v1/me/two-factor/disable"},
	{"POST", "/api/v1/me/two-factor/new-app"},
	{"POST", "/api/v1/me/two-factor/new-app/confirm"},
	{"POST", "/api/v1/me/two-factor/recovery-codes"},
	{"POST", "/api/v1/login/two-factor/passkey"},
	{"POST", "/api/v1/login/passkey"},
	{"POST", "/api/v1/login/passkey/finish"},
	{"GET", "/api/v1/me/passkeys"},
	{"GET", "/api/v1/me/tokens"},
	{"POST", "/api/v1/me/tokens"},
	{"DELETE", "/api/v1/me/tokens/{token}"},
	{"GET", "/api/v1/organizations/{id}/tokens"},
	{"POST", "/api/v1/organizations/{id}/tokens"},
	{"DELETE", "/api/v1/organizations/{id}/tokens/{token}"},
	{"GET", "/api/v1/organizations/{id}/scim"},
	{"POST", "/api/v1/organizations/{id}/scim/token"},
	{"DELETE", "/api/v1/organizations/{id}/scim"},
	{"GET", "/api/v1/organizations/{id}/webhooks"},
	{"POST", "/api/v1/organizations/{id}/webhooks"},
	{"GET", "/api/v1/organizations/{id}/webhooks/{webhook}"},
	{"PATCH", "/api/v1/organizations/{id}/webhooks/{webhook}"},
	{"DELETE", "/api/v1/organizations/{id}/webhooks/{webhook}"},
	{"POST", "/api/v1/organizations/{id}/webhooks/{webhook}/test"},
	{"POST", "/api/v1/organizations/{id}/webhooks/{webhook}/secret"},
	{"GET", "/api/v1/organizations/{id}/webhooks/{webhook}/deliveries"},
	{"POST", "/api/v1/organizations/{id}/webhooks/{webhook}/deliveries/{delivery}/resend"},
	{"POST", "/api/v1/me/passkeys/challenge"},
	{"POST", "/api/v1/me/passkeys/register"},
	{"POST", "/api/v1/me/passkeys/register/finish"},
	{"PATCH", "/api/v1/me/passkeys/{passkey}"},
	{"DELETE", "/api/v1/me/passkeys/{passkey}"},
	{"POST", "/api/v1/organizations"},
	{"GET", "/api/v1/organizations"},
	{"PATCH", "/api/v1/organizations/{id}"},
	{"DELETE", "/api/v1/organizations/{id}"},
	{"POST", "/api/v1/organizations/{id}/invitations"},
	{"GET", "/api/v1/organizations/{id}/invitations"},
	{"DELETE", "/api/v1/organizations/{id}/invitations/{inv}"},
	{"POST", "/api/v1/invitations/accept"},
	{"GET", "/api/v1/organizations/{id}/members"},
	{"PUT", "/api/v1/organizations/{id}/members/{user}"},
	{"DELETE", "/api/v1/organizations/{id}/members/{user}"},
	{"DELETE", "/api/v1/organizations/{id}/members/{user}/two-factor"},
	{"POST", "/api/v1/organizations/{id}/reminders"},
	{"GET", "/api/v1/organizations/{id}/security"},
	{"PUT", "/api/v1/organizations/{id}/security"},
	{"GET", "/api/v1/organizations/{id}/sso"},
	{"PUT", "/api/v1/organizations/{id}/sso"},
	{"DELETE", "/api/v1/organizations/{id}/sso"},
	{"POST", "/api/v1/organizations/{id}/sso/domains/{domain}/verify"},
	{"POST", "/api/v1/organizations/{id}/sso/test"},
	{"GET", "/api/v1/organizations/{id}/apps"},
	{"POST", "/api/v1/organizations/{id}/apps"},
	{"GET", "/api/v1/organizations/{id}/apps/{app}"},
	{"PATCH", "/api/v1/organizations/{id}/apps/{app}"},
	{"DELETE", "/api/v1/organizations/{id}/apps/{app}"},
	{"POST", "/api/v1/organizations/{id}/apps/{app}/secret"},
	{"GET", "/api/v1/organizations/{id}/events"},
	{"GET", "/api/v1/organizations/{id}/events.jsonl"},
	{"GET", "/static/"},
	{"GET", "/{$}"},
	{"GET", "/signup"},
	{"POST", "/signup"},
	{"GET", "/login"},
	{"POST", "/login"},
	{"POST", "/logout"},
	{"GET", "/verify-email"},
	{"POST", "/verify-email/resend"},
	{"GET", "/password/forgot"},
	{"POST", "/password/forgot"},
	{"GET", "/password/reset"},
	{"POST", "/password/reset"},
	{"POST", "/language"},
	{"GET", "/sso/start"},
	{"GET", "/sso/oidc/callback"},
	{"GET", "/login/sso"},
	{"GET", "/sso/saml/{id}/metadata"},
	{"POST", "/sso/saml/{id}/acs"},
	{"GET", "/sso/saml/finish"},
	{"GET", "/organizations/{id}/members/{user}/sign-out"},
	{"POST", "/organizations/{id}/members/{user}/sign-out"},
	{"DELETE", "/api/v1/organizations/{id}/members/{user}/sessions"},
	{"GET", "/api/v1/organizations/{id}/members.csv"},
	{"GET", "/api/v1/organizations/{id}/events.csv"},
	{"GET", "/organizations/{id}/general"},
	{"GET", "/organizations/{id}/audit"},
	{"GET", "/sso/link"},
	{"POST", "/sso/link"},
	{"GET", "/settings"},
	{"GET", "/settings/profile"},
	{"POST", "/settings/profile"},
	{"GET", "/settings/delete"},
	{"POST", "/settings/delete"},
	{"POST", "/settings/email"},
	{"GET", "/email/confirm"},
	{"GET", "/settings/sessions"},
	{"POST", "/settings/sessions/{session}/end"},
	{"POST", "/settings/sessions/end-others"},
	{"POST", "/settings/sessions/alerts"},
	{"GET", "/settings/password"},
	{"POST", "/settings/password"},
	{"GET", "/organization"},
	{"POST", "/organizations"},
	{"GET", "/organizations/{id}/overview"},
	{"GET", "/organizations/{id}/leave"},
	{"POST", "/organizations/{id}/leave"},
	{"GET", "/organizations/{id}/members"},
	{"POST", "/organizations/{id}/invitations"},
	{"POST", "/organizations/{id}/invitations/{inv}/revoke"},
	{"POST", "/organizations/{id}/members/{user}/role"},
	{"POST", "/organizations/{id}/members/{user}/remove"},
	{"GET", "/organizations/{id}/members/{user}/remove"},
	{"GET", "/organizations/{id}/members/{user}/reset-two-factor"},
	{"POST", "/organizations/{id}/members/{user}/reset-two-factor"},
	{"POST", "/organizations/{id}/reminders"},
	{"GET", "/organizations/{id}/security"},
	{"GET", "/organizations/{id}/security/confirm"},
	{"POST", "/organizations/{id}/security"},
	{"POST", "/organizations/{id}/security/keys"},
	{"POST", "/organizations/{id}/rename"},
	{"GET", "/organizations/{id}/delete"},
	{"POST", "/organizations/{id}/delete"},
	{"POST", "/organizations/{id}/sso"},
	{"POST", "/organizations/{id}/sso/domains/{domain}/verify"},
	{"POST", "/organizations/{id}/sso/test"},
	{"GET", "/organizations/{id}/sso/delete"},
	{"POST", "/organizations/{id}/sso/delete"},
	{"GET", "/invitations/accept"},
	{"POST", "/invitations/accept"},
	{"GET", "/two-factor/setup"},
	{"POST", "/two-factor/setup/enable"},
	{"GET", "/two-factor/setup/activate"},
	{"POST", "/two-factor/setup/activate"},
	{"GET", "/settings/two-factor"},
	{"POST", "/settings/two-factor/enable"},
	{"GET", "/settings/two-factor/activate"},
	{"POST", "/settings/two-factor/activate"},
	{"GET", "/settings/two-factor/disable"},
	{"POST", "/settings/two-factor/disable"},
	{"GET", "/settings/two-factor/new-app"},
	{"POST", "/settings/two-factor/new-app"},
	{"GET", "/settings/two-factor/new-app/scan"},
	{"POST", "/settings/two-factor/new-app/scan"},
	{"GET", "/settings/two-factor/recovery-codes"},
	{"POST", "/settings/two-factor/recovery-codes"},
	{"POST", "/api/v1/me/two-factor/checkup"},
	{"POST", "/api/v1/me/two-factor/checkup/later"},
	{"GET", "/two-factor/checkup"},
	{"POST", "/two-factor/checkup"},
	{"POST", "/two-factor/checkup/later"},
	{"GET", "/login/two-factor"},
	{"POST", "/login/two-factor"},
	{"GET", "/login/recovery"},
	{"POST", "/login/recovery"},
	{"POST", "/login/two-factor/key/options"},
	{"POST", "/login/passkey/options"},
	{"POST", "/login/passkey"},
	{"POST", "/login/two-factor/key"},
	{"POST", "/two-factor/keys/options"},
	{"POST", "/two-factor/keys/challenge"},
	{"POST", "/two-factor/setup/keys"},
	{"POST", "/settings/two-factor/keys"},
	{"POST", "/settings/two-factor/keys/{key}/rename"},
	{"GET", "/settings/two-factor/keys/{key}/remove"},
	{"POST", "/settings/two-factor/keys/{key}/remove"},
	{"GET", "/oauth/continue"},
	{"GET", "/authz/start"},
	{"GET", "/organizations/{id}/apps"},
	{"GET", "/organizations/{id}/apps/new"},
	{"POST", "/organizations/{id}/apps"},
	{"GET", "/organizations/{id}/apps/{app}"},
	{"POST", "/organizations/{id}/apps/{app}"},
	{"GET", "/organizations/{id}/apps/{app}/secret"},
	{"POST", "/organizations/{id}/apps/{app}/secret"},
	{"GET", "/organizations/{id}/apps/{app}/delete"},
	{"POST", "/organizations/{id}/apps/{app}/delete"},
	{"GET", "/settings/apps"},
	{"POST", "/settings/apps/{app}/sign-out"},
	{"GET", "/organizations/{id}/tokens"},
	{"POST", "/organizations/{id}/tokens"},
	{"GET", "/organizations/{id}/tokens/{token}/revoke"},
	{"POST", "/organizations/{id}/tokens/{token}/revoke"},
	{"GET", "/organizations/{id}/scim/token"},
	{"POST", "/organizations/{id}/scim/token"},
	{"GET", "/organizations/{id}/scim/off"},
	{"POST", "/organizations/{id}/scim/off"},
	{"GET", "/organizations/{id}/webhooks"},
	{"POST", "/organizations/{id}/webhooks"},
	{"GET", "/organizations/{id}/webhooks/{webhook}"},
	{"POST", "/organizations/{id}/webhooks/{webhook}"},
	{"POST", "/organizations/{id}/webhooks/{webhook}/enable"},
	{"POST", "/organizations/{id}/webhooks/{webhook}/test"},
	{"POST", "/organizations/{id}/webhooks/{webhook}/secret"},
	{"POST", "/organizations/{id}/webhooks/{webhook}/deliveries/{delivery}/resend"},
	{"GET", "/organizations/{id}/webhooks/{webhook}/delete"},
	{"POST", "/organizations/{id}/webhooks/{webhook}/delete"},
	{"GET", "/settings/tokens"},
	{"POST", "/settings/tokens"},
	{"GET", "/settings/tokens/{token}/revoke"},
	{"POST", "/settings/tokens/{token}/revoke"},
}

// providerRoutes are the OpenID Provider's (internal/oidcop) and the
// reverse proxies' (internal/authz), which apps, proxies and browsers reach
// with any method.
var providerRoutes = [][2]string{
	{"GET", "/.well-known/openid-configuration"},
	{"GET", "/oauth/keys"},
	{"GET", "/oauth/authorize"},
	{"POST", "/oauth/authorize"},
	{"GET", "/oauth/authorize/callback"},
	{"POST", "/oauth/token"},
	{"GET", "/oauth/userinfo"},
	{"POST", "/oauth/userinfo"},
	{"POST", "/oauth/revoke"},
	{"POST", "/oauth/introspect"},
	{"GET", "/oauth/end_session"},
	{"POST", "/oauth/end_session"},
	// And the reverse proxies' questions (internal/authz).
	{"GET", "/authz/forward-auth"},
	{"GET", "/authz/auth-request"},
	{"POST", "/authz/forward-auth"},
	// And identity providers' SCIM calls (internal/scim), without their token.
	{"GET", "/scim/v2/{id}/Users"},
	{"POST", "/scim/v2/{id}/Users"},
	{"PATCH", "/scim/v2/{id}/Users/{user}"},
	{"PUT", "/scim/v2/{id}/Users/{user}"},
	{"DELETE", "/scim/v2/{id}/Users/{user}"},
	{"GET", "/scim/v2/{id}/ServiceProviderConfig"},
}

func TestTheHostileTableHoldsEveryRoute(t *testing.T) {
	var missing []string
	n := 0
	for _, pkg := range []string{"api", "web"} {
		for _, r := range testenv.Routes(t, pkg) {
			n++
			if !slices.Contains(routes, r) {
				missing = append(missing, r[0]+" "+r[1])
			}
		}
	}
	if n != len(routes) {
		t.Errorf("%d routes in routes.go, %d in the hostile table", n, len(routes))
	}
	for _, p := range append(slices.Clone(oidcop.Routes), authz.PathForwardAuth, authz.PathAuthRequest) {
		if !slices.ContainsFunc(providerRoutes, func(r [2]string) bool { return r[1] == p }) {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("routes without a line in the hostile table: %v", missing)
	}
}

// fields are every body field a route reads: each variant sets them all.
var fields = []string{"email", "password", "name", "token", "code", "recovery_code", "current_password",
	"new_password", "role", "require_two_factor", "end_sessions", "language", "lang", "next", "require",
	"sessions", "invitation", "filter", "SAMLResponse", "RelayState", "idp_metadata_url", "idp_metadata_xml", "new_email", "protocol", "enabled", "domains", "require_sso", "issuer", "client_id", "client_secret", "idp_initiated",
	"type", "redirect_uris", "post_logout_redirect_uris", "backchannel_logout_uri", "audience", "signing_alg", "hosts", "rd",
	"credential", "assertion", "key_name", "scopes", "expires_at", "url", "events"}

func jsonWithAll(value string) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = fmt.Sprintf("%q:%s", f, value)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func formWithAll(value string) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = f + "=" + value
	}
	return strings.Join(parts, "&")
}

type body struct{ contentType, data string }

var huge = strings.Repeat("a", 2<<20)

// apiBodies: malformed, oversized, wrongly typed and wrongly encoded JSON.
var apiBodies = []body{
	{"", ""},
	{"application/json", "{"},
	{"application/json", "null"},
	{"application/json", "[]"},
	{"application/json", `"x"`},
	{"application/json", strings.Repeat("[", 20000)},
	{"application/json", `{"email":"a@example.com"} {"email":"b"}`},
	{"application/json", jsonWithAll("1e999")},
	{"application/json", jsonWithAll("true")},
	{"application/json", jsonWithAll(`{"a":[1]}`)},
	{"application/json", jsonWithAll(`"\u0000\u202e<script>"`)},
	{"application/json", jsonWithAll("\"\xff\xfe\xc3\"")},
	{"application/json", jsonWithAll(`"x@[127.0.0.1]"`)},
	{"application/json", jsonWithAll(`"` + strings.Repeat("é", 40000) + `"`)},
	{"application/json", `{"email":"` + huge + `"}`},
	{"text/plain", "email=a"},
}

// formBodies: the same for forms.
var formBodies = []body{
	{"application/x-www-form-urlencoded", "%zz"},
	{"application/x-www-form-urlencoded", "a=1;b=2"},
	{"application/x-www-form-urlencoded", formWithAll("%FF%FE%C3")},
	{"application/x-www-form-urlencoded", formWithAll("%00%0d%0a")},
	{"application/x-www-form-urlencoded", formWithAll("%2F%09%2Fevil.example")},
	{"application/x-www-form-urlencoded", formWithAll(strings.Repeat("%C3%A9", 30000))},
	{"application/x-www-form-urlencoded", "email=" + huge},
	{"application/x-www-form-urlencoded; charset", "a=1"},
	{"multipart/form-data; boundary=", "--\r\n"},
	{"multipart/form-data", "x"},
	{"text/plain", formWithAll("x")},
	{"", formWithAll("x")},
}

// hostileQuery goes on every request.
var hostileQuery = "?page=99999999999999999999&before=-1&limit=abc&user_id=99999999999999999999&type=%3Cb%3E" +
	"&person=%FF%00&token=%00%FF&next=%2F%09%2Fevil.example&filter=zzz&invitation=%FF&require=maybe"

// pathIDs replace {id}, {inv}, {user} and {app}: the session's own, and hostile ones.
var hostileIDs = []string{"0", "-1", "99999999999999999999", "%00", "abc", "1%0d%0aX", "%2e%2e"}

// level is a session at some step of a login, kept alive by ensure.
type level struct {
	name   string
	c      *apptest.Client
	ensure func(t *testing.T)
}

func TestEveryRouteFacesHostileInput(t *testing.T) {
	apptest.OnEachDatabase(t, func(t *testing.T, db []apptest.Option) {
		hostile(t, db...)
	})
}

const pw = "correct horse battery staple"

func hostile(t *testing.T, opts ...apptest.Option) {
	clock := apptest.NewClock()
	// At a domain name: passkeys on, their ceremonies hear the bodies.
	env := apptest.Start(t, append(opts, apptest.BaseHost("localhost"), apptest.WithClock(clock), apptest.Setting("GARDIEN_PASSWORD_TRIES_PER_ADDRESS", "1000000"),
		apptest.Setting("GARDIEN_PASSWORD_TRIES_PER_ACCOUNT", "1000000"))...)
	api := func(c *apptest.Client, method, path string, in any) *apptest.Response {
		t.Helper()
		r := c.API(method, path, in)
		if r.StatusCode >= 300 {
			t.Fatalf("set-up %s %s: %d %s", method, path, r.StatusCode, r.Body)
		}
		return r
	}
	signup := func(email string) *apptest.Client {
		c := env.Client(t)
		api(c, "POST", "/signup", map[string]any{"email": email, "password": pw, "name": "Hostile Tester"})
		api(c, "POST", "/email/verify", map[string]any{"token": env.Mail.Wait(t, email).Token()})
		return c
	}
	// The owner has 2FA and an organization that requires it; the member
	// has none, so logs in at the set-up; another person's password alone
	// gives a session at the second step (whose wrong codes lock their
	// second factor, not the owner's).
	withTwoFactor := func(email string) func() string {
		c := signup(email)
		api(c, "POST", "/login", map[string]any{"email": email, "password": pw})
		setup := api(c, "POST", "/me/two-factor/setup", nil).JSON()
		secret, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(setup["secret"].(string))
		code := func() string {
			clock.Advance(30 * time.Second)
			return totp.Code(secret, totp.Step(clock.Now()), otp.DigitsSix)
		}
		api(c, "POST", "/me/two-factor/activate", map[string]any{"code": code()})
		return code
	}
	withTwoFactor("second@example.com")
	code := withTwoFactor("owner@example.com")
	owner := env.Client(t)
	api(owner, "POST", "/login", map[string]any{"email": "owner@example.com", "password": pw})
	api(owner, "POST", "/login/two-factor", map[string]any{"code": code()})
	org := api(owner, "POST", "/organizations", map[string]any{"name": "Acme"}).JSON()["organization"].(map[string]any)
	orgID := fmt.Sprint(org["id"])
	member := signup("member@example.com")
	api(member, "POST", "/login", map[string]any{"email": "member@example.com", "password": pw})
	api(owner, "POST", "/organizations/"+orgID+"/invitations", map[string]any{"email": "member@example.com", "role": "member"})
	api(member, "POST", "/invitations/accept", map[string]any{"token": env.Mail.Wait(t, "member@example.com").Token()})
	inv := api(owner, "POST", "/organizations/"+orgID+"/invitations", map[string]any{"email": "guest@example.com", "role": "admin"}).JSON()["invitation"].(map[string]any)
	me := api(owner, "GET", "/me", nil).JSON()["user"].(map[string]any)
	app := api(owner, "POST", "/organizations/"+orgID+"/apps", map[string]any{"name": "Wiki", "type": "web",
		"redirect_uris": []string{"https://wiki.example.com/cb"}}).JSON()["app"].(map[string]any)
	hook := api(owner, "POST", "/organizations/"+orgID+"/webhooks", map[string]any{"url": "https://127.0.0.1:9/gardien",
		"events": []string{"org.renamed"}}).JSON()["webhook"].(map[string]any)
	ids := map[string]string{"{webhook}": fmt.Sprint(hook["id"]), "{delivery}": "1", "{id}": orgID, "{app}": fmt.Sprint(app["id"]), "{inv}": fmt.Sprint(inv["id"]), "{user}": fmt.Sprint(me["id"]), "{domain}": "example.com", "{session}": "1", "{passkey}": "1", "{key}": "1", "{token}": "1"}

	alive := func(c *apptest.Client) bool { return c.API("GET", "/me", nil).StatusCode == 200 }
	full := &level{name: "full", c: owner}
	full.ensure = func(t *testing.T) {
		if c := full.c; alive(c) && c.API("GET", "/me", nil).JSON()["session"].(map[string]any)["status"] == "ok" {
			return
		}
		full.c = env.Client(t)
		api(full.c, "POST", "/login", map[string]any{"email": "owner@example.com", "password": pw})
		api(full.c, "POST", "/login/two-factor", map[string]any{"code": code()})
		api(full.c, "PUT", "/organizations/"+orgID+"/security", map[string]any{"require_two_factor": true})
	}
	full.ensure(t)
	second := &level{name: "second step"}
	second.ensure = func(t *testing.T) {
		if second.c != nil && alive(second.c) {
			return
		}
		second.c = env.Client(t)
		api(second.c, "POST", "/login", map[string]any{"email": "second@example.com", "password": pw})
	}
	setUp := &level{name: "set-up"}
	setUp.ensure = func(t *testing.T) {
		if setUp.c != nil && alive(setUp.c) {
			return
		}
		full.ensure(t)
		api(full.c, "PUT", "/organizations/"+orgID+"/security", map[string]any{"require_two_factor": true})
		setUp.c = env.Client(t)
		if s := api(setUp.c, "POST", "/login", map[string]any{"email": "member@example.com", "password": pw}).JSON()["status"]; s != "two_factor_setup_required" {
			t.Fatalf("member login: %v", s)
		}
	}
	anonymous := &level{name: "logged out", ensure: func(*testing.T) {}}
	anonymous.c = env.Client(t)
	levels := []*level{anonymous, second, setUp, full}

	requests := 0
	send := func(t *testing.T, l *level, method, path string, b body, header map[string]string) {
		t.Helper()
		req, err := http.NewRequest(method, env.URL+path, strings.NewReader(b.data))
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		if b.contentType != "" {
			req.Header.Set("Content-Type", b.contentType)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := l.c.Client.Do(req)
		if err != nil {
			t.Fatalf("%s %s (%s): %v", method, path, l.name, err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		requests++
		if strings.HasPrefix(path, "/api/") {
			apptest.CheckContract(t, req, resp, out)
		}
		if resp.StatusCode >= 500 {
			t.Errorf("%s %s (%s, %.40q): %d %s", method, path, l.name, b.data, resp.StatusCode, out)
		}
		if strings.HasPrefix(path, "/api/") && resp.StatusCode >= 400 && !bytes.Contains(out, []byte(`"code"`)) {
			t.Errorf("%s %s (%s): %d without a problem body: %s", method, path, l.name, resp.StatusCode, out)
		}
	}
	headers := []map[string]string{nil, {
		"User-Agent":      "\xff\xfe" + strings.Repeat("é", 400),
		"Accept-Language": strings.Repeat("fr-CH;q=0.", 300),
		"Cookie":          "gardien_lang=%FF; gardien_flash=" + strings.Repeat("A", 3000) + "; gardien_org=-1",
	}}
	for _, rt := range append(slices.Clone(routes), providerRoutes...) {
		method, pattern := rt[0], strings.TrimSuffix(rt[1], "{$}")
		isAPI := strings.HasPrefix(pattern, "/api/")
		bodies := formBodies
		if isAPI {
			bodies = apiBodies
		}
		if method == "GET" || method == "DELETE" {
			bodies = []body{{"", ""}}
		}
		for _, l := range levels {
			l.ensure(t)
			path := pattern
			for k, v := range ids {
				path = strings.ReplaceAll(path, k, v)
			}
			for _, b := range bodies {
				for _, h := range headers {
					send(t, l, method, path+hostileQuery, b, h)
				}
				l.ensure(t)
			}
			if strings.Contains(pattern, "{") {
				for _, id := range hostileIDs {
					p := pattern
					for k := range ids {
						p = strings.ReplaceAll(p, k, id)
					}
					send(t, l, method, p, bodies[0], nil)
				}
			}
		}
	}
	t.Logf("%d hostile requests, none answered 5xx", requests)
}
