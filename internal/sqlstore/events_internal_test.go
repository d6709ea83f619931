package sqlstore

import (
	"testing"

	"github.com/gardien/gardien"
)

// TestEventDataReadsLinesWrittenBeforeIt: audit lines written when events
// held an English sentence come back as that text, to be shown as it is.
func TestEventDataReadsLinesWrittenBeforeIt(t *testing.T) {
	for detail, want := range map[string]gardien.EventData{
		"":                                nil,
		"as member":                       {"text": "as member"},
		"{not json":                       {"text": "{not json"},
		`{"role":"admin","reminded":"3"}`: {"role": "admin", "reminded": "3"},
	} {
		got := decodeEventData(detail)
		if len(got) != len(want) {
			t.Fatalf("%q: %v, want %v", detail, got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("%q: %v, want %v", detail, got, want)
			}
		}
	}
	if encodeEventData(nil) != "" || decodeEventData(encodeEventData(gardien.EventData{"a": "b"}))["a"] != "b" {
		t.Fatal("round trip")
	}
}
