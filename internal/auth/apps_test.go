package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
)

func webApp(redirects ...string) auth.AppInput {
	return auth.AppInput{Name: ptr("Wiki"), Type: ptr(gardien.AppWeb), RedirectURIs: &redirects}
}

func TestAppsAreTheirOrganizationManagersToRegister(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.org(t, "owner@example.com")
	member := f.signup(t, "member@example.com", true)
	f.join(t, owner.User, member, o.ID, gardien.RoleMember)
	admin := f.signup(t, "admin@example.com", true)
	f.join(t, owner.User, admin, o.ID, gardien.RoleAdmin)
	outsider := f.signup(t, "out@example.com", true)

	_, err := f.svc.CreateApp(ctx, member, o.ID, webApp("https://wiki.example.com/cb"), client)
	wantCode(t, err, gardien.CodeForbidden)
	_, err = f.svc.CreateApp(ctx, outsider, o.ID, webApp("https://wiki.example.com/cb"), client)
	wantCode(t, err, gardien.CodeNotFound)

	v, err := f.svc.CreateApp(ctx, admin, o.ID, webApp("https://wiki.example.com/cb"), client)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v.ClientID, "app_") || !strings.HasPrefix(v.Secret, "gds_") || v.Audience != gardien.AudienceMembers || v.SigningAlg != gardien.AlgRS256 {
		t.Fatalf("new app %+v", v)
	}
	if err := f.svc.CheckAppSecret(ctx, &v.App, v.Secret); err != nil {
		t.Fatalf("its secret: %v", err)
	}
	wantCode(t, f.svc.CheckAppSecret(ctx, &v.App, v.Secret+"x"), gardien.CodeInvalidCredentials)
	// Shown once: reading it again has no secret.
	got, err := f.svc.App(ctx, owner.User, o.ID, v.ID)
	if err != nil || got.Secret != "" || got.Name != "Wiki" || got.RedirectURIs[0] != "https://wiki.example.com/cb" {
		t.Fatalf("read back: %+v, %v", got, err)
	}
	// Another organization's managers do not see it, even by its id.
	other, o2 := f.org(t, "other@example.com")
	_, err = f.svc.App(ctx, other.User, o2.ID, v.ID)
	wantCode(t, err, gardien.CodeNotFound)
	_, err = f.svc.UpdateApp(ctx, other.User, o2.ID, v.ID, auth.AppInput{Name: ptr("Mine")}, client)
	wantCode(t, err, gardien.CodeNotFound)
	wantCode(t, f.svc.DeleteApp(ctx, other.User, o2.ID, v.ID, client), gardien.CodeNotFound)

	if _, err := f.svc.UpdateApp(ctx, owner.User, o.ID, v.ID, auth.AppInput{Name: ptr("Team wiki"),
		Audience: ptr(gardien.AudienceManagers), SigningAlg: ptr(gardien.AlgES256)}, client); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.UpdateApp(ctx, owner.User, o.ID, v.ID, auth.AppInput{Type: ptr(gardien.AppSPA)}, client)
	wantCode(t, err, gardien.CodeValidationFailed)
	if err := f.svc.DeleteApp(ctx, owner.User, o.ID, v.ID, client); err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.svc.DeleteApp(ctx, owner.User, o.ID, v.ID, client), gardien.CodeNotFound)

	events, err := f.svc.AuditLog(ctx, owner.User, o.ID, gardien.EventFilter{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, e := range events {
		if strings.HasPrefix(e.Type, "app.") {
			seen = append(seen, e.Type+" "+e.Data["app"])
		}
	}
	want := "app.deleted Team wiki,app.updated Team wiki,app.created Wiki"
	if strings.Join(seen, ",") != want {
		t.Fatalf("audit: %q, want %q", seen, want)
	}
}

func TestAnAppsURIsAreExactAndSafe(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.org(t, "owner@example.com")
	for _, tc := range []struct {
		name string
		typ  gardien.AppType
		uris []string
		ok   bool
	}{
		{"https", gardien.AppWeb, []string{"https://app.example.com/callback?x=1"}, true},
		{"http on loopback", gardien.AppWeb, []string{"http://127.0.0.1:9000/cb", "http://localhost/cb", "http://[::1]:80/cb"}, true},
		{"http elsewhere", gardien.AppWeb, []string{"http://app.example.com/cb"}, false},
		{"a wildcard", gardien.AppWeb, []string{"https://*.example.com/cb"}, false},
		{"a fragment", gardien.AppSPA, []string{"https://app.example.com/#/cb"}, false},
		{"credentials", gardien.AppWeb, []string{"https://u:p@app.example.com/cb"}, false},
		{"relative", gardien.AppWeb, []string{"/callback"}, false},
		{"none", gardien.AppWeb, nil, false},
		{"javascript", gardien.AppSPA, []string{"javascript:alert(1)"}, false},
		{"private-use scheme, native", gardien.AppNative, []string{"com.example.app:/oauth"}, true},
		{"private-use scheme, web", gardien.AppWeb, []string{"com.example.app:/oauth"}, false},
		{"eleven", gardien.AppWeb, strings.Split("https://a/1 https://a/2 https://a/3 https://a/4 https://a/5 https://a/6 https://a/7 https://a/8 https://a/9 https://a/10 https://a/11", " "), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := webApp(tc.uris...)
			in.Type = &tc.typ
			_, err := f.svc.CreateApp(ctx, owner.User, o.ID, in, client)
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok {
				wantCode(t, err, gardien.CodeValidationFailed)
			}
		})
	}
	in := webApp("https://a.example.com/cb")
	in.BackchannelLogoutURI = ptr("http://10.0.0.8/logout")
	_, err := f.svc.CreateApp(ctx, owner.User, o.ID, in, client)
	wantCode(t, err, gardien.CodeValidationFailed)
}

