package scim_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/sso/ssotest"
	"github.com/gardien/gardien/internal/testenv"
)

// idp is an organization's identity provider: its SCIM client (the token,
// the base URL) and its OpenID Provider, which knows the people listed.
type idp struct {
	t      *testing.T
	env    *apptest.Env
	owner  *apptest.Person
	org    string // /organizations/ID
	base   string // the SCIM base URL
	token  string
	issuer string
}

// setup starts Gardien and an identity provider that knows people of
// acme.test; the owner's organization verified acme.test, turned SSO on
// and then SCIM.
func setup(t *testing.T, db []apptest.Option, people ...ssotest.OPUser) *idp {
	t.Helper()
	dns := ssotest.StartDNS(t)
	clock := apptest.NewClock()
	env := apptest.Start(t, append(db, apptest.WithClock(clock), apptest.Setting("GARDIEN_DNS_RESOLVER", dns.Addr))...)
	issuer := ssotest.StartOP(t, []ssotest.Client{{ID: "gardien", Secret: "idp-secret", RedirectURI: env.URL + "/sso/oidc/callback"}}, people...)
	owner := env.NewPerson(t, "owner@example.com")
	owner.Enable(t, clock)
	org := fmt.Sprintf("/organizations/%v", apptest.MustAPI(t, owner.C, "POST", "/organizations", map[string]any{"name": "Acme"})["organization"].(map[string]any)["id"])
	// SCIM provisions SSO people: refused until SSO is on for a verified domain.
	if r := owner.C.API("POST", org+"/scim/token", nil); r.StatusCode != http.StatusConflict {
		t.Fatalf("SCIM without SSO: %d %s", r.StatusCode, r.Body)
	}
	sso := apptest.MustAPI(t, owner.C, "PUT", org+"/sso", map[string]any{"protocol": "oidc", "enabled": true, "domains": []string{"acme.test"},
		"issuer": issuer, "client_id": "gardien", "client_secret": "idp-secret"})["sso"].(map[string]any)
	dns.SetTXT("acme.test", sso["domains"].([]any)[0].(map[string]any)["txt_record"].(string))
	apptest.MustAPI(t, owner.C, "POST", org+"/sso/domains/acme.test/verify", nil)
	on := apptest.MustAPI(t, owner.C, "POST", org+"/scim/token", nil)["scim"].(map[string]any)
	base := strings.Replace(on["base_url"].(string), env.BaseURL(), env.URL, 1)
	return &idp{t: t, env: env, owner: owner, org: org, base: base, token: on["token"].(string), issuer: issuer}
}

type answer struct {
	status int
	body   map[string]any
	raw    string
}

// call sends one SCIM request as the identity provider does.
func (p *idp) call(method, path, body string) answer {
	p.t.Helper()
	return p.callWith(p.token, method, path, body)
}

func (p *idp) callWith(token, method, path, body string) answer {
	p.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, p.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json; charset=utf-8")
	req.Header.Set("Accept", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, raw: string(b)}
	json.Unmarshal(b, &a.body)
	if resp.StatusCode >= 400 {
		// Every refusal is a SCIM error body.
		if s, _ := a.body["schemas"].([]any); len(s) != 1 || s[0] != "urn:ietf:params:scim:api:messages:2.0:Error" || a.body["status"] != fmt.Sprint(resp.StatusCode) {
			p.t.Fatalf("%s %s: %d without a SCIM error body: %s", method, path, resp.StatusCode, b)
		}
	}
	return a
}

func (p *idp) want(a answer, status int) map[string]any {
	p.t.Helper()
	if a.status != status {
		p.t.Fatalf("status %d, want %d: %s", a.status, status, a.raw)
	}
	return a.body
}

// ssoLogin logs a person in through the identity provider, as their
// browser does; nil when Gardien refuses them.
func (p *idp) ssoLogin(email, username string) *http.Client {
	p.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	resp, err := b.Get(p.env.URL + "/sso/start?" + url.Values{"email": {email}}.Encode())
	if err != nil || !strings.HasSuffix(resp.Request.URL.Path, "/login/username") {
		p.t.Fatalf("not at the provider's login page: %v", err)
	}
	resp.Body.Close()
	at := resp.Request.URL
	resp, err = b.PostForm(at.Scheme+"://"+at.Host+"/login/username", url.Values{"id": {at.Query().Get("authRequestID")},
		"username": {username}, "password": {"idp-password"}})
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	if !p.alive(b) {
		return nil
	}
	return b
}

