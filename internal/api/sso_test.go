package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/sso/ssotest"
)

func TestSSOConnectionCalls(t *testing.T) {
	t.Parallel()
	dns := ssotest.StartDNS(t)
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock), apptest.Setting("GARDIEN_DNS_RESOLVER", dns.Addr))
	issuer := ssotest.StartOP(t, nil)
	owner := verified(t, env, "owner@example.com")
	org := owner.c.API("POST", "/organizations", map[string]any{"name": "Acme"}).JSON()["organization"].(map[string]any)
	base := fmt.Sprintf("/organizations/%v/sso", org["id"])
	admin := verified(t, env, "admin@example.com")
	owner.c.API("POST", fmt.Sprintf("/organizations/%v/invitations", org["id"]), map[string]any{"email": "admin@example.com", "role": "admin"})
	admin.c.API("POST", "/invitations/accept", map[string]any{"token": env.Mail.Wait(t, "admin@example.com").Token()})

	wantProblem(t, owner.c.API("GET", base, nil), 404, "not_found")
	body := map[string]any{"protocol": "oidc", "enabled": true, "domains": []string{"Acme.test"}, "issuer": issuer, "client_id": "gardien", "client_secret": "s3cret"}
	wantProblem(t, admin.c.API("PUT", base, body), 403, "forbidden")
	p := wantProblem(t, owner.c.API("PUT", base, map[string]any{"protocol": "oidc", "enabled": true, "domains": []string{"acme.test"},
		"issuer": "http://127.0.0.1:1", "client_id": "gardien", "client_secret": "s3cret"}), 422, "validation_failed")
	if f := fieldsOf(p); len(f) != 1 || f[0] != "issuer" {
		t.Fatalf("an issuer that cannot be discovered: fields %v", f)
	}
	r := owner.c.API("PUT", base, body)
	if r.StatusCode != 200 || strings.Contains(string(r.Body), "s3cret") {
		t.Fatalf("put: %d %s", r.StatusCode, r.Body)
	}
	s := r.JSON()["sso"].(map[string]any)
	d := s["domains"].([]any)[0].(map[string]any)
	if s["client_secret_set"] != true || s["redirect_uri"] != env.URL+"/sso/oidc/callback" || d["domain"] != "acme.test" || d["verified"] != false ||
		!strings.HasPrefix(d["txt_record"].(string), "gardien-verification=") {
		t.Fatalf("sso: %v", s)
	}
	test := owner.c.API("POST", base+"/test", nil).JSON()
	// The test tests the provider: it works before a domain is verified,
	// and says what is left to do.
	if test["ok"] != true || len(test["problems"].([]any)) != 0 || len(test["steps"].([]any)) != 1 {
		t.Fatalf("test before the domain is verified: %v", test)
	}
	wantProblem(t, owner.c.API("POST", base+"/domains/acme.test/verify", nil), 422, "validation_failed")
	dns.SetTXT("acme.test", d["txt_record"].(string))
	if r := owner.c.API("POST", base+"/domains/ACME.test/verify", nil); r.StatusCode != 200 || r.JSON()["verified"] != true {
		t.Fatalf("verify: %d %s", r.StatusCode, r.Body)
	}
	if test := owner.c.API("POST", base+"/test", nil).JSON(); test["ok"] != true {
		t.Fatalf("test: %v", test)
	}
	if r := admin.c.API("GET", base, nil); r.StatusCode != 200 {
		t.Fatalf("admins see the connection: %d", r.StatusCode)
	}
	// The secret stays when not sent again.
	delete(body, "client_secret")
	if r := owner.c.API("PUT", base, body); r.JSON()["sso"].(map[string]any)["client_secret_set"] != true {
		t.Fatalf("put without a secret: %s", r.Body)
	}
	wantProblem(t, admin.c.API("DELETE", base, nil), 403, "forbidden")
	if r := owner.c.API("DELETE", base, nil); r.StatusCode != 204 {
		t.Fatalf("delete: %d", r.StatusCode)
	}
	wantProblem(t, owner.c.API("GET", base, nil), 404, "not_found")
}

// By default an owner cannot make the server fetch its own network: the
// issuer and the metadata URL must be https to a public address.
func TestSSOProvidersOnInternalAddressesAreRefused(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Setting("GARDIEN_SSO_ALLOW_PRIVATE", "false"))
	issuer := ssotest.StartOP(t, nil)
	idp := ssotest.StartSAMLIdP(t)
	owner := verified(t, env, "owner@example.com")
	org := owner.c.API("POST", "/organizations", map[string]any{"name": "Acme"}).JSON()["organization"].(map[string]any)
	base := fmt.Sprintf("/organizations/%v/sso", org["id"])
	for field, body := range map[string]map[string]any{
		"issuer":           {"protocol": "oidc", "enabled": true, "domains": []string{"acme.test"}, "issuer": issuer, "client_id": "gardien", "client_secret": "s"},
		"idp_metadata_url": {"protocol": "saml", "enabled": true, "domains": []string{"acme.test"}, "idp_metadata_url": idp.MetadataURL},
	} {
		p := wantProblem(t, owner.c.API("PUT", base, body), 422, "validation_failed")
		if f := fieldsOf(p); len(f) != 1 || f[0] != field {
			t.Errorf("a provider on loopback: fields %v, want %s", f, field)
		}
		if !strings.Contains(fmt.Sprint(p), "public addresses") {
			t.Errorf("a provider on loopback: the problem does not say why: %v", p)
		}
	}
}
