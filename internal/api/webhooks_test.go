package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/gardien/gardien/internal/apptest"
)

// hook is an endpoint on loopback that checks each request's signature
// with the Standard Webhooks library, as a receiver would.
type hook struct {
	*httptest.Server
	mu       sync.Mutex
	secret   string
	got      []received
	status   int           // the answer (200 unless set)
	hold     chan struct{} // when set, each request waits for it
	inFlight int
	most     int // the most requests in flight at once
	arrived  chan struct{}
	reached  chan struct{} // a request came (before any hold)
}

type received struct {
	id, typ string
	data    map[string]any
	bad     error // the signature's check
	body    []byte
	header  http.Header
}

func newHook(t *testing.T) *hook {
	h := &hook{status: http.StatusOK, arrived: make(chan struct{}, 100), reached: make(chan struct{}, 100)}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.inFlight++
		h.most = max(h.most, h.inFlight)
		hold, secret := h.hold, h.secret
		h.mu.Unlock()
		h.reached <- struct{}{}
		if hold != nil {
			<-hold
		}
		wh, err := standardwebhooks.NewWebhook(secret)
		if err == nil {
			err = wh.Verify(body, r.Header)
		}
		var m struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		json.Unmarshal(body, &m)
		h.mu.Lock()
		h.inFlight--
		status := h.status
		if status == http.StatusOK {
			h.got = append(h.got, received{r.Header.Get("webhook-id"), m.Type, m.Data, err, body, r.Header.Clone()})
		}
		h.mu.Unlock()
		w.WriteHeader(status)
		h.arrived <- struct{}{}
	}))
	t.Cleanup(h.Close)
	return h
}

// wait returns once n messages were received (or fails the test).
func (h *hook) wait(t *testing.T, n int) []received {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		h.mu.Lock()
		got := append([]received(nil), h.got...)
		h.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-h.arrived:
		case <-deadline:
			t.Fatalf("%d messages received, want %d: %+v", len(got), n, got)
		}
	}
}

