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

func TestDescribeUserAgent(t *testing.T) {
	for ua, want := range map[string][2]string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0":                   {"Edge", "Windows"},
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15":                   {"Safari", "macOS"},
		"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0":                                                                  {"Firefox", "Linux"},
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1": {"Safari", "iOS"},
		"Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36":                                {"Chrome", "Android"},
		"": {"", ""},
	} {
		b, s := gardien.DescribeUserAgent(ua)
		if b != want[0] || s != want[1] {
			t.Errorf("%q: %q on %q, want %q on %q", ua, b, s, want[0], want[1])
		}
	}
}
