package auth

import "testing"

func TestIPv6ClientsAreCountedByTheirSlash64(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"},
		{"203.0.113.7", "::ffff:203.0.113.7"},
	} {
		if addressBucket(tc.a) != addressBucket(tc.b) {
			t.Errorf("%s and %s counted apart: %s vs %s", tc.a, tc.b, addressBucket(tc.a), addressBucket(tc.b))
		}
	}
	for _, tc := range []struct{ a, b string }{
		{"2001:db8:1:2::1", "2001:db8:1:3::1"},
		{"203.0.113.7", "203.0.113.8"},
	} {
		if addressBucket(tc.a) == addressBucket(tc.b) {
			t.Errorf("%s and %s counted together", tc.a, tc.b)
		}
	}
}
