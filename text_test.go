package gardien_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gardien/gardien"
)

func TestClipNeverCutsACharacter(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short text kept", "abc", 5, "abc"},
		{"ascii cut at n", "abcdef", 4, "abcd"},
		{"two-byte rune not split", "aé", 2, "a"},
		{"four-byte rune not split", "a😀b", 4, "a"},
		{"rune ending at n kept", "a😀b", 5, "a😀"},
		{"invalid bytes replaced", "a\xffb", 10, "a\uFFFDb"},
		{"zero", "é", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := gardien.Clip(tc.in, tc.n)
			if got != tc.want || !utf8.ValidString(got) || len(got) > tc.n && tc.n >= len(tc.in) {
				t.Fatalf("Clip(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
		})
	}
	long := strings.Repeat("é", 300) // 600 bytes
	if got := gardien.Clip(long, 511); len(got) != 510 || !utf8.ValidString(got) {
		t.Fatalf("Clip of 600 bytes of é to 511: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
}

func FuzzClip(f *testing.F) {
	for _, s := range []string{"", "abc", "é😀", "\xff\xfe", strings.Repeat("é", 40)} {
		f.Add(s, 7)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || n > 1<<16 {
			return
		}
		got := gardien.Clip(s, n)
		if !utf8.ValidString(got) || len(got) > n {
			t.Fatalf("Clip(%q, %d) = %q", s, n, got)
		}
	})
}
