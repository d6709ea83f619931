package secretbox

import (
	"bytes"
	"errors"
	"testing"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestSealOpen(t *testing.T) {
	b, err := New(key(1))
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("JBSWY3DPEHPK3PXP")
	s1, _ := b.Seal(secret, []byte("user:1"))
	s2, _ := b.Seal(secret, []byte("user:1"))
	if bytes.Equal(s1, s2) || bytes.Contains(s1, secret) {
		t.Fatal("sealing is deterministic or leaks the plaintext")
	}
	got, err := b.Open(s1, []byte("user:1"))
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := b.Open(s1, []byte("user:2")); !errors.Is(err, ErrOpen) {
		t.Fatalf("value moved to another user opened: %v", err)
	}
	tampered := bytes.Clone(s1)
	tampered[len(tampered)-1] ^= 1
	if _, err := b.Open(tampered, []byte("user:1")); !errors.Is(err, ErrOpen) {
		t.Fatalf("tampered value opened: %v", err)
	}
	for _, short := range [][]byte{nil, {1, 2}, s1[:10]} {
		if _, err := b.Open(short, []byte("user:1")); !errors.Is(err, ErrOpen) {
			t.Fatalf("short value: %v", err)
		}
	}
}

func TestAnotherKeyOpensNothing(t *testing.T) {
	one, _ := New(key(1))
	sealed, _ := one.Seal([]byte("s"), nil)
	other, err := New(key(2))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Open(sealed, nil); !errors.Is(err, ErrOpen) {
		t.Fatalf("a value sealed under another key opened: %v", err)
	}
	for _, k := range [][]byte{nil, []byte("short"), bytes.Repeat([]byte{1}, 33)} {
		if _, err := New(k); err == nil {
			t.Fatalf("key of %d bytes accepted", len(k))
		}
	}
}
