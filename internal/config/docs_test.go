package config

import (
	"os"
	"strings"
	"testing"
)

// The README's configuration table lists every setting.
func TestREADMEListsEverySetting(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Settings() {
		if !strings.Contains(string(b), "| `"+s[1]+"` | `-"+s[0]+"` |") {
			t.Errorf("README.md's configuration table lacks %s (-%s)", s[1], s[0])
		}
	}
}
