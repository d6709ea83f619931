package auth_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/sso"
	"github.com/gardien/gardien/internal/sso/ssotest"
)

func ptr[T any](v T) *T { return &v }

func TestConnectingAnIdentityProvider(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	dns := ssotest.StartDNS(t)
	issuer := ssotest.StartOP(t, nil)
	f.withProviders(sso.New(sso.Options{Resolver: sso.NewResolver(dns.Addr), AllowPrivate: true}))
	owner, o := f.org(t, "owner@example.com")
	admin := f.signup(t, "admin@example.com", true)
	f.join(t, owner.User, admin, o.ID, gardien.RoleAdmin)
	in := auth.SSOInput{Protocol: "oidc", Enabled: true, Domains: []string{"Example.COM", "exämple.fr"}, Issuer: " " + issuer + " ",
		ClientID: "gardien", ClientSecret: ptr("s3cret")}

	_, err := f.svc.SSO(ctx, owner.User, o.ID)
	wantCode(t, err, gardien.CodeNotFound)
	_, err = f.svc.SaveSSO(ctx, admin, o.ID, in, client)
	wantCode(t, err, gardien.CodeForbidden) // owners only

	t.Run("refused with words naming the field", func(t *testing.T) {
		for field, bad := range map[string]auth.SSOInput{
			"issuer":        {Protocol: "oidc", Domains: in.Domains, Issuer: "http://127.0.0.1:1", ClientID: "x", ClientSecret: ptr("y")},
			"protocol":      {Protocol: "ldap", Domains: in.Domains},
			"domains":       {Protocol: "oidc", Domains: []string{"x@[127.0.0.1]"}, Issuer: issuer, ClientID: "x", ClientSecret: ptr("y")},
			"client_secret": {Protocol: "oidc", Domains: in.Domains, Issuer: issuer, ClientID: "x"},
		} {
			_, err := f.svc.SaveSSO(ctx, owner.User, o.ID, bad, client)
			e, ok := gardien.AsError(err)
			if !ok || e.Code != gardien.CodeValidationFailed || len(e.Fields) == 0 || e.Fields[0].Field != field {
				t.Errorf("%s: %v, want validation_failed on %s", field, err, field)
			}
		}
	})

	c, err := f.svc.SaveSSO(ctx, owner.User, o.ID, in, client)
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != issuer || len(c.Domains) != 2 || c.Domains[0].Domain != "example.com" || c.Domains[1].Domain != "xn--exmple-cua.fr" {
		t.Fatalf("saved: issuer %q domains %+v", c.Issuer, c.Domains)
	}
	if len(c.ClientSecretSealed) == 0 || string(c.ClientSecretSealed) == "s3cret" {
		t.Fatal("the client secret is not sealed")
	}
	// Saved again without a secret: the one set stays; domains keep their tokens.
	in2 := in
	in2.ClientSecret = nil
	c2, err := f.svc.SaveSSO(ctx, owner.User, o.ID, in2, client)
	if err != nil {
		t.Fatal(err)
	}
	if string(c2.ClientSecretSealed) != string(c.ClientSecretSealed) || c2.Domains[0].Token != c.Domains[0].Token {
		t.Fatal("saving again lost the secret or changed a domain's token")
	}

	t.Run("nobody logs in through a claimed domain not yet verified", func(t *testing.T) {
		_, err := f.svc.StartSSO(ctx, "ada@example.com", "", "", client)
		wantCode(t, err, gardien.CodeSSONotConfigured)
	})

	t.Run("a domain counts once its TXT record is there", func(t *testing.T) {
		err := f.svc.VerifySSODomain(ctx, owner.User, o.ID, "example.com", client)
		wantCode(t, err, gardien.CodeValidationFailed)
		dns.SetTXT("example.com", "v=spf1 -all", "gardien-verification=wrong")
		wantCode(t, f.svc.VerifySSODomain(ctx, owner.User, o.ID, "example.com", client), gardien.CodeValidationFailed)
		dns.SetTXT("example.com", "v=spf1 -all", c.Domains[0].TXTRecord())
		if err := f.svc.VerifySSODomain(ctx, owner.User, o.ID, "EXAMPLE.com", client); err != nil {
			t.Fatal(err)
		}
		got, _ := f.svc.SSO(ctx, admin, o.ID) // admins see it
		if !got.Domains[0].Verified() || got.Domains[1].Verified() {
			t.Fatalf("domains after verification: %+v", got.Domains)
		}
	})

	t.Run("a verified domain belongs to one organization", func(t *testing.T) {
		other, o2 := f.org(t, "rival@example.org")
		in3 := in
		in3.Domains = []string{"example.com"}
		c3, err := f.svc.SaveSSO(ctx, other.User, o2.ID, in3, client)
		if err != nil {
			t.Fatal(err) // claiming is free: it counts only once verified
		}
		dns.SetTXT("example.com", c3.Domains[0].TXTRecord())
		wantCode(t, f.svc.VerifySSODomain(ctx, other.User, o2.ID, "example.com", client), gardien.CodeConflict)
		wantCode(t, f.svc.OperatorVerifySSODomain(ctx, o2.ID, "example.com", "root"), gardien.CodeConflict)
	})

	t.Run("an operator's word", func(t *testing.T) {
		if err := f.svc.OperatorVerifySSODomain(ctx, o.ID, "exämple.fr", "root"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, f.svc.OperatorVerifySSODomain(ctx, o.ID, "unclaimed.example", "root"), gardien.CodeNotFound)
		events, _ := f.svc.AuditLog(ctx, owner.User, o.ID, gardien.EventFilter{Type: gardien.EventSSODomainVerified})
		if len(events) != 2 {
			t.Fatalf("%d domain verifications in the audit log, want 2", len(events))
		}
	})

	wantCode(t, f.svc.DeleteSSO(ctx, admin, o.ID, client), gardien.CodeForbidden)
	if err := f.svc.DeleteSSO(ctx, owner.User, o.ID, client); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.SSO(ctx, owner.User, o.ID)
	wantCode(t, err, gardien.CodeNotFound)
}

