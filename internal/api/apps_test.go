package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gardien/gardien/internal/apptest"
)

func TestAnOrganizationsApps(t *testing.T) {
	t.Parallel()
	apptest.OnEachDatabase(t, organizationsApps)
}

func organizationsApps(t *testing.T, db []apptest.Option) {
	clock := apptest.NewClock()
	env := apptest.Start(t, append(db, apptest.WithClock(clock))...)
	owner := enabled(t, env, clock, "owner@example.com")
	org := newOrg(t, owner, "Acme")
	member := verified(t, env, "member@example.com")
	join(t, env, owner, member, org, "member")

	body := map[string]any{"name": "Wiki", "type": "web", "redirect_uris": []string{"https://wiki.example.com/cb"},
		"backchannel_logout_uri": "https://wiki.example.com/logout"}
	wantProblem(t, member.c.API("POST", org+"/apps", body), 403, "forbidden")
	r := owner.c.API("POST", org+"/apps", body)
	if r.StatusCode != 201 {
		t.Fatalf("create: %d %s", r.StatusCode, r.Body)
	}
	app := r.JSON()["app"].(map[string]any)
	secret, _ := app["client_secret"].(string)
	if !strings.HasPrefix(secret, "gds_") || app["audience"] != "members" || app["signing_alg"] != "RS256" || app["require_two_factor"] != false {
		t.Fatalf("created: %s", r.Body)
	}
	path := fmt.Sprintf("%s/apps/%v", org, app["id"])

	// The secret is never shown again.
	for _, r := range []*apptest.Response{owner.c.API("GET", path, nil), owner.c.API("GET", org+"/apps", nil)} {
		if r.StatusCode != 200 || strings.Contains(string(r.Body), "client_secret") || !strings.Contains(string(r.Body), `"Wiki"`) {
			t.Fatalf("read: %d %s", r.StatusCode, r.Body)
		}
	}
	if r := owner.c.API("PATCH", path, map[string]any{"audience": "managers", "signing_alg": "ES256"}); r.StatusCode != 200 ||
		r.JSON()["app"].(map[string]any)["audience"] != "managers" || r.JSON()["app"].(map[string]any)["name"] != "Wiki" {
		t.Fatalf("patch: %d %s", r.StatusCode, r.Body)
	}
	p := wantProblem(t, owner.c.API("PATCH", path, map[string]any{"redirect_uris": []string{"http://wiki.example.com/cb"}}), 422, "validation_failed")
	if !strings.Contains(fmt.Sprint(p["errors"]), "redirect_uris") {
		t.Fatalf("problem names no field: %v", p)
	}
	wantProblem(t, owner.c.API("PATCH", path, map[string]any{"type": "spa"}), 422, "validation_failed")
	r = owner.c.API("POST", path+"/secret", nil)
	if s, _ := r.JSON()["app"].(map[string]any)["client_secret"].(string); r.StatusCode != 200 || s == "" || s == secret {
		t.Fatalf("rotate: %d %s", r.StatusCode, r.Body)
	}
	// Another organization's owner reaches none of it, by any path.
	other := verified(t, env, "other@example.com")
	org2 := newOrg(t, other, "Other")
	otherPath := fmt.Sprintf("%s/apps/%v", org2, app["id"])
	wantProblem(t, other.c.API("GET", otherPath, nil), 404, "not_found")
	wantProblem(t, other.c.API("DELETE", otherPath, nil), 404, "not_found")
	wantProblem(t, other.c.API("GET", path, nil), 404, "not_found")

	// While the organization requires 2FA, an app's need of it stays on.
	if r := owner.c.API("PUT", org+"/security", map[string]any{"require_two_factor": true}); r.StatusCode != 200 {
		t.Fatalf("require: %d %s", r.StatusCode, r.Body)
	}
	if r := owner.c.API("GET", path, nil); r.JSON()["app"].(map[string]any)["require_two_factor"] != true ||
		r.JSON()["app"].(map[string]any)["two_factor_required_by_organization"] != true {
		t.Fatalf("under the requirement: %s", r.Body)
	}
	wantProblem(t, owner.c.API("PATCH", path, map[string]any{"require_two_factor": false}), 409, "conflict")

	if r := owner.c.API("DELETE", path, nil); r.StatusCode != 204 {
		t.Fatalf("delete: %d %s", r.StatusCode, r.Body)
	}
	wantProblem(t, owner.c.API("GET", path, nil), 404, "not_found")
	events := string(owner.c.API("GET", org+"/events", nil).Body)
	for _, typ := range []string{"app.created", "app.updated", "app.secret_rotated", "app.deleted"} {
		if !strings.Contains(events, typ) {
			t.Fatalf("no %s in the audit log: %s", typ, events)
		}
	}
}
