// Package totp is RFC 6238 time-based one-time passwords over
// github.com/pquerna/otp: new secrets, the otpauth:// URI that
// authenticator apps read (Key URI Format), its QR code, and code checks
// that say which time step matched, so the caller can refuse a replay.
package totp

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

const (
	// SecretSize is 160 bits, RFC 4226's recommended key length for HMAC-SHA1.
	SecretSize = 20
	// Period is the length of a time step.
	Period = 30
	// Skew is how many steps either side of now are accepted, for clocks
	// that drift.
	Skew = 1
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns a random 160-bit secret.
func NewSecret() []byte {
	s := make([]byte, SecretSize)
	rand.Read(s)
	return s
}

// Encode is the secret as authenticator apps take it: unpadded base32.
func Encode(secret []byte) string { return b32.EncodeToString(secret) }

// Group writes an encoded secret in groups of four, for people who type it.
func Group(encoded string) string {
	var b strings.Builder
	for i, r := range encoded {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Enrollment is what a person's app needs to add an account.
type Enrollment struct {
	Secret string // unpadded base32, exactly as in URI
	URI    string // otpauth://totp/Issuer:account?secret=…&issuer=…
	QRPNG  []byte // the URI as a QR code
}

// Enroll builds the otpauth URI (SHA1, 6 digits, 30 s: what every app
// understands) and its QR code.
func Enroll(secret []byte, issuer, account string) (*Enrollment, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: issuer, AccountName: account, Secret: secret,
		Period: Period, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, fmt.Errorf("totp: key: %w", err)
	}
	qr, err := key.Image(240, 240)
	if err != nil {
		return nil, fmt.Errorf("totp: QR code: %w", err)
	}
	// A white margin around the code (the "quiet zone"): scanners look for it.
	const margin = 24
	img := image.NewGray(image.Rect(0, 0, 240+2*margin, 240+2*margin))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(margin, margin, margin+240, margin+240), qr, qr.Bounds().Min, draw.Src)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("totp: QR code: %w", err)
	}
	return &Enrollment{Secret: key.Secret(), URI: key.URL(), QRPNG: buf.Bytes()}, nil
}

// DataURL is a PNG as a data: URL, for an <img> or a JSON field.
func DataURL(png []byte) string {
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
}

// Step is the time step of t.
func Step(t time.Time) int64 { return t.Unix() / Period }

// Code returns the code of a secret for a time step, with digits digits.
func Code(secret []byte, step int64, digits otp.Digits) string {
	code, err := hotp.GenerateCodeCustom(Encode(secret), uint64(step), hotp.ValidateOpts{Digits: digits, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		// Only an invalid base32 secret fails, and Encode makes valid ones.
		panic("totp: " + err.Error())
	}
	return code
}

// Verify checks a 6-digit code against the steps around now and returns
// the step it matched. Every candidate step is computed and compared in
// constant time, so timing says nothing of which one matched.
func Verify(secret []byte, code string, now time.Time) (step int64, ok bool) {
	code = normalize(code)
	if len(code) != 6 {
		return 0, false
	}
	cur := Step(now)
	for s := cur - Skew; s <= cur+Skew; s++ {
		if subtle.ConstantTimeCompare([]byte(Code(secret, s, otp.DigitsSix)), []byte(code)) == 1 && !ok {
			step, ok = s, true
		}
	}
	return step, ok
}

// normalize drops the spaces and dashes people type inside codes.
func normalize(code string) string {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\u00a0' {
			return -1
		}
		return r
	}, code)
	for _, r := range code {
		if r < '0' || r > '9' {
			return ""
		}
	}
	return code
}

// DecodeSecret reads an unpadded base32 secret, as Encode writes it.
func DecodeSecret(s string) ([]byte, error) {
	return b32.DecodeString(strings.ToUpper(strings.ReplaceAll(s, " ", "")))
}
