package api_test

import (
	"crypto/sha256"
	"net/url"

	"github.com/gardien/gardien/internal/totp"
)

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func sha256Of(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func decodeSecret(s string) ([]byte, error) { return totp.DecodeSecret(s) }
