package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/descope/virtualwebauthn"

	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/webauthn/webauthntest"
)

// keyOf is a software authenticator and its key, for a Gardien at env.
type keyOf struct {
	rp  virtualwebauthn.RelyingParty
	a   virtualwebauthn.Authenticator
	key virtualwebauthn.Credential
}

func newKey(env *apptest.Env) *keyOf {
	k := &keyOf{rp: virtualwebauthn.RelyingParty{Name: "Gardien", ID: "localhost", Origin: env.BaseURL()},
		a: virtualwebauthn.NewAuthenticator(), key: webauthntest.NewCredential()}
	k.a.AddCredential(k.key)
	return k
}

// made is the key's answer to registration options.
func (k *keyOf) made(t *testing.T, options string) json.RawMessage {
	t.Helper()
	parsed, err := virtualwebauthn.ParseAttestationOptions(options)
	if err != nil {
		t.Fatalf("options %s: %v", options, err)
	}
	return json.RawMessage(virtualwebauthn.CreateAttestationResponse(k.rp, k.a, k.key, *parsed))
}

// proof is the key's answer to a login's options.
func (k *keyOf) proof(t *testing.T, options string) json.RawMessage {
	t.Helper()
	parsed, err := virtualwebauthn.ParseAssertionOptions(options)
	if err != nil {
		t.Fatalf("options %s: %v", options, err)
	}
	return json.RawMessage(virtualwebauthn.CreateAssertionResponse(k.rp, k.a, k.key, *parsed))
}

// TestAKeyThroughTheAPI: a key is added (the first turns 2FA on and shows
// recovery codes), listed, asked at login in place of a code, renamed and
// removed; its answers count once; malformed answers get a 4xx.
func TestAKeyThroughTheAPI(t *testing.T) {
	apptest.OnEachDatabase(t, func(t *testing.T, db []apptest.Option) {
		env := apptest.Start(t, append(db, apptest.BaseHost("localhost"))...)
		p := env.NewPerson(t, "ada@example.com")
		k := newKey(env)
		if keys := apptest.MustAPI(t, p.C, "GET", "/me/passkeys", nil)["passkeys"].([]any); len(keys) != 0 {
			t.Fatalf("keys before any: %v", keys)
		}
		options := p.C.API("POST", "/me/passkeys/register", nil)
		if options.StatusCode != http.StatusOK {
			t.Fatalf("register: %d %s", options.StatusCode, options.Body)
		}
		wantProblem(t, p.C.API("POST", "/me/passkeys/register/finish", map[string]any{"name": "Phone", "credential": "not an object"}), 422, "validation_failed")
		r := p.C.API("POST", "/me/passkeys/register/finish", map[string]any{"name": "Phone", "credential": k.made(t, string(options.Body))})
		if r.StatusCode != http.StatusCreated {
			t.Fatalf("finish: %d %s", r.StatusCode, r.Body)
		}
		added := r.JSON()
		if codes, _ := added["recovery_codes"].([]any); len(codes) != 10 || r.Header.Get("Set-Cookie") == "" {
			t.Fatalf("a first key: %v (cookie %q)", added, r.Header.Get("Set-Cookie"))
		}
		id := fmt.Sprint(added["passkey"].(map[string]any)["id"])
		st := apptest.MustAPI(t, p.C, "GET", "/me/two-factor", nil)
		if st["enabled"] != true || st["app"] != false || st["passkeys"] != float64(1) || st["recovery_codes_remaining"] != float64(10) {
			t.Fatalf("2FA with a key: %v", st)
		}
		env.Mail.Wait(t, "ada@example.com") // the key added

		// The login's second step, with the key.
		c := env.Client(t)
		if s := login(t, c, "ada@example.com", pw).JSON()["status"]; s != "two_factor_required" {
			t.Fatalf("login: %v", s)
		}
		wantProblem(t, c.API("POST", "/login/two-factor", map[string]any{"code": "123456"}), 422, "validation_failed")
		wantProblem(t, c.API("POST", "/login/two-factor", map[string]any{"assertion": []int{1}}), 422, "validation_failed")
		wantProblem(t, c.API("GET", "/me/passkeys", nil), 403, "two_factor_required")
		challenge := c.API("POST", "/login/two-factor/passkey", nil)
		if challenge.StatusCode != 200 {
			t.Fatalf("challenge: %d %s", challenge.StatusCode, challenge.Body)
		}
		answer := k.proof(t, string(challenge.Body))
		if r := c.API("POST", "/login/two-factor", map[string]any{"assertion": answer}); r.StatusCode != 200 {
			t.Fatalf("the key's answer: %d %s", r.StatusCode, r.Body)
		}
		apptest.MustAPI(t, c, "GET", "/me/passkeys", nil)
		wantProblem(t, c.API("POST", "/login/two-factor/passkey", nil), 409, "conflict") // no second step to take

		// Its answer again, in another login: refused.
		c2 := env.Client(t)
		login(t, c2, "ada@example.com", pw)
		wantProblem(t, c2.API("POST", "/login/two-factor", map[string]any{"assertion": answer}), 422, "validation_failed")
		// An answer that does not hold: counted as a wrong code.
		c2.API("POST", "/login/two-factor/passkey", nil)
		wantProblem(t, c2.API("POST", "/login/two-factor", map[string]any{"assertion": map[string]any{"id": "x", "type": "public-key", "response": map[string]any{}}}), 401, "invalid_code")

		// A login with the passkey alone, in a browser of its own.
		k.a.Options.UserHandle = []byte(p.ID)
		c3 := env.Client(t)
		wantProblem(t, c3.API("POST", "/login/passkey/finish", map[string]any{"assertion": answer}), 422, "validation_failed") // none begun here
		begun := c3.API("POST", "/login/passkey", nil)
		if begun.StatusCode != 200 {
			t.Fatalf("begin: %d %s", begun.StatusCode, begun.Body)
		}
		if r := c3.API("POST", "/login/passkey/finish", map[string]any{"assertion": k.proof(t, string(begun.Body))}); r.StatusCode != 200 || r.JSON()["status"] != "ok" {
			t.Fatalf("a passkey alone: %d %s", r.StatusCode, r.Body)
		}
		apptest.MustAPI(t, c3, "GET", "/me/passkeys", nil)

		// A sensitive change proved with the key (no app to give a code).
		wantProblem(t, p.C.API("POST", "/me/email", map[string]any{"email": "ada.new@example.com", "password": apptest.Password}), 422, "validation_failed")
		challenged := p.C.API("POST", "/me/passkeys/challenge", nil)
		if challenged.StatusCode != 200 {
			t.Fatalf("challenge: %d %s", challenged.StatusCode, challenged.Body)
		}
		proof := k.proof(t, string(challenged.Body))
		if r := p.C.API("POST", "/me/email", map[string]any{"email": "ada.new@example.com", "password": apptest.Password, "assertion": proof}); r.StatusCode != 202 {
			t.Fatalf("email change with the key: %d %s", r.StatusCode, r.Body)
		}
		wantProblem(t, p.C.API("POST", "/me/email", map[string]any{"email": "ada.new@example.com", "password": apptest.Password, "assertion": proof}), 422, "validation_failed") // once

		// Renamed, not by another; removed after the password, the last
		// one turning 2FA off.
		if r := p.C.API("PATCH", "/me/passkeys/"+id, map[string]any{"name": "Desk key"}); r.StatusCode != 204 {
			t.Fatalf("rename: %d %s", r.StatusCode, r.Body)
		}
		eve := env.NewPerson(t, "eve@example.com")
		wantProblem(t, eve.C.API("PATCH", "/me/passkeys/"+id, map[string]any{"name": "mine"}), 404, "not_found")
		wantProblem(t, eve.C.API("DELETE", "/me/passkeys/"+id, map[string]any{"password": apptest.Password}), 404, "not_found")
		keys := apptest.MustAPI(t, p.C, "GET", "/me/passkeys", nil)["passkeys"].([]any)
		if len(keys) != 1 || keys[0].(map[string]any)["name"] != "Desk key" || keys[0].(map[string]any)["last_used_at"] == nil {
			t.Fatalf("keys: %v", keys)
		}
		wantProblem(t, p.C.API("DELETE", "/me/passkeys/"+id, map[string]any{"password": "wrong"}), 422, "validation_failed")
		r = p.C.API("DELETE", "/me/passkeys/"+id, map[string]any{"password": apptest.Password})
		if r.StatusCode != 200 || r.JSON()["two_factor_enabled"] != false {
			t.Fatalf("remove the last key: %d %s", r.StatusCode, r.Body)
		}
		if st := apptest.MustAPI(t, p.C, "GET", "/me/two-factor", nil); st["enabled"] != false {
			t.Fatalf("2FA after the last key: %v", st)
		}
	})
}

