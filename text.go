package gardien

import (
	"strings"
	"unicode/utf8"
)

// Clip returns s as valid UTF-8 of at most n bytes, cut between runes: the
// one way text from outside (a User-Agent, a server's error) is shortened
// before it is stored, since PostgreSQL refuses a character cut in half.
func Clip(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
