// Package browsertest drives headless Chromium (Debian's /usr/bin/chromium,
// through github.com/chromedp/chromedp) the way a person uses the pages:
// controls are found by their role and accessible name, fields by their
// visible label, and every step can be saved as a screenshot.
package browsertest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/gardien/gardien/internal/testenv"
)

// Browser is one headless Chromium with one tab.
type Browser struct {
	t     testing.TB
	ctx   context.Context
	shots string
	step  int
	axe   string // axe-core's source, read at the first Check
}

// New starts Chromium whose pages ask for lang (Accept-Language), and
// saves screenshots under dir/<test name>; flags are Chromium's own more
// (host-resolver-rules, say).
func New(t testing.TB, lang string, flags ...chromedp.ExecAllocatorOption) *Browser {
	t.Helper()
	exec := testenv.Chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exec),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("accept-lang", lang),
		chromedp.Flag("lang", lang),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 800),
	)
	opts = append(opts, flags...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // start the browser now, to fail early
		t.Fatalf("start chromium (%s): %v", exec, err)
	}
	dir := os.Getenv("GARDIEN_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("testdata", "screenshots")
	}
	dir = filepath.Join(dir, regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(t.Name(), "_"))
	os.RemoveAll(dir) // only this run's steps
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &Browser{t: t, ctx: ctx, shots: dir}
}

// do runs actions, trying again for a while: a query that starts while a
// page is being replaced (after a click that navigates) holds the old
// document and never matches, so each try is short and starts afresh.
func (b *Browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		err = chromedp.Do(ctx, actions...)
		cancel()
		if err == nil || b.ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		b.fail(what, err)
	}
}

// fail stops the test with a screenshot, the URL and the text of the page.
func (b *Browser) fail(what string, err error) {
	b.t.Helper()
	b.Shot("failed")
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	url, _ := chromedp.Run(ctx, chromedp.Location())
	b.t.Fatalf("%s: %v\nat %s, page text:\n%s", what, err, url, body)
}

// Open loads a URL and waits for the page.
func (b *Browser) Open(url string) {
	b.t.Helper()
	b.do("open "+url, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body")))
}

// byName finds elements by their computed role and accessible name, as
// assistive technology and people see them.
func byName(role, name string) chromedp.QueryOption {
	return chromedp.ByFunc(func(ctx context.Context, t *chromedp.Target, n *chromedp.Node) ([]cdp.NodeID, error) {
		res, err := cdp.Call(ctx, t, accessibility.QueryAXTree, accessibility.QueryAXTreeParams{
			BackendNodeID: n.BackendNodeID, AccessibleName: name, Role: role})
		if err != nil {
			return nil, err
		}
		var ids []cdp.BackendNodeID
		for _, ax := range res.Nodes {
			if !ax.Ignored && ax.BackendDOMNodeID != 0 {
				ids = append(ids, ax.BackendDOMNodeID)
			}
		}
		if len(ids) == 0 {
			return nil, nil
		}
		pushed, err := cdp.Call(ctx, t, dom.PushNodesByBackendIDsToFrontend, dom.PushNodesByBackendIDsToFrontendParams{BackendNodeIDs: ids})
		return pushed.NodeIDs, err
	})
}

// Click clicks, with the mouse, the visible control of that role and name
// ("button", "link", "switch" …) that changes the page in place.
func (b *Browser) Click(role, name string) {
	b.t.Helper()
	b.do(fmt.Sprintf("click %s %q", role, name), chromedp.Click(role+" "+name, byName(role, name), chromedp.NodeVisible))
}

// Go clicks a link or a submit button and waits for the next page to load,
// so that the next step acts on it, not on the page being left.
func (b *Browser) Go(role, name string) {
	b.t.Helper()
	what := fmt.Sprintf("go by %s %q", role, name)
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil,
		chromedp.Click(role+" "+name, byName(role, name), chromedp.NodeVisible)))
	if err != nil {
		b.fail(what, err)
	}
}

// Has waits until a control of that role and name is visible.
func (b *Browser) Has(role, name string) {
	b.t.Helper()
	b.do(fmt.Sprintf("find %s %q", role, name), chromedp.WaitVisible(role+" "+name, byName(role, name)))
}

// field is the XPath of the input a visible label names.
func field(label string) string {
	return fmt.Sprintf(`//input[@id=//label[normalize-space()=%q]/@for]`, label)
}

// Fill types value into the field whose label reads label.
func (b *Browser) Fill(label, value string) {
	b.t.Helper()
	b.do(fmt.Sprintf("fill %q", label), chromedp.Clear(field(label), chromedp.NodeVisible), chromedp.SendKeys(field(label), value, chromedp.NodeVisible))
}

// Text returns the visible text of the page. A page still loading after a
// click is waited for.
func (b *Browser) Text() string {
	b.t.Helper()
	var err error
	for range 50 {
		var s string
		s, err = chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("body")))
		if err == nil {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("page text: %v", err)
	return ""
}

