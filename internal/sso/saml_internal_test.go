package sso

import (
	"testing"

	"github.com/crewjam/saml"
)

func attr(name, friendly, value string) saml.Attribute {
	return saml.Attribute{Name: name, FriendlyName: friendly, Values: []saml.AttributeValue{{Value: value}}}
}

func TestTheEmailComesFromTheNamesIdentityProvidersUse(t *testing.T) {
	for name, tc := range map[string]struct {
		nameID saml.NameID
		attrs  []saml.Attribute
		email  string
		person string
	}{
		"an emailAddress NameID": {saml.NameID{Format: string(saml.EmailAddressNameIDFormat), Value: "ada@acme.test"}, nil, "ada@acme.test", ""},
		"mail":                   {saml.NameID{Value: "x1"}, []saml.Attribute{attr("mail", "", "ada@acme.test")}, "ada@acme.test", ""},
		"the URI of Microsoft's claim": {saml.NameID{Value: "x1"}, []saml.Attribute{
			attr("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "", "ada@acme.test"),
			attr("http://schemas.microsoft.com/identity/claims/displayname", "", "Ada Lovelace")}, "ada@acme.test", "Ada Lovelace"},
		"PKCS #9's OID": {saml.NameID{Value: "x1"}, []saml.Attribute{attr("urn:oid:1.2.840.113549.1.9.1", "", "ada@acme.test")}, "ada@acme.test", ""},
		"a FriendlyName": {saml.NameID{Value: "x1"}, []saml.Attribute{attr("urn:example:whatever", "email", "ada@acme.test"),
			attr("urn:example:other", "displayName", "Ada")}, "ada@acme.test", "Ada"},
		"the list's order, not the answer's": {saml.NameID{Value: "x1"}, []saml.Attribute{
			attr("urn:oid:1.2.840.113549.1.9.1", "", "second@acme.test"), attr("mail", "", "ada@acme.test"),
			attr("cn", "", "A. L."), attr("displayName", "", "Ada Lovelace")}, "ada@acme.test", "Ada Lovelace"},
		"an empty value is no value": {saml.NameID{Value: "x1"}, []saml.Attribute{attr("mail", "", " "), attr("email", "", "ada@acme.test")}, "ada@acme.test", ""},
	} {
		nameID := tc.nameID
		a := &saml.Assertion{Subject: &saml.Subject{NameID: &nameID}, AttributeStatements: []saml.AttributeStatement{{Attributes: tc.attrs}}}
		id, err := identityOf(a)
		if err != nil || id.Email != tc.email || id.Name != tc.person || !id.EmailVerified {
			t.Errorf("%s: %+v %v, want %s (%s)", name, id, err, tc.email, tc.person)
		}
	}
	if _, err := identityOf(&saml.Assertion{Subject: &saml.Subject{NameID: &saml.NameID{Value: "x1"}}}); Cause(err) != CauseNoEmail {
		t.Errorf("no email: %v", err)
	}
}
