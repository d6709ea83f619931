package metrics

import (
	"fmt"
	"strings"
	"testing"
)

// The counters docs/operations.md lists are exported at zero from the
// start, every series of them.
func TestCountersAreExportedAtZeroFromTheStart(t *testing.T) {
	m := New()
	want := []string{`gardien_two_factor_lockouts_total 0`, `gardien_throttled_total{limit="password"} 0`,
		`gardien_throttled_total{limit="second_factor"} 0`}
	for _, o := range LoginOutcomes {
		want = append(want, `gardien_logins_total{outcome="`+o+`"} 0`)
	}
	for _, o := range SecondStepOutcomes {
		want = append(want, `gardien_second_steps_total{outcome="`+o+`"} 0`)
	}
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, f := range families {
		for _, metric := range f.GetMetric() {
			labels := ""
			for _, l := range metric.GetLabel() {
				labels += l.GetName() + `="` + l.GetValue() + `"`
			}
			if labels != "" {
				labels = "{" + labels + "}"
			}
			if c := metric.GetCounter(); c != nil {
				fmt.Fprintf(&text, "%s%s %g\n", f.GetName(), labels, c.GetValue())
			}
		}
	}
	for _, w := range want {
		if !strings.Contains(text.String(), w+"\n") {
			t.Errorf("missing at start: %s\nexported:\n%s", w, text.String())
		}
	}
}