// alive says whether a browser's Gardien session works.
func (p *idp) alive(b *http.Client) bool {
	resp, err := b.Get(p.env.URL + "/api/v1/me")
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// me is the account a browser's session is of.
func (p *idp) me(b *http.Client) map[string]any {
	p.t.Helper()
	resp, err := b.Get(p.env.URL + "/api/v1/me")
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		User map[string]any `json:"user"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	return out.User
}

// member is the organization's member list line of an email (nil: none).
func (p *idp) member(email string) map[string]any {
	p.t.Helper()
	for _, m := range apptest.MustAPI(p.t, p.owner.C, "GET", p.org+"/members", nil)["members"].([]any) {
		if m := m.(map[string]any); m["email"] == email {
			return m
		}
	}
	return nil
}

var ada = ssotest.OPUser{Username: "ada", Password: "idp-password", Email: "ada@acme.test", EmailVerified: true, Name: "Ada Lovelace"}

// TestOktaProvisioning replays the requests Okta's SCIM client sends
// (developer.okta.com, "SCIM 2.0 protocol reference"): look up by
// userName, create, read, replace, deactivate, reactivate — and checks
// what the person can do after each.
func TestOktaProvisioning(t *testing.T) {
	apptest.OnEachDatabase(t, func(t *testing.T, db []apptest.Option) {
		p := setup(t, db, ada)
		// Discovery.
		cfg := p.want(p.call("GET", "/ServiceProviderConfig", ""), 200)
		if cfg["patch"].(map[string]any)["supported"] != true || cfg["filter"].(map[string]any)["supported"] != true {
			t.Fatalf("service provider config: %v", cfg)
		}
		p.want(p.call("GET", "/ResourceTypes", ""), 200)
		p.want(p.call("GET", "/Schemas", ""), 200)

		// Does the user exist? Not yet.
		list := p.want(p.call("GET", `/Users?filter=userName%20eq%20%22ada%40acme.test%22&startIndex=1&count=100`, ""), 200)
		if list["totalResults"] != float64(0) {
			t.Fatalf("before the create: %v", list)
		}
		created := p.want(p.call("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
			"userName":"ada@acme.test","name":{"givenName":"Ada","familyName":"Lovelace"},
			"emails":[{"primary":true,"value":"ada@acme.test","type":"work"}],"displayName":"Ada Lovelace",
			"locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7","groups":[],"password":"1mz050nq","active":true}`), 201)
		id := created["id"].(string)
		if created["userName"] != "ada@acme.test" || created["active"] != true || created["externalId"] != "00ujl29u0le5T6Aj10h7" ||
			!strings.HasSuffix(created["meta"].(map[string]any)["location"].(string), "/scim/v2/"+strings.TrimPrefix(p.org, "/organizations/")+"/Users/"+id) {
			t.Fatalf("created: %v", created)
		}
		if m := p.member("ada@acme.test"); m == nil || m["role"] != "member" || m["sso"] != true {
			t.Fatalf("Ada in the members list: %v", m)
		}
		// Created ahead of her first login, she logs in through SSO as herself.
		b := p.ssoLogin("ada@acme.test", "ada")
		if b == nil {
			t.Fatal("Ada provisioned could not log in through SSO")
		}
		// The same create again is a conflict; the look-up finds her.
		if e := p.want(p.call("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@acme.test","active":true}`), 409); e["scimType"] != "uniqueness" {
			t.Fatalf("a second create: %v", e)
		}
		list = p.want(p.call("GET", `/Users?filter=userName%20eq%20%22ADA%40acme.test%22&startIndex=1&count=100`, ""), 200)
		if list["totalResults"] != float64(1) || list["Resources"].([]any)[0].(map[string]any)["id"] != id {
			t.Fatalf("look-up: %v", list)
		}
		p.want(p.call("GET", "/Users/"+id, ""), 200)

		// A profile change, as Okta sends it: the whole user.
		put := p.want(p.call("PUT", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"`+id+`",
			"userName":"ada@acme.test","name":{"givenName":"Augusta Ada","familyName":"King"},
			"emails":[{"primary":true,"value":"ada@acme.test","type":"work"}],"active":true}`), 200)
		if put["displayName"] != "Augusta Ada King" {
			t.Fatalf("replaced: %v", put)
		}
		if m := p.member("ada@acme.test"); m["name"] != "Augusta Ada King" {
			t.Fatalf("the members list after the replace: %v", m)
		}
		// Her role, given in Gardien, outlives a deactivation.
		apptest.MustAPI(t, p.owner.C, "PUT", p.org+"/members/"+id, map[string]any{"role": "admin"})

		// Deactivated: her session ends at once, SSO lets her in no more.
		off := p.want(p.call("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"replace","value":{"active":false}}]}`), 200)
		if off["active"] != false {
			t.Fatalf("deactivated: %v", off)
		}
		if p.alive(b) {
			t.Fatal("Ada's session outlived her deactivation")
		}
		if p.ssoLogin("ada@acme.test", "ada") != nil {
			t.Fatal("Ada deactivated logged in through SSO")
		}
		if m := p.member("ada@acme.test"); m == nil || m["role"] != "admin" || m["deprovisioned"] != true || m["disabled"] != true {
			t.Fatalf("the membership of a deactivated person: %v", m)
		}
		if page := string(p.owner.C.Get(p.org + "/members").Body); !strings.Contains(page, "Deprovisioned by the identity provider") {
			t.Fatal("the members page does not say Ada is deprovisioned")
		}
		if csv := string(p.owner.C.Get("/api/v1" + p.org + "/members.csv").Body); !strings.Contains(csv, "ada@acme.test,") || !strings.Contains(csv, ",deprovisioned\n") {
			t.Fatalf("the members CSV does not say Ada is deprovisioned:\n%s", csv)
		}
		// Reactivated: in again, as admin.
		p.want(p.call("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"replace","value":{"active":true}}]}`), 200)
		if p.ssoLogin("ada@acme.test", "ada") == nil {
			t.Fatal("Ada reactivated could not log in")
		}
		if m := p.member("ada@acme.test"); m["role"] != "admin" || m["deprovisioned"] != false {
			t.Fatalf("the membership after reactivation: %v", m)
		}
		// The operator's disabling is not the identity provider's to undo.
		if _, err := p.env.App.Auth.OperatorSetDisabled(t.Context(), "ada@acme.test", "root", true); err != nil {
			t.Fatal(err)
		}
		if e := p.want(p.call("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"replace","value":{"active":true}}]}`), 409); e["scimType"] != "mutability" {
			t.Fatalf("reactivating what the operator disabled: %v", e)
		}
		events := string(p.owner.C.API("GET", p.org+"/events", nil).Body)
		for _, typ := range []string{"scim.enabled", "scim.user_created", "scim.user_updated", "scim.user_deprovisioned", "scim.user_reactivated"} {
			if !strings.Contains(events, `"`+typ+`"`) {
				t.Errorf("no %s in the audit log", typ)
			}
		}
	})
}

// TestEntraProvisioning replays Microsoft Entra ID's requests
// (learn.microsoft.com, "Develop a SCIM endpoint": its capitalised "op",
// "active" as the string "False", paths into emails and name): create,
// look up, change the name and email, disable, delete.
func TestEntraProvisioning(t *testing.T) {
	apptest.OnEachDatabase(t, func(t *testing.T, db []apptest.Option) {
		grace := ssotest.OPUser{Username: "grace", Password: "idp-password", Email: "grace.hopper@acme.test", EmailVerified: true, Name: "Grace Hopper"}
		p := setup(t, db, ada, grace)
		list := p.want(p.call("GET", `/Users?filter=userName+eq+%22grace%40acme.test%22`, ""), 200)
		if list["totalResults"] != float64(0) {
			t.Fatalf("before: %v", list)
		}
		created := p.want(p.call("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
			"externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef","userName":"grace@acme.test","active":true,
			"emails":[{"primary":true,"type":"work","value":"grace@acme.test"}],"meta":{"resourceType":"User"},
			"name":{"formatted":"Grace Hopper","familyName":"Hopper","givenName":"Grace"},"roles":[],
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Navy"}}`), 201)
		id := created["id"].(string)
		list = p.want(p.call("GET", `/Users?filter=externalId+eq+%220a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef%22`, ""), 200)
		if list["totalResults"] != float64(1) {
			t.Fatalf("by externalId: %v", list)
		}
		// Name and email changed: the paths Entra sends.
		changed := p.want(p.call("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
			{"op":"Replace","path":"emails[type eq \"work\"].value","value":"grace.hopper@acme.test"},
			{"op":"Replace","path":"name.familyName","value":"Murray Hopper"},
			{"op":"Add","path":"title","value":"Rear Admiral"}]}`), 200)
		if changed["userName"] != "grace.hopper@acme.test" || changed["displayName"] != "Grace Hopper" && changed["displayName"] != "Grace Murray Hopper" {
			t.Fatalf("changed: %v", changed)
		}
		if p.member("grace.hopper@acme.test") == nil || p.member("grace@acme.test") != nil {
			t.Fatal("the members list did not follow the new email")
		}
		// Her provider now vouches for the new address: she logs in as herself.
		b := p.ssoLogin("grace.hopper@acme.test", "grace")
		if b == nil {
			t.Fatal("Grace could not log in with her new email")
		}
		if me := p.me(b); fmt.Sprint(me["id"]) != id || me["name"] != "Grace Murray Hopper" {
			t.Fatalf("Grace logged in as %v", me)
		}
		// An address outside the organization's domains is refused.
		if e := p.want(p.call("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
			{"op":"Replace","path":"userName","value":"grace@navy.example"}]}`), 400); e["scimType"] != "invalidValue" {
			t.Fatalf("another domain: %v", e)
		}
		// Disabled, the way Entra says it.
		off := p.want(p.call("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
			{"op":"Replace","path":"active","value":"False"}]}`), 200)
		if off["active"] != false {
			t.Fatalf("disabled: %v", off)
		}
		if p.alive(b) || p.ssoLogin("grace.hopper@acme.test", "grace") != nil {
			t.Fatal("Grace disabled is still in")
		}
		// Deleted: gone from SCIM; the account stays deprovisioned.
		if a := p.call("DELETE", "/Users/"+id, ""); a.status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", a.status, a.raw)
		}
		p.want(p.call("GET", "/Users/"+id, ""), 404)
		if p.member("grace.hopper@acme.test") == nil {
			t.Fatal("the membership went with the delete")
		}
		// Created again, the same person comes back.
		again := p.want(p.call("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"grace.hopper@acme.test","active":true}`), 201)
		if again["id"] != id || again["active"] != true {
			t.Fatalf("created again: %v", again)
		}
		if p.ssoLogin("grace.hopper@acme.test", "grace") == nil {
			t.Fatal("Grace created again could not log in")
		}
	})
}

