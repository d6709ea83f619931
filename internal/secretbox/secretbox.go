// Package secretbox seals small secrets (TOTP keys, waiting mails) at rest
// with AES-256-GCM. Each sealed value starts with the id of the key that
// sealed it: a value sealed under another key is refused at once, and a
// rotation (several keys opening, one sealing, and a command re-sealing
// every value) can come without changing the format.
package secretbox

import (
	"bytes"
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
	id   [idLen]byte
	aead cipher.AEAD
}

// ErrOpen is returned for a value that no key opens (wrong key, tampering).
var ErrOpen = errors.New("secretbox: cannot open sealed value")

// New returns a Box for a key of 32 bytes of master secret; the AES key is
// derived from it with HKDF so that the master secret can serve other
// purposes without reuse.
func New(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secretbox: key is %d bytes, want 32", len(key))
	}
	aesKey, err := hkdf.Key(sha256.New, key, nil, "gardien secretbox v1", 32)
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
	b := &Box{aead: aead}
	sum := sha256.Sum256(aesKey)
	copy(b.id[:], sum[:idLen])
	return b, nil
}

// Seal encrypts plaintext. context binds the value to its place (e.g. the
// user it belongs to), so a sealed value copied to another row does not open.
func (b *Box) Seal(plaintext, context []byte) ([]byte, error) {
	aead := b.aead
	out := make([]byte, idLen+aead.NonceSize(), idLen+aead.NonceSize()+len(plaintext)+aead.Overhead())
	copy(out, b.id[:])
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
	aead := b.aead
	if !bytes.Equal(sealed[:idLen], b.id[:]) || len(sealed) < idLen+aead.NonceSize() {
		return nil, ErrOpen
	}
	nonce := sealed[idLen : idLen+aead.NonceSize()]
	out, err := aead.Open(nil, nonce, sealed[idLen+aead.NonceSize():], context)
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}
