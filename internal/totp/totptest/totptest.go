// Package totptest reads back what a QR code holds, as an authenticator
// app's camera would, for tests (github.com/makiuchi-d/gozxing).
package totptest

import (
	"bytes"
	"encoding/base64"
	"image"
	_ "image/png" // QR codes are PNGs
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// DecodeQR returns the text of a QR code PNG, or a data:image/png URL of one.
func DecodeQR(t testing.TB, png []byte) string {
	t.Helper()
	if s := string(png); strings.HasPrefix(s, "data:image/png;base64,") {
		var err error
		if png, err = base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "data:image/png;base64,")); err != nil {
			t.Fatalf("QR data URL: %v", err)
		}
	}
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		t.Fatalf("QR image: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	// The image is generated, not photographed: PURE_BARCODE reads it as
	// such. Without the hint, gozxing's finder fails on about 1 code in
	// 130 that zbarimg reads fine (a decoder limit, not a bad image).
	pure := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, pure)
	if err != nil {
		t.Fatalf("QR code does not decode: %v", err)
	}
	return res.GetText()
}
