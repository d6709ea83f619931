package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/gardien/gardien/internal/webauthn/webauthntest"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/descope/virtualwebauthn"
)

// keyHolder is a person with a passkey, and the software authenticator
// (github.com/descope/virtualwebauthn) that holds it: the load tool answers
// Gardien's challenges as a browser and its key would.
type keyHolder struct {
	email string
	a     virtualwebauthn.Authenticator
	key   virtualwebauthn.Credential
}

// runPasskey measures a login with a passkey alone (POST /login/passkey,
// then /login/passkey/finish: one signature check) beside a password
// login's first step (POST /login: one argon2id hash), on the same server
// and the same people.
func runPasskey(bin, dbURL, profiles string, workers int, d time.Duration) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(addr)
	base := "http://localhost:" + port // passkeys need a domain name
	s, err := start(bin, dbURL, profiles, false, "GARDIEN_ADDR="+addr, "GARDIEN_BASE_URL="+base)
	if err != nil {
		return err
	}
	defer s.stop()
	rp := virtualwebauthn.RelyingParty{Name: "Gardien", ID: "localhost", Origin: base}
	people := make([]keyHolder, max(workers, 8))
	for i := range people {
		email := fmt.Sprintf("passkey-%d-%d@example.com", i, time.Now().UnixNano())
		c, err := signedUp(s, email)
		if err != nil {
			return err
		}
		st, options, err := callRaw(c, s.url, "/me/passkeys/register", nil)
		if err != nil || st != 200 {
			return callFailed("register", st, string(options), err)
		}
		parsed, err := virtualwebauthn.ParseAttestationOptions(string(options))
		if err != nil {
			return err
		}
		h := keyHolder{email: email, a: virtualwebauthn.NewAuthenticator(), key: webauthntest.NewCredential()}
		answer := json.RawMessage(virtualwebauthn.CreateAttestationResponse(rp, h.a, h.key, *parsed))
		if st, m, err := call(c, s.url, "POST", "/me/passkeys/register/finish", map[string]any{"name": "Load", "credential": answer}); err != nil || st != 201 {
			return callFailed("register finish", st, m, err)
		}
		st, m, err := call(c, s.url, "GET", "/me", nil)
		if err != nil || st != 200 {
			return callFailed("me", st, m, err)
		}
		h.a.Options.UserHandle = []byte(fmt.Sprint(m["user"].(map[string]any)["id"]))
		h.a.AddCredential(h.key)
		people[i] = h
	}
	fmt.Printf("gardien-load: logins with a passkey alone on %d cores, %d workers, %s each\n\n", runtime.NumCPU(), workers, d)
	var n atomic.Uint32
	fmt.Printf("%-30s %8s %11s\n", "operation", "requests", "rate")
	drive(s, "passkey login", workers, d, func(w int) (bool, bool) {
		h := people[w%len(people)]
		c := fromAnywhere(&n)
		st, options, err := callRaw(c, s.url, "/login/passkey", nil)
		if err != nil || st != 200 {
			return false, true
		}
		parsed, err := virtualwebauthn.ParseAssertionOptions(string(options))
		if err != nil {
			return false, true
		}
		answer := json.RawMessage(virtualwebauthn.CreateAssertionResponse(rp, h.a, h.key, *parsed))
		st, m, err := call(c, s.url, "POST", "/login/passkey/finish", map[string]any{"assertion": answer})
		return err == nil && st == 200 && m["status"] == "ok", true
	}).print(s)
	drive(s, "password login (first step)", workers, d, func(w int) (bool, bool) {
		st, m, err := call(fromAnywhere(&n), s.url, "POST", "/login", map[string]any{"email": people[w%len(people)].email, "password": pw})
		return err == nil && st == 200 && m["status"] == "two_factor_required", true
	}).print(s)
	return nil
}

// callRaw posts body to an API path and returns its answer as it is.
func callRaw(c *http.Client, base, path string, body any) (int, []byte, error) {
	b, _ := json.Marshal(body)
	resp, err := c.Post(base+"/api/v1"+path, "application/json", bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20)) // options are a few hundred bytes
	return resp.StatusCode, out, err
}

// fromAnywhere is a new browser at an address of its own (127.x.y.z, the
// nth): Gardien counts the logins each address begins, and a load from one
// would meet that limit, not the work measured.
func fromAnywhere(n *atomic.Uint32) *http.Client {
	i := n.Add(1)
	local := &net.TCPAddr{IP: net.IPv4(127, byte(i>>16), byte(i>>8), byte(i))}
	if i&0xff == 0 || i&0xff == 255 {
		local = nil
	}
	c := client()
	c.Transport = &http.Transport{DialContext: (&net.Dialer{LocalAddr: local, Timeout: 10 * time.Second}).DialContext}
	return c
}
