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

func TestKeyRotation(t *testing.T) {
	old, _ := New(key(1))
	sealed, _ := old.Seal([]byte("s"), nil)
	rotated, err := New(key(2), key(1))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rotated.Open(sealed, nil); err != nil || string(got) != "s" {
		t.Fatalf("old value under rotated keys: %q %v", got, err)
	}
	fresh, _ := rotated.Seal([]byte("s"), nil)
	if _, err := old.Open(fresh, nil); !errors.Is(err, ErrOpen) {
		t.Fatalf("new value opened by the old key alone: %v", err)
	}
	if _, err := New(); err == nil {
		t.Fatal("no key accepted")
	}
	if _, err := New([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}