// ssoOrg makes an organization whose owner (owner@acme.test, with 2FA)
// connected a provider for the verified domain acme.test.
func (f *fixture) ssoOrg(t *testing.T) (*auth.Login, *gardien.Organization) {
	t.Helper()
	ctx := context.Background()
	f.withProviders(sso.New(sso.Options{AllowPrivate: true}))
	owner, o := f.org(t, "owner@acme.test")
	if _, err := f.svc.SaveSSO(ctx, owner.User, o.ID, auth.SSOInput{Protocol: "oidc", Enabled: true,
		Domains: []string{"acme.test"}, Issuer: ssotest.StartOP(t, nil), ClientID: "gardien", ClientSecret: ptr("s")}, client); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.OperatorVerifySSODomain(ctx, o.ID, "acme.test", "root"); err != nil {
		t.Fatal(err)
	}
	return owner, o
}

func TestSSOUsersHaveNoPasswordHere(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	_, o := f.ssoOrg(t)
	u := &gardien.User{Email: "ada@acme.test", Name: "Ada", CreatedAt: f.clock.Now()}
	if err := f.store.CreateSSOUser(ctx, u, "ada@acme.test", o.ID, gardien.RoleMember, &gardien.Event{Time: f.clock.Now(), Type: gardien.EventSSOUserCreated}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.svc.ChangePassword(ctx, &gardien.Session{UserID: u.ID}, u, "anything", "a brand new passphrase", client), gardien.CodeSSOUser)
	_, err := f.svc.BeginTwoFactor(ctx, u)
	wantCode(t, err, gardien.CodeSSOUser)
	if err := f.svc.RequestPasswordReset(ctx, "ada@acme.test", "en", client); err != nil {
		t.Fatal(err)
	}
	f.svc.Wait(ctx)
	if got := f.mails.to("ada@acme.test"); len(got) != 1 || got[0].Subject != "Your account has no password here" || strings.Contains(got[0].Text, "token=") {
		t.Fatalf("mails to an SSO user asking for a reset: %+v", got)
	}
	// A wrong password for someone of the domain points to SSO.
	_, err = f.svc.LogIn(ctx, "ada@acme.test", "not her password", "", client)
	if e, _ := gardien.AsError(err); e == nil || e.Code != gardien.CodeInvalidCredentials || e.Message != "err.invalid_credentials_sso" {
		t.Fatalf("password login of an SSO user: %v", err)
	}
}

func TestRequireSSOKeepsTheOwnersWayBackIn(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.ssoOrg(t)
	bob := f.signup(t, "bob@acme.test", true)
	f.join(t, owner.User, bob, o.ID, gardien.RoleAdmin)
	c, _ := f.svc.SSO(ctx, owner.User, o.ID)
	if _, err := f.svc.SaveSSO(ctx, owner.User, o.ID, auth.SSOInput{Protocol: "oidc", Enabled: true, RequireSSO: true,
		Domains: []string{"acme.test"}, Issuer: c.Issuer, ClientID: "gardien"}, client); err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"bob@acme.test", "nobody@acme.test"} {
		_, err := f.svc.LogIn(ctx, email, pw, "", client)
		wantCode(t, err, gardien.CodeSSORequired)
	}
	// The owner logs in with password and code, as the way back in.
	if l, err := f.svc.LogIn(ctx, "owner@acme.test", pw, "", client); err != nil || l.Status != auth.StatusTwoFactorRequired {
		t.Fatalf("owner's password login: %v %v", l, err)
	}
	// Other domains are not concerned.
	f.signup(t, "carol@example.com", true)
	if _, err := f.svc.LogIn(ctx, "carol@example.com", pw, "", client); err != nil {
		t.Fatalf("another domain: %v", err)
	}
}

