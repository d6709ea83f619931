package totp_test

import (
	_ "image/png"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"

	. "github.com/gardien/gardien/internal/totp"
	"github.com/gardien/gardien/internal/totp/totptest"
)

// RFC 6238 Appendix B, SHA1 seed "12345678901234567890", 8 digits.
func TestRFC6238Vectors(t *testing.T) {
	seed := []byte("12345678901234567890")
	for _, v := range []struct {
		unix int64
		code string
	}{
		{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"},
		{1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
	} {
		if got := Code(seed, Step(time.Unix(v.unix, 0)), otp.DigitsEight); got != v.code {
			t.Errorf("T=%d: %s, want %s", v.unix, got, v.code)
		}
	}
}

func TestVerifyAcceptsOneStepEitherSide(t *testing.T) {
	secret := NewSecret()
	now := time.Unix(1_800_000_015, 0)
	cur := Step(now)
	for _, tc := range []struct {
		step int64
		ok   bool
	}{{cur - 2, false}, {cur - 1, true}, {cur, true}, {cur + 1, true}, {cur + 2, false}} {
		code := Code(secret, tc.step, otp.DigitsSix)
		step, ok := Verify(secret, code, now)
		// A code of a far step may collide with a near one (1 in 10^6).
		if ok != tc.ok && Code(secret, cur, otp.DigitsSix) != code {
			t.Errorf("step %+d: ok=%v, want %v", tc.step-cur, ok, tc.ok)
		}
		if ok && tc.ok && step != tc.step {
			t.Errorf("step %+d matched step %+d", tc.step-cur, step-cur)
		}
	}
	code := Code(secret, cur, otp.DigitsSix)
	for _, typed := range []string{code[:3] + " " + code[3:], code[:3] + "-" + code[3:], " " + code + " "} {
		if _, ok := Verify(secret, typed, now); !ok {
			t.Errorf("%q refused", typed)
		}
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef", "12345x", "１２３４５６"} {
		if _, ok := Verify(secret, bad, now); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestEnrollQRCodeHoldsTheURI(t *testing.T) {
	secret := NewSecret()
	e, err := Enroll(secret, "Gardien", "ada+test@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if e.Secret != Encode(secret) || len(e.Secret) != 32 {
		t.Fatalf("secret %q", e.Secret)
	}
	u, err := url.Parse(e.URI)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Gardien:ada+test@example.com" ||
		q.Get("secret") != e.Secret || q.Get("issuer") != "Gardien" || q.Get("algorithm") != "SHA1" ||
		q.Get("digits") != "6" || q.Get("period") != "30" {
		t.Fatalf("URI %s", e.URI)
	}
	if got := totptest.DecodeQR(t, e.QRPNG); got != e.URI {
		t.Fatalf("QR code holds %q, want %q", got, e.URI)
	}
	if Group("ABCDEFGHIJ") != "ABCD EFGH IJ" {
		t.Fatal(Group("ABCDEFGHIJ"))
	}
}

func BenchmarkVerify(b *testing.B) {
	secret := NewSecret()
	now := time.Now()
	code := Code(secret, Step(now), otp.DigitsSix)
	for b.Loop() {
		if _, ok := Verify(secret, code, now); !ok {
			b.Fatal("refused")
		}
	}
}

// FuzzVerify: whatever is typed, a code is accepted only if it is the
// right 6 digits (spaces and dashes aside), and nothing panics.
func FuzzVerify(f *testing.F) {
	secret := make([]byte, 20)
	now := time.Unix(1_800_000_000, 0)
	right := Code(secret, Step(now), otp.DigitsSix)
	for _, s := range []string{right, right[:3] + " " + right[3:], "", "000000", "12345", "1234567", "١٢٣٤٥٦", "12-34-56", "\x00\xff", "        "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		step, ok := Verify(secret, code, now)
		if !ok {
			return
		}
		digits := strings.NewReplacer(" ", "", "-", "", "\u00a0", "").Replace(code)
		if len(digits) != 6 || digits != Code(secret, step, otp.DigitsSix) || step < Step(now)-Skew || step > Step(now)+Skew {
			t.Fatalf("Verify(%q) accepted at step %d", code, step)
		}
	})
}
