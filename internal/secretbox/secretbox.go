// Package secretbox seals small secrets (TOTP keys) at rest with AES-256-GCM.
// Each sealed value names the key that sealed it, so keys can be rotated:
// the first key seals, every key opens.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

const idLen = 4

// Box seals and opens secrets.
type Box struct {
	sealID [idLen]byte
	aeads  map[[idLen]byte]cipher.AEAD
}

// ErrOpen is returned for a value that no key opens (wrong key, tampering).
var ErrOpen = errors.New("secretbox: cannot open sealed value")

// New returns a Box sealing with keys[0] and opening with any of keys.
// Each key is 32 bytes of master secret; the AES key is derived from it with
// HKDF so that the master secret can serve other purposes without reuse.
func New(keys ...[]byte) (*Box, error) {
	if len(keys) == 0 {
		return nil, errors.New("secretbox: no key")
	}
	b := &Box{aeads: map[[idLen]byte]cipher.AEAD{}}
	for i, k := range keys {
		if len(k) != 32 {
			return nil, fmt.Errorf("secretbox: key %d is %d bytes, want 32", i, len(k))
		}
		aesKey, err := hkdf.Key(sha256.New, k, nil, "gardien secretbox v1", 32)
		if err != nil {
			return nil, fmt.Errorf("secretbox: derive key: %w", err)
		}
		block, err := aes.NewCipher(aesKey)
		if err != nil {
			return nil, fmt.Errorf("secretbox: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("secretbox: %w", err)
		}
		sum := sha256.Sum256(aesKey)
		var id [idLen]byte
		copy(id[:], sum[:idLen])
		if i == 0 {
			b.sealID = id
		}
		b.aeads[id] = aead
	}
	return b, nil
}

// Seal encrypts plaintext. context binds the value to its place (e.g. the
// user it belongs to), so a sealed value copied to another row does not open.
func (b *Box) Seal(plaintext, context []byte) ([]byte, error) {
	aead := b.aeads[b.sealID]
	out := make([]byte, idLen+aead.NonceSize(), idLen+aead.NonceSize()+len(plaintext)+aead.Overhead())
	copy(out, b.sealID[:])
	if _, err := rand.Read(out[idLen:]); err != nil {
		return nil, fmt.Errorf("secretbox: nonce: %w", err)
	}
	return aead.Seal(out, out[idLen:], plaintext, context), nil
}

// Open decrypts a value made by Seal with the same context.
func (b *Box) Open(sealed, context []byte) ([]byte, error) {
	if len(sealed) < idLen {
		return nil, ErrOpen
	}
	var id [idLen]byte
	copy(id[:], sealed)
	aead, ok := b.aeads[id]
	if !ok || len(sealed) < idLen+aead.NonceSize() {
		return nil, ErrOpen
	}
	nonce := sealed[idLen : idLen+aead.NonceSize()]
	out, err := aead.Open(nil, nonce, sealed[idLen+aead.NonceSize():], context)
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}