// Where an organization requires SSO, a password account the provider just
// vouched for is linked by its owner: the password, in the browser that
// holds the link, opens a session that may only confirm it.
func TestWhereSSOIsRequiredAPendingLinkLetsThePasswordConfirmIt(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	owner, o := f.ssoOrg(t)
	c, _ := f.svc.SSO(ctx, owner.User, o.ID)
	if _, err := f.svc.SaveSSO(ctx, owner.User, o.ID, auth.SSOInput{Protocol: "oidc", Enabled: true, RequireSSO: true,
		Domains: []string{"acme.test"}, Issuer: c.Issuer, ClientID: "gardien"}, client); err != nil {
		t.Fatal(err)
	}
	erin := f.signup(t, "erin@acme.test", true)
	other := f.signup(t, "other@acme.test", true)
	link := func(u *gardien.User, orgID int64) string {
		tok := fmt.Sprint("link-of-", u.ID, "-", orgID)
		h := sha256.Sum256([]byte(tok))
		if err := f.store.CreateSSOLink(ctx, h[:], u.ID, orgID, "oidc", f.clock.Now().Add(10*time.Minute)); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	_, elsewhere := f.org(t, "owner@elsewhere.test")
	for name, tok := range map[string]string{
		"no link":                     "",
		"another person's link":       link(other, o.ID),
		"a link to another org's SSO": link(erin, elsewhere.ID),
		"a link that is not one":      "forged",
	} {
		_, err := f.svc.LogInToLink(ctx, "erin@acme.test", pw, tok, "", client)
		if gardien.ErrorCode(err) != gardien.CodeSSORequired {
			t.Errorf("%s: %v, want sso_required", name, err)
		}
	}
	tok := link(erin, o.ID)
	_, err := f.svc.LogInToLink(ctx, "erin@acme.test", "a wrong password", tok, "", client)
	wantCode(t, err, gardien.CodeInvalidCredentials)
	l, err := f.svc.LogInToLink(ctx, "erin@acme.test", pw, tok, "", client)
	if err != nil || l.Session.Level != gardien.LevelSSOLink || l.Status != auth.StatusSSOLinkRequired {
		t.Fatalf("the password with the link: %+v %v", l, err)
	}
	if l.Session.ExpiresAt.After(f.clock.Now().Add(10 * time.Minute)) {
		t.Errorf("a link-only session lasts until %s", l.Session.ExpiresAt)
	}
	if _, err := f.svc.LinkSSO(ctx, l.Session, erin, tok, client); err != nil {
		t.Fatalf("confirming from the link-only session: %v", err)
	}
	if l.Session.Level != gardien.LevelFull || !l.Session.ExpiresAt.After(f.clock.Now().Add(time.Hour)) {
		t.Fatalf("after the link: %s until %s", l.Session.Level, l.Session.ExpiresAt)
	}
}

// Anyone may start an SSO login: starts are counted per address and per
// domain, wide enough for an office logging in at nine.
func TestSSOStartsAreCountedPerAddressAndPerDomain(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	office := gardien.Client{IP: "198.51.100.7"}
	for i := range 300 {
		_, err := f.svc.StartSSO(ctx, fmt.Sprintf("p%d@nowhere.test", i), "", "", office)
		wantCode(t, err, gardien.CodeSSONotConfigured)
	}
	_, err := f.svc.StartSSO(ctx, "one-more@elsewhere.test", "", "", office)
	e, _ := gardien.AsError(err)
	if e == nil || e.Code != gardien.CodeRateLimited || e.RetryAfter <= 0 || e.RetryAfter > 10*time.Minute {
		t.Fatalf("the 301st start from one address: %v", err)
	}
	// Another address is not held back by the first; an IPv6 client's
	// whole /64 counts as one.
	_, err = f.svc.StartSSO(ctx, "ada@elsewhere.test", "", "", gardien.Client{IP: "2001:db8:1:2::1"})
	wantCode(t, err, gardien.CodeSSONotConfigured)
	f.clock.Advance(10 * time.Minute)
	_, err = f.svc.StartSSO(ctx, "ada@nowhere.test", "", "", office)
	wantCode(t, err, gardien.CodeSSONotConfigured)

	// One domain, from many addresses.
	for i := range 3000 {
		_, err := f.svc.StartSSO(ctx, "p@busy.test", "", "", gardien.Client{IP: fmt.Sprintf("203.0.%d.%d", i/250, i%250)})
		wantCode(t, err, gardien.CodeSSONotConfigured)
	}
	_, err = f.svc.StartSSO(ctx, "p@busy.test", "", "", gardien.Client{IP: "192.0.2.99"})
	wantCode(t, err, gardien.CodeRateLimited)
	// The refused start did not count against its address.
	for range 299 {
		f.svc.StartSSO(ctx, "q@quiet.test", "", "", gardien.Client{IP: "192.0.2.99"})
	}
	_, err = f.svc.StartSSO(ctx, "q@quiet.test", "", "", gardien.Client{IP: "192.0.2.99"})
	wantCode(t, err, gardien.CodeSSONotConfigured)
}

// One person, one account: every spelling of a domain that SSO's domain
// check takes for the organization's is the same address.
func TestSpellingsOfADomainAreOneAddress(t *testing.T) {
	ctx := context.Background()
	for raw, want := range map[string]string{
		"ada@acme.test":         "ada@acme.test",
		"Ada@ACME.Test":         "ada@acme.test",
		"ada@ａｃｍｅ.ｔｅｓｔ":         "ada@acme.test", // fullwidth
		"zoé@EXÄMPLE.fr":        "zoé@exämple.fr",
		"zoé@xn--exmple-cua.fr": "zoé@exämple.fr",
	} {
		_, key, ok := auth.NormalizeEmail(raw)
		if !ok || key != want {
			t.Errorf("NormalizeEmail(%q): key %q %v, want %q", raw, key, ok, want)
		}
		if d, _ := auth.NormalizeDomain(raw[strings.LastIndexByte(raw, '@')+1:]); d == "" {
			t.Errorf("%q: no domain", raw)
		}
	}
	f := newService(t)
	ada := f.signup(t, "ada@acme.test", true)
	l, err := f.svc.LogIn(ctx, "ada@ａｃｍｅ.test", pw, "", client)
	if err != nil || l.User.ID != ada.ID {
		t.Fatalf("the fullwidth spelling: %+v %v", l, err)
	}
}

// An issuer is kept exactly as the provider names itself: Auth0's ends
// with a slash.
func TestAnIssuerIsKeptAsEntered(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	f.withProviders(sso.New(sso.Options{AllowPrivate: true}))
	owner, o := f.org(t, "owner@example.com")
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":%q,"token_endpoint":%q,"jwks_uri":%q}`,
			srv.URL+"/", srv.URL+"/authorize", srv.URL+"/oauth/token", srv.URL+"/.well-known/jwks.json")
	}))
	t.Cleanup(srv.Close)
	in := auth.SSOInput{Protocol: "oidc", Enabled: true, Domains: []string{"example.com"}, Issuer: srv.URL + "/", ClientID: "gardien", ClientSecret: ptr("s")}
	c, err := f.svc.SaveSSO(ctx, owner.User, o.ID, in, client)
	if err != nil || c.Issuer != srv.URL+"/" {
		t.Fatalf("an issuer with a trailing slash: %+v %v", c, err)
	}
	in.Issuer = srv.URL // not the provider's name for itself
	_, err = f.svc.SaveSSO(ctx, owner.User, o.ID, in, client)
	wantCode(t, err, gardien.CodeValidationFailed)
}

