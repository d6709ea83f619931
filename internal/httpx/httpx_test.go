package httpx

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gardien/gardien"
)

func TestEveryCodeHasItsStatusAndUnknownOnesAre500(t *testing.T) {
	for code, want := range map[gardien.Code]int{
		gardien.CodeInvalidCredentials: 401, gardien.CodeInvalidCode: 401, gardien.CodeUnauthorized: 401,
		gardien.CodeEmailNotVerified: 403, gardien.CodeSSOUser: 403, gardien.CodeForbidden: 403,
		gardien.CodeTwoFactorRequired: 403, gardien.CodeTwoFactorSetupRequired: 403, gardien.CodeTwoFactorRequiredByOrg: 403,
		gardien.CodeTwoFactorAlreadyEnabled: 409, gardien.CodeConflict: 409, gardien.CodeRateLimited: 429,
		gardien.CodeNotFound: 404, gardien.CodeValidationFailed: 422, gardien.CodeInvalidToken: 400,
		gardien.CodeUnavailable: 503, gardien.CodeSSORequired: 403, gardien.CodeSSONotConfigured: 404, gardien.CodeSSOFailed: 400, gardien.CodeInternal: 500, gardien.Code("no_such_code"): 500,
	} {
		if got := Status(code); got != want {
			t.Errorf("Status(%s) = %d, want %d", code, got, want)
		}
	}
}

func TestRetryAfterRoundsUp(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "1", time.Millisecond: "1", time.Second: "1", 1500 * time.Millisecond: "2", 15 * time.Minute: "900"} {
		if got := RetryAfter(d); got != want {
			t.Errorf("RetryAfter(%v) = %s, want %s", d, got, want)
		}
	}
}

func TestPathIDsArePositiveNumbers(t *testing.T) {
	for v, ok := range map[string]bool{"1": true, "42": true, "0": false, "-1": false, "abc": false, "99999999999999999999": false, "": false, "1x": false} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.SetPathValue("id", v)
		if _, got := PathID(r, "id"); got != ok {
			t.Errorf("PathID(%q) ok = %v, want %v", v, got, ok)
		}
	}
}

// Over HTTPS the SSO binding cookie is __Host- (no sibling subdomain can
// plant a value of its own), Secure, HttpOnly and SameSite=Lax.
func TestTheSSOBrowserCookie(t *testing.T) {
	for _, secure := range []bool{false, true} {
		rec := httptest.NewRecorder()
		c := Cookies{Secure: secure}
		c.SetSSOBrowser(rec, "value", time.Now().Add(time.Minute))
		resp := rec.Result()
		ck := resp.Cookies()[0]
		wantName := "gardien_sso"
		if secure {
			wantName = "__Host-gardien_sso"
		}
		if ck.Name != wantName || ck.Secure != secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" {
			t.Errorf("secure %v: %+v", secure, ck)
		}
		req := httptest.NewRequest("GET", "/", nil)
		req.AddCookie(&http.Cookie{Name: wantName, Value: "value"})
		if got := c.SSOBrowser(req); got != "value" {
			t.Errorf("secure %v: read back %q", secure, got)
		}
	}
}

// A login's browser value: kept when it is one of Gardien's, replaced when
// it is absent, huge or not its shape (a cookie is anyone's to write), and
// its cookie set again either way, __Host- over HTTPS.
func TestLoginClientKeepsOrGivesTheBrowsersValue(t *testing.T) {
	good := strings.Repeat("Ab9-_", 9)[:43]
	for _, tc := range []struct {
		secure bool
		sent   string
		keep   bool
	}{
		{false, "", false}, {false, good, true}, {true, good, true},
		{false, good + "x", false}, {false, string(make([]byte, 4096)), false}, {false, "<script>alert(1)</script>aaaaaaaaaaaaaaaaa", false},
	} {
		c := Cookies{Secure: tc.secure}
		r := httptest.NewRequest("POST", "/login", nil)
		if tc.sent != "" {
			r.AddCookie(&http.Cookie{Name: c.browserCookie(), Value: tc.sent})
		}
		w := httptest.NewRecorder()
		got := c.LoginClient(w, r).Browser
		if tc.keep != (got == tc.sent) || !browserShaped(got) {
			t.Errorf("sent %.20q (secure %v): got %q", tc.sent, tc.secure, got)
		}
		set := w.Result().Cookies()
		want := "gardien_browser"
		if tc.secure {
			want = "__Host-gardien_browser"
		}
		if len(set) != 1 || set[0].Name != want || set[0].Value != got || !set[0].HttpOnly || set[0].Secure != tc.secure ||
			time.Duration(set[0].MaxAge)*time.Second < 399*24*time.Hour {
			t.Errorf("sent %.20q: cookie %+v", tc.sent, set)
		}
	}
}
