package web

import (
	"net/url"
	"strings"
	"testing"
)

var returnPaths = []struct {
	in   string
	kept bool
}{
	{"/settings/two-factor", true},
	{"/organizations/1/members?page=2", true},
	{"/", true},
	{"", false},
	{"//evil.example", false},
	{"/\\evil.example", false},
	{"/\t/evil.example", false},
	{"/\n/evil.example", false},
	{"/%09/evil.example", false},
	{"/%2F/evil.example", false},
	{"/%5Cevil.example", false},
	{"https://evil.example/", false},
	{"evil.example", false},
	{"/a\x00b", false},
	{"/\xff", false},
}

func TestReturnPathsStayOnTheSite(t *testing.T) {
	for _, tc := range returnPaths {
		if got := localPath(tc.in); (got != "") != tc.kept {
			t.Errorf("localPath(%q) = %q, kept %v, want %v", tc.in, got, got != "", tc.kept)
		}
	}
}

// FuzzLocalPath: whatever is kept, a browser resolves on this site.
func FuzzLocalPath(f *testing.F) {
	for _, tc := range returnPaths {
		f.Add(tc.in)
	}
	base, _ := url.Parse("https://gardien.test/login")
	f.Fuzz(func(t *testing.T, p string) {
		got := localPath(p)
		if got == "" {
			return
		}
		// Browsers drop tabs and newlines and read \ as /; none may remain.
		if strings.ContainsAny(got, "\t\r\n\\") || strings.HasPrefix(got, "//") {
			t.Fatalf("localPath(%q) kept %q", p, got)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("kept %q that does not parse: %v", got, err)
		}
		if r := base.ResolveReference(u); r.Host != "gardien.test" || r.Scheme != "https" {
			t.Fatalf("localPath(%q) = %q resolves to %s", p, got, r)
		}
	})
}