// Saved SAML metadata stays when the connection is saved again without
// new metadata; the test tests the provider before any domain is verified,
// and says what is left.
func TestASAMLConnectionKeepsItsMetadataAndIsTestedBeforeItsDomain(t *testing.T) {
	ctx := context.Background()
	f := newService(t)
	f.withProviders(sso.New(sso.Options{AllowPrivate: true}))
	owner, o := f.org(t, "owner@acme.test")
	idp := ssotest.StartSAMLIdP(t)
	in := auth.SSOInput{Protocol: "saml", Domains: []string{"acme.test"}, IDPMetadataURL: idp.MetadataURL}
	first, err := f.svc.SaveSSO(ctx, owner.User, o.ID, in, client)
	if err != nil {
		t.Fatal(err)
	}
	in.IDPMetadataURL = ""
	again, err := f.svc.SaveSSO(ctx, owner.User, o.ID, in, client)
	if err != nil || again.IDPMetadataXML != first.IDPMetadataXML {
		t.Fatalf("saved again without metadata: %v", err)
	}
	sec, err := f.svc.OrgSecurity(ctx, owner.User, o.ID)
	if err != nil || sec.IDP == nil || sec.IDP.EntityID != idp.MetadataURL || !sec.IDP.SignedUntil.After(time.Now()) {
		t.Fatalf("what the page shows of the metadata: %+v %v", sec.IDP, err)
	}
	test, err := f.svc.TestSSO(ctx, owner.User, o.ID)
	if err != nil || len(test.Problems) != 0 || len(test.Steps) != 2 {
		t.Fatalf("the test before a domain is verified and SSO is on: %+v %v", test, err)
	}
}
