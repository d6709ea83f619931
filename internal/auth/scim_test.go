package auth_test

import (
	"context"
	"testing"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
)

// TestSCIMProvisionsTheOrganizationsSSOPeople: SCIM is its owners' to turn
// on, once SSO holds a verified domain; its token opens its organization
// only; it provisions people of its domains and never a password account;
// a deprovisioned person is disabled, and only the identity provider's own
// deprovisioning is undone by it (never the operator's).
func TestSCIMProvisionsTheOrganizationsSSOPeople(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	plain, plainOrg := f.org(t, "plain@example.com")
	_, err := f.svc.TurnOnSCIM(ctx, plain.User, plainOrg.ID, client)
	wantCode(t, err, gardien.CodeConflict) // no SSO

	owner, o := f.ssoOrg(t)
	admin := f.signup(t, "admin@example.com", true)
	f.join(t, owner.User, admin, o.ID, gardien.RoleAdmin)
	_, err = f.svc.TurnOnSCIM(ctx, admin, o.ID, client)
	wantCode(t, err, gardien.CodeForbidden)
	made, err := f.svc.TurnOnSCIM(ctx, owner.User, o.ID, client)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.AuthenticateSCIM(ctx, o.ID, made.Token); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		org   int64
		token string
	}{{plainOrg.ID, made.Token}, {o.ID, made.Token + "x"}, {o.ID, "gdn_" + made.Token[5:]}, {o.ID, ""}} {
		wantCode(t, f.svc.AuthenticateSCIM(ctx, c.org, c.token), gardien.CodeUnauthorized)
	}

	_, err = f.svc.CreateSCIMUser(ctx, o.ID, auth.SCIMInput{Email: "eve@example.com", Active: true}, client)
	wantCode(t, err, gardien.CodeValidationFailed)
	f.signup(t, "bob@acme.test", true)
	_, err = f.svc.CreateSCIMUser(ctx, o.ID, auth.SCIMInput{Email: "bob@acme.test", Active: true}, client)
	wantCode(t, err, gardien.CodeConflict)
	if u, _, _ := f.store.UserByEmail(ctx, "bob@acme.test"); u.SSO || u.Disabled {
		t.Fatal("a password account was taken over")
	}

	ada, err := f.svc.CreateSCIMUser(ctx, o.ID, auth.SCIMInput{Email: "Ada@ACME.test", GivenName: "Ada", FamilyName: "Lovelace", Active: true}, client)
	if err != nil {
		t.Fatal(err)
	}
	if ada.Name != "Ada Lovelace" || ada.Email != "Ada@acme.test" || !ada.Active {
		t.Fatalf("provisioned %+v", ada)
	}
	if m, err := f.store.Member(ctx, o.ID, ada.UserID); err != nil || m.Role != gardien.RoleMember || !m.SSO {
		t.Fatalf("membership %+v %v", m, err)
	}
	_, err = f.svc.CreateSCIMUser(ctx, o.ID, auth.SCIMInput{Email: "ada@acme.test", Active: true}, client)
	wantCode(t, err, gardien.CodeConflict)

	// Deprovisioned: disabled; the operator's disabling is not the
	// identity provider's to undo.
	in := auth.SCIMInput{Email: ada.Email, GivenName: "Ada", FamilyName: "Lovelace"}
	if _, err := f.svc.UpdateSCIMUser(ctx, o.ID, ada.UserID, in, client); err != nil {
		t.Fatal(err)
	}
	if u, _ := f.store.UserByID(ctx, ada.UserID); !u.Disabled {
		t.Fatal("deprovisioned, not disabled")
	}
	in.Active = true
	if _, err := f.svc.UpdateSCIMUser(ctx, o.ID, ada.UserID, in, client); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.OperatorSetDisabled(ctx, ada.Email, "root", true); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.UpdateSCIMUser(ctx, o.ID, ada.UserID, in, client)
	wantCode(t, err, gardien.CodeConflict)
	if _, err := f.svc.OperatorSetDisabled(ctx, ada.Email, "root", false); err != nil {
		t.Fatal(err)
	}

	// Deleted: no longer listed, the account disabled; created again, back.
	if err := f.svc.DeleteSCIMUser(ctx, o.ID, ada.UserID, client); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.SCIMUser(ctx, o.ID, ada.UserID)
	wantCode(t, err, gardien.CodeNotFound)
	if list, n, _ := f.svc.SCIMUsers(ctx, o.ID, gardien.SCIMFilter{}, 0, 10); n != 0 || len(list) != 0 {
		t.Fatalf("listed after the delete: %d", n)
	}
	back, err := f.svc.CreateSCIMUser(ctx, o.ID, auth.SCIMInput{Email: "ada@acme.test", Active: true}, client)
	if err != nil || back.UserID != ada.UserID || !back.Active {
		t.Fatalf("created again: %+v %v", back, err)
	}

	// Off: the token stops.
	if err := f.svc.TurnOffSCIM(ctx, owner.User, o.ID, client); err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.svc.AuthenticateSCIM(ctx, o.ID, made.Token), gardien.CodeUnauthorized)
}
