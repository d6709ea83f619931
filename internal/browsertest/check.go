package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/gardien/gardien/internal/testenv"
)

// Widths are the viewport widths a checked page is tried at: a phone and a
// laptop.
var Widths = []int64{375, 768, 1280}

// overflowJS lists what sticks out: the page or any element wider than the
// room it has (a sideways scroll, or content cut off). Form controls scroll
// their own text and are left out.
const overflowJS = `(() => {
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "");
  // Content clipped on purpose (visually hidden, for screen readers only).
  const clipped = (el) => { for (; el; el = el.parentElement) if (el.clientWidth <= 1 && getComputedStyle(el).overflow === "hidden") return true; return false; };
  const bad = [];
  const page = document.documentElement;
  if (page.scrollWidth > page.clientWidth) bad.push("the page is " + page.scrollWidth + "px wide in a " + page.clientWidth + "px window");
  for (const el of document.body.querySelectorAll("*")) {
    if (el.matches("input, select, textarea, option, script, style, [popover]:not(:popover-open), dialog:not([open])")) continue;
    if (el.closest("[hidden], dialog:not([open]), [popover]:not(:popover-open)") || clipped(el)) continue;
    if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
      bad.push(name(el) + " holds " + el.scrollWidth + "px in " + el.clientWidth + "px: " + JSON.stringify(el.textContent.trim().slice(0, 60)));
    }
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > page.clientWidth + 1) {
      bad.push(name(el) + " ends at " + Math.round(r.right) + "px, past the " + page.clientWidth + "px window");
    }
  }
  // A secret key, written in groups of four, breaks between groups
  // only: each group on one line.
  for (const el of document.querySelectorAll(".secret")) {
    const text = el.firstChild;
    if (!text || text.nodeType !== Node.TEXT_NODE) continue;
    for (const m of text.data.matchAll(/\S+/g)) {
      const range = document.createRange();
      range.setStart(text, m.index);
      range.setEnd(text, m.index + m[0].length);
      if (range.getClientRects().length > 1) bad.push("the group " + m[0] + " of " + name(el) + " breaks across lines");
    }
  }
  return JSON.stringify(bad.slice(0, 12));
})()`

// focusJS tells whether the focused element shows it: an outline or a
// ring (box-shadow) of at least 2 px. It returns "" when it does, or the
// element when it does not, and "body" when nothing has the focus.
const focusJS = `(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return "body";
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
  const ring = s.boxShadow && s.boxShadow !== "none";
  if (outline || ring) return "";
  return el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " " + JSON.stringify((el.textContent || el.name || "").trim().slice(0, 40));
})()`

// axeJS runs axe-core on the page and lists its violations.
const axeJS = `axe.run(document, {resultTypes: ["violations"]}).then((r) => JSON.stringify(r.violations.map((v) => ({
  id: v.id, impact: v.impact, help: v.help,
  nodes: v.nodes.slice(0, 4).map((n) => n.target.join(" ") + " — " + (n.failureSummary || "").replace(/\s+/g, " ")),
}))))`

// Violation is one axe-core finding on a page.
type Violation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// blocking tells which findings fail a page: every serious or critical
// one, and the page's structure (one h1, one main) that people using a
// screen reader navigate by.
func (v Violation) blocking() bool {
	switch v.ID {
	case "page-has-heading-one", "landmark-one-main":
		return true
	}
	return v.Impact == "serious" || v.Impact == "critical"
}

// Check tries the page shown now at each of Widths: nothing may stick out
// sideways, and axe-core may find no serious or critical violation. Each
// width is saved as a screenshot of the whole page named name-WIDTH. The window is left at
// the last width.
func (b *Browser) Check(name string) {
	b.t.Helper()
	if b.axe == "" {
		b.axe = testenv.Axe(b.t)
	}
	for _, w := range Widths {
		ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
		var overflow []string
		var found []Violation
		err := func() error {
			if _, err := chromedp.Run(ctx, chromedp.EmulateViewport(w, 900)); err != nil {
				return err
			}
			s, err := chromedp.Run(ctx, chromedp.Evaluate[string](overflowJS))
			if err != nil {
				return fmt.Errorf("overflow check: %w", err)
			}
			if err := json.Unmarshal([]byte(s), &overflow); err != nil {
				return err
			}
			loaded, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe === "object"`))
			if !loaded {
				if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](b.axe+";0")); err != nil {
					return fmt.Errorf("inject axe-core: %w", err)
				}
			}
			s, err = chromedp.Run(ctx, chromedp.Evaluate[string](axeJS, chromedp.EvalAwaitPromise))
			if err != nil {
				return fmt.Errorf("axe-core: %w", err)
			}
			return json.Unmarshal([]byte(s), &found)
		}()
		cancel()
		shot := fmt.Sprintf("%s-%d", name, w)
		b.ShotPage(shot)
		if err != nil {
			b.fail("check "+shot, err)
		}
		var problems []string
		for _, o := range overflow {
			problems = append(problems, "sticks out: "+o)
		}
		for _, v := range found {
			line := fmt.Sprintf("axe %s (%s): %s\n        %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n        "))
			if v.blocking() {
				problems = append(problems, line)
			} else {
				b.t.Logf("%s at %dpx, not blocking: %s", name, w, line)
			}
		}
		if w == Widths[len(Widths)-1] {
			problems = append(problems, b.unfocusable()...)
		}
		if len(problems) > 0 {
			url, _ := chromedp.Run(b.ctx, chromedp.Location())
			b.t.Errorf("%s at %dpx (%s):\n  %s", name, w, url, strings.Join(problems, "\n  "))
		}
	}
}

// unfocusable walks the page with the Tab key, as a keyboard user does,
// and lists the elements that take the focus without showing it.
func (b *Browser) unfocusable() []string {
	var bad []string
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	seen := map[string]bool{}
	for range 60 {
		if _, err := chromedp.Run(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			return append(bad, "keyboard: "+err.Error())
		}
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](focusJS))
		if err != nil {
			return append(bad, "focus: "+err.Error())
		}
		if s == "body" || seen[s] {
			break // round the page and back
		}
		if s != "" {
			seen[s] = true
			bad = append(bad, "focus not visible on "+s)
		}
	}
	return bad
}