// See waits until the page's text contains s.
func (b *Browser) See(s string) {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		text := b.Text()
		if strings.Contains(text, s) {
			return
		}
		if time.Now().After(deadline) {
			b.Shot("not-seen")
			b.t.Fatalf("page never showed %q; it shows:\n%s", s, text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Location returns the current URL.
func (b *Browser) Location() string {
	b.t.Helper()
	u, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

// Shot saves a screenshot of the viewport as NN-name.png.
func (b *Browser) Shot(name string) string { return b.shot(name, chromedp.CaptureScreenshot()) }

// ShotPage saves a screenshot of the whole page, below the fold too.
func (b *Browser) ShotPage(name string) string { return b.shot(name, chromedp.FullScreenshot(100)) }

func (b *Browser) shot(name string, capture chromedp.Action[[]byte]) string {
	b.step++
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, capture)
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.step, name))
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
	return path
}

// Run runs chromedp actions on the tab, for what the helpers do not cover.
func (b *Browser) Run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.do(what, actions...)
}

// Context is the tab's chromedp context.
func (b *Browser) Context() context.Context { return b.ctx }

// Attr returns an attribute of the first element matching a CSS selector.
func (b *Browser) Attr(css, name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	res, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(css), name))
	if err != nil {
		b.t.Fatalf("attribute %s of %s: %v", name, css, err)
	}
	return res.Value
}

// UseCookies replaces the browser's cookies with these, as set by site
// (for instance an HTTP client's session): a test reaches a page at any
// session level without walking there first.
func (b *Browser) UseCookies(site string, cookies []*http.Cookie) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		b.t.Fatalf("clear cookies: %v", err)
	}
	for _, c := range cookies {
		if _, err := chromedp.Call(b.ctx, network.SetCookie, network.SetCookieParams{
			Name: c.Name, Value: c.Value, URL: site}); err != nil {
			b.t.Fatalf("set cookie %s: %v", c.Name, err)
		}
	}
}

// TimeZone makes the browser live in the time zone id ("Europe/Paris").
func (b *Browser) TimeZone(id string) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: id}); err != nil {
		b.t.Fatalf("time zone %s: %v", id, err)
	}
}

// UpdateDocs is the variable that lets the browser tests remake the
// README's pictures: a test run leaves the work tree as it found it, as
// golden files do.
const UpdateDocs = "GARDIEN_UPDATE_SCREENSHOTS"

// Doc saves a screenshot of the viewport as docs/screenshots/name.png, the
// pictures the README shows, when UpdateDocs is set; otherwise it says in
// the test's log which picture no longer shows its page. A picture is
// remade only when the page looks different: its fingerprint (the page's
// elements, its text with numbers and the secret key masked, and its style
// rules) is kept in the PNG, so that random keys, dates and ports do not
// change the file.
func (b *Browser) Doc(name string) {
	b.t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		b.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	look, err := chromedp.Run(ctx, chromedp.Evaluate[string](lookJS))
	if err != nil {
		b.t.Fatalf("page fingerprint %s: %v", name, err)
	}
	sum := sha256.Sum256([]byte(look))
	fingerprint := hex.EncodeToString(sum[:])
	path := filepath.Join(root, "docs", "screenshots", name+".png")
	if old, err := os.ReadFile(path); err == nil && pngText(old, fingerprintKey) == fingerprint {
		return // the page looks as pictured
	}
	if os.Getenv(UpdateDocs) == "" {
		b.t.Logf("docs/screenshots/%s.png no longer shows its page: %s=1 scripts/test -run '%s' ./internal/web remakes it",
			name, UpdateDocs, b.t.Name())
		return
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`window.scrollTo(0, 0)`)); err != nil { // from the top, as a reader arrives
		b.t.Fatalf("scroll %s: %v", name, err)
	}
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(path, withPNGText(buf, fingerprintKey, fingerprint), 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// lookJS describes how a page looks, without what changes at every run.
const lookJS = `(() => {
  const parts = [innerWidth + "x" + innerHeight];
  for (const el of document.querySelectorAll("body *")) parts.push(el.tagName + "." + el.className);
  const clone = document.body.cloneNode(true);
  for (const el of clone.querySelectorAll(".secret")) el.textContent = "";
  parts.push(clone.innerText.replace(/[0-9]/g, "0"));
  for (const sheet of document.styleSheets) for (const rule of sheet.cssRules) parts.push(rule.cssText);
  return parts.join("\n");
})()`

const fingerprintKey = "gardien-page"

// withPNGText adds a tEXt chunk key=value after a PNG's header chunk.
func withPNGText(png []byte, key, value string) []byte {
	const ihdrEnd = 8 + 4 + 4 + 13 + 4 // signature, IHDR length, type, data, CRC
	if len(png) < ihdrEnd {
		return png
	}
	data := append([]byte(key+"\x00"), value...)
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	chunk = append(chunk, "tEXt"...)
	chunk = append(chunk, data...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	out := append([]byte{}, png[:ihdrEnd]...)
	out = append(out, chunk...)
	return append(out, png[ihdrEnd:]...)
}

// pngText returns the value of a PNG's tEXt chunk key, or "".
func pngText(png []byte, key string) string {
	for i := 8; i+8 <= len(png); {
		n := int(binary.BigEndian.Uint32(png[i:]))
		typ := string(png[i+4 : i+8])
		if i+12+n > len(png) || n < 0 {
			return ""
		}
		if typ == "tEXt" {
			if k, v, ok := strings.Cut(string(png[i+8:i+8+n]), "\x00"); ok && k == key {
				return v
			}
		}
		if typ == "IDAT" {
			return "" // text chunks come before the image here
		}
		i += 12 + n
	}
	return ""
}
