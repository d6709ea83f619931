package web_test

import (
	"testing"

	"github.com/gardien/gardien/internal/i18n"
	"github.com/gardien/gardien/internal/web"
)

// BenchmarkNew measures what parsing the pages costs, in time and memory
// (B/op: what an idle server holds of them). Each language once parsed
// its own copy of every page; now one copy serves them all.
func BenchmarkNew(b *testing.B) {
	cat, err := i18n.Load()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := web.New(web.Config{Catalog: cat, FlashKey: make([]byte, 32)}); err != nil {
			b.Fatal(err)
		}
	}
}
