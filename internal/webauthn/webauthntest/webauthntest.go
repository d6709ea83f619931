// Package webauthntest gives tests (and the load tool) keys of
// github.com/descope/virtualwebauthn, a software authenticator, that every
// relying party takes.
package webauthntest

import (
	"crypto/ecdsa"
	"crypto/x509"

	"github.com/descope/virtualwebauthn"
)

// NewCredential is a new P-256 key. virtualwebauthn writes a coordinate of
// its public key without its leading zero bytes, which go-webauthn rightly
// refuses ("x or y coordinate has invalid length") — one key in 64: such
// keys are drawn again.
func NewCredential() virtualwebauthn.Credential {
	for {
		c := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
		k, err := x509.ParsePKCS8PrivateKey(c.Key.Data)
		if err != nil {
			panic("webauthntest: " + err.Error())
		}
		if p := k.(*ecdsa.PrivateKey); len(p.X.Bytes()) == 32 && len(p.Y.Bytes()) == 32 {
			return c
		}
	}
}