// TestPasskeysAreOffAtAnIPAddress: a Gardien reached at an IP address (the
// first command's) cannot offer passkeys, and says why.
func TestPasskeysAreOffAtAnIPAddress(t *testing.T) {
	env := apptest.Start(t)
	p := env.NewPerson(t, "ada@example.com")
	wantProblem(t, p.C.API("POST", "/me/passkeys/register", nil), 409, "conflict")
}

// TestRequiringAKeyThroughTheAPI: the requirement's phishing-resistant
// option is turned on only by someone with a key, and said back with the
// counts and each member's methods.
func TestRequiringAKeyThroughTheAPI(t *testing.T) {
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.BaseHost("localhost"), apptest.WithClock(clock))
	p := env.NewPerson(t, "owner@example.com")
	p.Enable(t, clock)
	org := fmt.Sprint(apptest.MustAPI(t, p.C, "POST", "/organizations", map[string]any{"name": "Acme"})["organization"].(map[string]any)["id"])
	keys := map[string]any{"require_two_factor": true, "require_phishing_resistant": true}
	wantProblem(t, p.C.API("PUT", "/organizations/"+org+"/security", keys), 403, "forbidden")
	if s := apptest.MustAPI(t, p.C, "GET", "/organizations/"+org+"/security", nil); s["members_without_key"] != float64(1) {
		t.Fatalf("security before a key: %v", s)
	}
	k := newKey(env)
	options := p.C.API("POST", "/me/passkeys/register", nil)
	apptest.MustAPI(t, p.C, "POST", "/me/passkeys/register/finish", map[string]any{"name": "Desk", "credential": k.made(t, string(options.Body))})
	if r := apptest.MustAPI(t, p.C, "PUT", "/organizations/"+org+"/security", keys); r["require_phishing_resistant"] != true {
		t.Fatalf("the option: %v", r)
	}
	s := apptest.MustAPI(t, p.C, "GET", "/organizations/"+org+"/security", nil)
	if s["require_phishing_resistant"] != true || s["members_without_key"] != float64(0) {
		t.Fatalf("security: %v", s)
	}
	m := apptest.MustAPI(t, p.C, "GET", "/organizations/"+org+"/members", nil)["members"].([]any)[0].(map[string]any)
	if fmt.Sprint(m["two_factor_methods"]) != "[app passkey]" {
		t.Fatalf("the owner's methods: %v", m["two_factor_methods"])
	}
}
