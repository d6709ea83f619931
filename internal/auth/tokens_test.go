package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
)

// TestWhereSSOIsRequiredTokensFollowTheLogin: where an organization
// requires SSO, a password account's token stops as its password login
// does, an SSO person's keeps working (their provider is their way in), and
// the owner's (who keeps a way back in) too.
func TestWhereSSOIsRequiredTokensFollowTheLogin(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.ssoOrg(t)
	bob := f.signup(t, "bob@acme.test", true)
	f.join(t, owner.User, bob, o.ID, gardien.RoleAdmin)
	ada := &gardien.User{Email: "ada@acme.test", Name: "Ada", CreatedAt: f.clock.Now()}
	if err := f.store.CreateSSOUser(ctx, ada, "ada@acme.test", o.ID, gardien.RoleMember, &gardien.Event{Time: f.clock.Now(), Type: gardien.EventSSOUserCreated}); err != nil {
		t.Fatal(err)
	}
	ada, _ = f.store.UserByID(ctx, ada.ID)
	token := func(u *gardien.User) string {
		t.Helper()
		made, err := f.svc.CreateToken(ctx, u, "CI", []string{auth.ScopeProfileRead}, f.clock.Now().Add(auth.MaxTokenLifetime/2), client)
		if err != nil {
			t.Fatal(err)
		}
		return made.Token
	}
	bobs, adas, owners := token(bob), token(ada), token(owner.User)
	c, _ := f.svc.SSO(ctx, owner.User, o.ID)
	if _, err := f.svc.SaveSSO(ctx, owner.User, o.ID, auth.SSOInput{Protocol: "oidc", Enabled: true, RequireSSO: true,
		Domains: []string{"acme.test"}, Issuer: c.Issuer, ClientID: "gardien"}, client); err != nil {
		t.Fatal(err)
	}
	_, _, _, err := f.svc.AuthenticateToken(ctx, bobs)
	wantCode(t, err, gardien.CodeSSORequired)
	for name, tok := range map[string]string{"the SSO person's": adas, "the owner's": owners} {
		if _, _, _, err := f.svc.AuthenticateToken(ctx, tok); err != nil {
			t.Errorf("%s token: %v", name, err)
		}
	}
}

// TestATokensScopesAreKnownOnes: a token carries only scopes Gardien
// knows, an organization's only the organization's.
func TestATokensScopesAreKnownOnes(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.org(t, "owner@example.com")
	for _, scopes := range [][]string{nil, {"sso:write"}, {auth.ScopeProfileRead, "admin"}} {
		_, err := f.svc.CreateToken(ctx, owner.User, "CI", scopes, time.Time{}, client)
		wantCode(t, err, gardien.CodeValidationFailed)
	}
	_, err := f.svc.CreateOrgToken(ctx, owner.User, o.ID, "CI", []string{auth.ScopeProfileRead}, time.Time{}, client)
	wantCode(t, err, gardien.CodeValidationFailed)
	made, err := f.svc.CreateToken(ctx, owner.User, "CI", []string{auth.ScopeAuditRead, auth.ScopeAuditRead}, time.Time{}, client)
	if err != nil || len(made.Scopes) != 1 {
		t.Fatalf("a scope twice: %+v %v", made, err)
	}
}
