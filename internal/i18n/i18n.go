// Package i18n holds the message catalogs (English and French: the seed is
// French) and chooses a person's language.
package i18n

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

//go:embed catalog/*.json
var files embed.FS

// Supported are the languages Gardien speaks, the first being the fallback.
var Supported = []language.Tag{language.English, language.French}

// Catalog maps a language to its messages.
type Catalog struct {
	msgs    map[string]map[string]message
	matcher language.Matcher
}

// message is a catalog entry: one text, or, for a message about a number,
// a text for each plural form of the language ("one", "other", and "zero",
// "two", "few", "many" where a language has them), chosen by the CLDR
// plural rules (golang.org/x/text/feature/plural) for the first numeric
// argument. No "(s)": "1 member", "2 members"; French says "0 membre".
type message struct {
	text  string
	forms map[plural.Form]string
}

var formNames = map[string]plural.Form{"zero": plural.Zero, "one": plural.One, "two": plural.Two,
	"few": plural.Few, "many": plural.Many, "other": plural.Other}

func (m *message) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &m.text); err == nil {
		return nil
	}
	var forms map[string]string
	if err := json.Unmarshal(b, &forms); err != nil {
		return fmt.Errorf("want a text or plural forms, got %s", b)
	}
	m.forms = map[plural.Form]string{}
	for name, text := range forms {
		f, ok := formNames[name]
		if !ok {
			return fmt.Errorf("unknown plural form %q", name)
		}
		m.forms[f] = text
	}
	if _, ok := m.forms[plural.Other]; !ok {
		return errors.New(`plural forms need "other"`)
	}
	return nil
}

// pick is the text of the message for lang and its arguments.
func (m message) pick(lang string, args []any) string {
	if m.forms == nil {
		return m.text
	}
	n, ok := firstNumber(args)
	if !ok {
		return m.forms[plural.Other]
	}
	form := plural.Cardinal.MatchPlural(language.Make(lang), n, 0, 0, 0, 0)
	if text, ok := m.forms[form]; ok {
		return text
	}
	return m.forms[plural.Other]
}

// firstNumber is the first argument that is a whole number (or a string of
// one: flash messages carry their arguments as text).
func firstNumber(args []any) (int, bool) {
	for _, a := range args {
		switch v := a.(type) {
		case int:
			return v, true
		case int64:
			return int(v), true
		case string:
			if n, err := strconv.Atoi(v); err == nil {
				return n, true
			}
		}
	}
	return 0, false
}

// Load reads the embedded catalogs. Every language must have every key.
func Load() (*Catalog, error) {
	c := &Catalog{msgs: map[string]map[string]message{}, matcher: language.NewMatcher(Supported)}
	for _, tag := range Supported {
		lang := Base(tag)
		b, err := files.ReadFile("catalog/" + lang + ".json")
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		m := map[string]message{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("i18n: %s.json: %w", lang, err)
		}
		c.msgs[lang] = m
	}
	if missing := c.Missing(); len(missing) > 0 {
		return nil, fmt.Errorf("i18n: keys missing: %s", strings.Join(missing, ", "))
	}
	return c, nil
}

// Base is a tag's two-letter language code.
func Base(t language.Tag) string {
	b, _ := t.Base()
	return b.String()
}

// Missing lists "lang:key" for each key some language lacks.
func (c *Catalog) Missing() []string {
	all := map[string]bool{}
	for _, m := range c.msgs {
		for k := range m {
			all[k] = true
		}
	}
	var out []string
	for lang, m := range c.msgs {
		for k := range all {
			if _, ok := m[k]; !ok {
				out = append(out, lang+":"+k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Has reports whether key exists (in the fallback language).
func (c *Catalog) Has(key string) bool {
	_, ok := c.msgs[Base(Supported[0])][key]
	return ok
}

// T returns the message key in lang, formatted with args (fmt verbs; use
// %[1]s forms where languages order words differently). An unknown key comes
// back as itself between brackets, so it shows and tests catch it.
func (c *Catalog) T(lang, key string, args ...any) string {
	m, ok := c.msgs[lang]
	if !ok {
		m = c.msgs[Base(Supported[0])]
	}
	msg, ok := m[key]
	if !ok {
		return "[" + key + "]"
	}
	s := msg.pick(lang, args)
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Match picks the language for a person: their saved choice first, then a
// language picked on the page (cookie), then the browser's Accept-Language.
func (c *Catalog) Match(saved, picked, acceptLanguage string) string {
	for _, s := range []string{saved, picked} {
		if c.Known(s) {
			return s
		}
	}
	tags, _, _ := language.ParseAcceptLanguage(acceptLanguage)
	tag, _, _ := c.matcher.Match(tags...)
	return Base(tag)
}

// Known reports whether lang is a supported language code.
func (c *Catalog) Known(lang string) bool {
	_, ok := c.msgs[lang]
	return ok
}

// ForRequest picks the language of a request: the person's saved choice
// (saved, "" for nobody or no choice), else the one picked on a page, else
// the browser's.
func (c *Catalog) ForRequest(r *http.Request, saved string) string {
	picked := ""
	if ck, err := r.Cookie(LangCookie); err == nil {
		picked = ck.Value
	}
	return c.Match(saved, picked, r.Header.Get("Accept-Language"))
}

// LangCookie remembers the language picked on a page before login.
const LangCookie = "gardien_lang"