// TestSCIMRefusals: the token is the organization's alone; people outside
// its domains, and password accounts, are not provisioned; SSO off stops
// SCIM; bodies and filters it does not take are SCIM errors.
func TestSCIMRefusals(t *testing.T) {
	var logs syncBuffer
	p := setup(t, []apptest.Option{apptest.WithLogs(&logs)}, ada)
	// No token, another token, a token of another organization.
	p.want(p.callWith("", "GET", "/Users", ""), 401)
	p.want(p.callWith("scim_"+strings.Repeat("A", 43), "GET", "/Users", ""), 401)
	other := p.env.NewPerson(t, "other@example.com")
	otherOrg := fmt.Sprint(apptest.MustAPI(t, other.C, "POST", "/organizations", map[string]any{"name": "Other"})["organization"].(map[string]any)["id"])
	if r := other.C.API("POST", "/organizations/"+otherOrg+"/scim/token", nil); r.StatusCode != http.StatusConflict {
		t.Fatalf("SCIM of an organization without SSO: %d", r.StatusCode)
	}
	req, _ := http.NewRequest("GET", strings.Replace(p.base, "/scim/v2/"+strings.TrimPrefix(p.org, "/organizations/"), "/scim/v2/"+otherOrg, 1)+"/Users", nil)
	req.Header.Set("Authorization", "Bearer "+p.token)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a token used for another organization: %v %v", resp, err)
	}
	// Outside the verified domains; a password account of the domain.
	if e := p.want(p.call("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"eve@example.com","active":true}`), 400); e["scimType"] != "invalidValue" {
		t.Fatalf("outside the domains: %v", e)
	}
	p.env.NewPerson(t, "bob@acme.test")
	if e := p.want(p.call("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob@acme.test","active":true}`), 409); !strings.Contains(e["detail"].(string), "password") {
		t.Fatalf("a password account: %v", e)
	}
	// Malformed input.
	p.want(p.call("POST", "/Users", `{"schemas":`), 400)
	p.want(p.call("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+strings.Repeat("a", 300<<10)+`@acme.test"}`), 400)
	p.want(p.call("GET", `/Users?filter=displayName%20co%20%22a%22`, ""), 400)
	p.want(p.call("GET", `/Users?filter=userName%20eq`, ""), 400)
	p.want(p.call("GET", "/Users/abc", ""), 404)
	p.want(p.call("GET", "/Users/99999", ""), 404)
	p.want(p.call("PATCH", "/Users/1", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`), 404)

	// Hostile bodies: a 4xx, never a 5xx.
	ada := p.want(p.call("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@acme.test","active":true}`), 201)["id"].(string)
	patchOp := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":%s}`
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/Users", "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"\xff\xfe@acme.test\"}"},
		{"POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x@acme.test","active":5}`},
		{"POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x@acme.test","externalId":"` + strings.Repeat("e", 300) + `"}`},
		{"POST", "/Users", `[]`},
		{"PUT", "/Users/" + ada, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":""}`},
		{"PATCH", "/Users/" + ada, fmt.Sprintf(patchOp, `[{"op":"explode","path":"active","value":true}]`)},
		{"PATCH", "/Users/" + ada, fmt.Sprintf(patchOp, `[{"op":"remove","path":"userName"}]`)},
		{"PATCH", "/Users/" + ada, fmt.Sprintf(patchOp, `[{"op":"replace","path":"emails[type eq ","value":"x"}]`)},
		{"PATCH", "/Users/" + ada, fmt.Sprintf(patchOp, `[{"op":"replace","path":"nothing.here","value":1}]`)},
		{"PATCH", "/Users/" + ada, fmt.Sprintf(patchOp, `[{"op":"replace","value":"not an object"}]`)},
		{"PATCH", "/Users/" + ada, fmt.Sprintf(patchOp, `"nope"`)},
		{"PATCH", "/Users/" + ada, `{"schemas":["urn:wrong"],"Operations":[]}`},
		{"GET", "/Users?startIndex=-5&count=99999999", ""},
		{"GET", "/Users?count=abc", ""},
		{"GET", "/Users?filter=" + url.QueryEscape(strings.Repeat("(", 5000)), ""},
	} {
		a := p.call(c.method, c.path, c.body)
		if a.status >= 500 || c.method != "GET" && a.status < 400 {
			t.Errorf("%s %s %.60q: %d %s", c.method, c.path, c.body, a.status, a.raw)
		}
	}

	if st := apptest.MustAPI(t, p.owner.C, "GET", p.org+"/scim", nil)["scim"].(map[string]any); st["enabled"] != true ||
		!strings.HasPrefix(p.token, st["token_prefix"].(string)) || st["last_used_at"] == nil || st["token"] != nil {
		t.Fatalf("the SCIM settings: %v", st)
	}
	// The request log names the path asked, not the library's.
	if !strings.Contains(logs.String(), "path=/scim/v2/"+strings.TrimPrefix(p.org, "/organizations/")+"/Users") {
		t.Error("the request log lost the SCIM path")
	}

	// The token replaced: the old one stops at once.
	fresh := apptest.MustAPI(t, p.owner.C, "POST", p.org+"/scim/token", nil)["scim"].(map[string]any)["token"].(string)
	p.want(p.call("GET", "/Users", ""), 401)
	p.token = fresh
	p.want(p.call("GET", "/Users", ""), 200)
	// SSO off: SCIM stops.
	apptest.MustAPI(t, p.owner.C, "PUT", p.org+"/sso", map[string]any{"protocol": "oidc", "enabled": false, "domains": []string{"acme.test"},
		"issuer": p.issuer, "client_id": "gardien"})
	p.want(p.call("GET", "/Users", ""), 403)
	if r := p.owner.C.API("DELETE", p.org+"/scim", nil); r.StatusCode != http.StatusNoContent {
		t.Fatalf("SCIM off: %d %s", r.StatusCode, r.Body)
	}
	p.want(p.call("GET", "/Users", ""), 401)
	if st := apptest.MustAPI(t, p.owner.C, "GET", p.org+"/scim", nil)["scim"].(map[string]any); st["enabled"] != false {
		t.Fatalf("SCIM off: %v", st)
	}
}

// TestSCIMDuringAnOutage: a database that does not answer is a 503 to the
// identity provider (it tries again), never a 401 that would make it
// think its token bad; once back, SCIM answers.
func TestSCIMDuringAnOutage(t *testing.T) {
	url, db := testenv.PostgresProxy(t)
	p := setup(t, []apptest.Option{apptest.Setting("GARDIEN_DATABASE_URL", url), apptest.Setting("GARDIEN_DATABASE_TIMEOUT", "1s")}, ada)
	p.want(p.call("GET", "/Users", ""), 200)
	db.Cut()
	p.want(p.call("GET", "/Users", ""), 503)
	db.Restore()
	// Each connection the cut broke answers one request (a 503) as it is
	// dropped: at most the pool's size.
	for range 10 {
		if p.call("GET", "/Users", "").status == 200 {
			return
		}
	}
	t.Fatal("SCIM did not come back with the database")
}

// syncBuffer is a log that several goroutines write.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