func TestAPublicAppHasNoSecret(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.org(t, "owner@example.com")
	in := webApp("https://spa.example.com/cb")
	in.Type = ptr(gardien.AppSPA)
	v, err := f.svc.CreateApp(ctx, owner.User, o.ID, in, client)
	if err != nil || v.Secret != "" {
		t.Fatalf("spa: %+v, %v", v, err)
	}
	_, err = f.svc.RotateAppSecret(ctx, owner.User, o.ID, v.ID, client)
	wantCode(t, err, gardien.CodeConflict)
	wantCode(t, f.svc.CheckAppSecret(ctx, &v.App, ""), gardien.CodeInvalidCredentials)
}

func TestARotatedSecretWorksForADay(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.org(t, "owner@example.com")
	v, err := f.svc.CreateApp(ctx, owner.User, o.ID, webApp("https://wiki.example.com/cb"), client)
	if err != nil {
		t.Fatal(err)
	}
	first := v.Secret
	r, err := f.svc.RotateAppSecret(ctx, owner.User, o.ID, v.ID, client)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{first, r.Secret} {
		if err := f.svc.CheckAppSecret(ctx, &v.App, s); err != nil {
			t.Fatalf("just after rotation: %v", err)
		}
	}
	f.clock.Advance(auth.AppSecretGrace + time.Second)
	wantCode(t, f.svc.CheckAppSecret(ctx, &v.App, first), gardien.CodeInvalidCredentials)
	if err := f.svc.CheckAppSecret(ctx, &v.App, r.Secret); err != nil {
		t.Fatalf("the new one a day later: %v", err)
	}
	// A second rotation within the day ends the first secret at once.
	r2, err := f.svc.RotateAppSecret(ctx, owner.User, o.ID, v.ID, client)
	if err != nil {
		t.Fatal(err)
	}
	r3, err := f.svc.RotateAppSecret(ctx, owner.User, o.ID, v.ID, client)
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.svc.CheckAppSecret(ctx, &v.App, r.Secret), gardien.CodeInvalidCredentials)
	for _, s := range []string{r2.Secret, r3.Secret} {
		if err := f.svc.CheckAppSecret(ctx, &v.App, s); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAnOrganizationRequiring2FAMakesEveryAppNeedIt(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.org(t, "owner@example.com")
	v, err := f.svc.CreateApp(ctx, owner.User, o.ID, webApp("https://wiki.example.com/cb"), client)
	if err != nil || v.NeedsTwoFactor {
		t.Fatalf("%+v %v", v, err)
	}
	if err := f.svc.SetRequireTwoFactor(ctx, owner.User, o.ID, true, auth.RequireOptions{}, client); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.App(ctx, owner.User, o.ID, v.ID)
	if err != nil || !got.NeedsTwoFactor || !got.TwoFactorByOrg {
		t.Fatalf("after the requirement: %+v %v", got, err)
	}
	_, err = f.svc.UpdateApp(ctx, owner.User, o.ID, v.ID, auth.AppInput{RequireTwoFactor: ptr(false)}, client)
	wantCode(t, err, gardien.CodeConflict)
}