// TestWebhooksThroughTheAPI: an owner adds an endpoint and gets its secret
// once; the events it asked for (a member's failed login, their 2FA turned
// on) reach it signed, one at a time and in order; a slow endpoint holds
// no login; a failed try is in the log and tried again; a delivery is sent
// again on request; the endpoint is changed and deleted.
func TestWebhooksThroughTheAPI(t *testing.T) {
	apptest.OnEachDatabase(t, func(t *testing.T, db []apptest.Option) {
		clock := apptest.NewClock()
		env := apptest.Start(t, append(db, apptest.WithClock(clock))...)
		p := env.NewPerson(t, "owner@example.com")
		org := fmt.Sprint(apptest.MustAPI(t, p.C, "POST", "/organizations", map[string]any{"name": "Acme"})["organization"].(map[string]any)["id"])
		base := "/organizations/" + org + "/webhooks"
		h := newHook(t)

		wantProblem(t, p.C.API("POST", base, map[string]any{"url": "ftp://" + h.Listener.Addr().String(), "events": []string{"user.login_failed"}}), 422, "validation_failed")
		wantProblem(t, p.C.API("POST", base, map[string]any{"url": h.URL, "events": []string{"user.everything"}}), 422, "validation_failed")
		made := apptest.MustAPI(t, p.C, "POST", base, map[string]any{"url": h.URL + "/gardien", "events": []string{"user.login_failed", "two_factor.enabled"}})["webhook"].(map[string]any)
		id := fmt.Sprint(made["id"])
		h.mu.Lock()
		h.secret = made["secret"].(string)
		h.mu.Unlock()
		listed := apptest.MustAPI(t, p.C, "GET", base, nil)["webhooks"].([]any)
		if len(listed) != 1 || listed[0].(map[string]any)["secret"] != nil {
			t.Fatalf("listed: %v", listed)
		}

		// The endpoint holds its first request: the logins that make the
		// next events go on meanwhile.
		hold := make(chan struct{})
		h.mu.Lock()
		h.hold = hold
		h.mu.Unlock()
		stranger := env.Client(t)
		failLogin := func() {
			t.Helper()
			wantProblem(t, stranger.API("POST", "/login", map[string]any{"email": p.Email, "password": "wrong password"}), 401, "invalid_credentials")
		}
		failLogin()
		select {
		case <-h.reached:
		case <-time.After(20 * time.Second):
			t.Fatal("the endpoint got nothing")
		}
		failLogin()
		failLogin()
		p.Enable(t, clock)
		h.mu.Lock()
		h.hold = nil
		h.mu.Unlock()
		close(hold)
		got := h.wait(t, 4)
		for i, want := range []string{"user.login_failed", "user.login_failed", "user.login_failed", "two_factor.enabled"} {
			m := got[i]
			if m.typ != want || m.bad != nil || m.data["user_email"] != p.Email || fmt.Sprint(m.data["organization_id"]) != org {
				t.Errorf("message %d: %+v (want %s, signed, about %s in %s)", i, m, want, p.Email, org)
			}
			if i > 0 && m.id <= got[i-1].id && len(m.id) == len(got[i-1].id) {
				t.Errorf("message %d (%s) came after %s", i, m.id, got[i-1].id)
			}
		}
		h.mu.Lock()
		most := h.most
		h.mu.Unlock()
		if most != 1 {
			t.Errorf("%d requests at once to one endpoint", most)
		}
		// Another secret does not verify them: the check above means something.
		if wh, _ := standardwebhooks.NewWebhook("whsec_" + "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"); wh.Verify([]byte(`{}`), http.Header{"Webhook-Id": {"msg_1"}, "Webhook-Timestamp": {fmt.Sprint(time.Now().Unix())}, "Webhook-Signature": {"v1,AAAA"}}) == nil {
			t.Fatal("any signature verifies")
		}

		// A failed try is in the log, and tried again.
		h.mu.Lock()
		h.status = http.StatusServiceUnavailable
		h.mu.Unlock()
		failLogin()
		<-h.arrived
		// The log's newest line, once the worker recorded the answer.
		newest := func(recorded func(map[string]any) bool) ([]any, map[string]any) {
			t.Helper()
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				log := apptest.MustAPI(t, p.C, "GET", base+"/"+id+"/deliveries", nil)["deliveries"].([]any)
				if last := log[0].(map[string]any); recorded(last) || time.Now().After(deadline) {
					return log, last
				}
			}
		}
		_, last := newest(func(d map[string]any) bool { return d["response"] != "" })
		if last["state"] != "pending" || last["attempts"] != float64(1) || last["next_attempt_at"] == nil || last["response"] != "the endpoint answered HTTP 503" {
			t.Fatalf("the log's line of a failed try: %v", last)
		}
		h.mu.Lock()
		h.status = http.StatusOK
		h.mu.Unlock()
		clock.Advance(15 * time.Second)
		h.wait(t, 5)
		log, last := newest(func(d map[string]any) bool { return d["state"] != "pending" })
		if last["state"] != "delivered" || last["attempts"] != float64(2) || last["response"] != "HTTP 200" {
			t.Fatalf("the log's line of a delivery tried again: %v", last)
		}
		if w := apptest.MustAPI(t, p.C, "GET", base+"/"+id, nil)["webhook"].(map[string]any); w["failing_since"] != nil || w["enabled"] != true {
			t.Fatalf("the endpoint after a delivery went through: %v", w)
		}

		// Sent again: the same message (its webhook-id), once more.
		first := log[len(log)-1].(map[string]any)
		r := p.C.API("POST", base+"/"+id+"/deliveries/"+fmt.Sprint(first["id"])+"/resend", nil)
		if r.StatusCode != http.StatusAccepted {
			t.Fatalf("send again: %d %s", r.StatusCode, r.Body)
		}
		if again := h.wait(t, 6)[5]; again.id != got[0].id || again.bad != nil {
			t.Fatalf("sent again: %+v, first %+v", again, got[0])
		}
		wantProblem(t, p.C.API("POST", base+"/"+id+"/deliveries/999999/resend", nil), 404, "not_found")

		// A test message: to this endpoint, whatever it asked for, signed.
		r = p.C.API("POST", base+"/"+id+"/test", nil)
		if r.StatusCode != http.StatusAccepted {
			t.Fatalf("test: %d %s", r.StatusCode, r.Body)
		}
		if test := h.wait(t, 7)[6]; test.typ != "webhook.tested" || test.bad != nil || test.data["actor_email"] != p.Email {
			t.Fatalf("the test message: %+v", test)
		}

		// A new secret: both sign for a day, then the new one alone.
		old := made["secret"].(string)
		rotated := apptest.MustAPI(t, p.C, "POST", base+"/"+id+"/secret", nil)["webhook"].(map[string]any)
		fresh := rotated["secret"].(string)
		if fresh == old || rotated["old_secret_until"] == nil {
			t.Fatalf("rotated: %v", rotated)
		}
		h.mu.Lock()
		h.secret = fresh
		h.mu.Unlock()
		verifies := func(m received, secret string) bool {
			wh, _ := standardwebhooks.NewWebhook(secret)
			return wh.VerifyIgnoringTimestamp(m.body, m.header) == nil
		}
		apptest.MustAPI(t, p.C, "POST", base+"/"+id+"/test", nil)
		if m := h.wait(t, 8)[7]; !verifies(m, fresh) || !verifies(m, old) || len(strings.Fields(m.header.Get("webhook-signature"))) != 2 {
			t.Fatalf("a message the day of a new secret: %s", m.header.Get("webhook-signature"))
		}
		// A day later (the old secret's end, moved here: the owner's session
		// would not outlive a clock moved a day).
		if _, err := env.DB.Exec(env.Q(`UPDATE webhooks SET old_secret_until = 1`)); err != nil {
			t.Fatal(err)
		}
		apptest.MustAPI(t, p.C, "POST", base+"/"+id+"/test", nil)
		if m := h.wait(t, 9)[8]; !verifies(m, fresh) || verifies(m, old) {
			t.Fatalf("a message a day after: %s", m.header.Get("webhook-signature"))
		}

		// Changed, then deleted; another organization's owner reaches none of it.
		if w := apptest.MustAPI(t, p.C, "PATCH", base+"/"+id, map[string]any{"events": []string{"org.renamed"}})["webhook"].(map[string]any); fmt.Sprint(w["events"]) != "[org.renamed]" {
			t.Fatalf("changed: %v", w)
		}
		wantProblem(t, p.C.API("PATCH", base+"/"+id, map[string]any{"enabled": false}), 422, "validation_failed")
		wantProblem(t, p.C.API("PATCH", base+"/"+id, map[string]any{"url": "mailto:x@example.com"}), 422, "validation_failed")
		other := env.NewPerson(t, "other@example.com")
		theirs := fmt.Sprint(apptest.MustAPI(t, other.C, "POST", "/organizations", map[string]any{"name": "Other"})["organization"].(map[string]any)["id"])
		wantProblem(t, other.C.API("GET", base+"/"+id, nil), 404, "not_found")
		wantProblem(t, other.C.API("GET", "/organizations/"+theirs+"/webhooks/"+id, nil), 404, "not_found")
		wantProblem(t, other.C.API("DELETE", "/organizations/"+theirs+"/webhooks/"+id, nil), 404, "not_found")
		if r := p.C.API("DELETE", base+"/"+id, nil); r.StatusCode != http.StatusNoContent {
			t.Fatalf("delete: %d %s", r.StatusCode, r.Body)
		}
		wantProblem(t, p.C.API("GET", base+"/"+id, nil), 404, "not_found")
	})
}
