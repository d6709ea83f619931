package auth

import (
	"bytes"
	"strings"
	"testing"
)

// A session cookie reads as its session's ID and its secret's hash; a
// token without a dot (made before cookies named their session) as the
// hash of the whole; anything else as no session, each ID with one
// spelling only.
func TestASessionCookieReadsAsItsKey(t *testing.T) {
	secret := strings.Repeat("s", 43)
	for tok, want := range map[string]int64{
		"12." + secret:               12,
		"9223372036854775." + secret: 9223372036854775,
		secret:                       0, // before: the whole token's hash
	} {
		key, ok := sessionKey(tok)
		if !ok || key.ID != want {
			t.Errorf("%q: %+v %v, want session %d", tok, key, ok, want)
			continue
		}
		hashed := tok
		if want != 0 {
			hashed = secret
		}
		if !bytes.Equal(key.Hash, hashToken(hashed)) {
			t.Errorf("%q: hash of %q expected", tok, hashed)
		}
	}
	for _, tok := range []string{"", ".", "12.", "." + secret, "012." + secret, "+12." + secret, "-12." + secret, " 12." + secret,
		"1_2." + secret, "0x1f." + secret, "1234567890123456789." + secret, "99999999999999999999." + secret,
		"12." + strings.Repeat("s", 100), "١٢." + secret} {
		if key, ok := sessionKey(tok); ok {
			t.Errorf("%q read as %+v, want no session", tok, key)
		}
	}
}
