// Package i18n holds the message catalogs (English and French: the seed is
// French) and chooses a person's language.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"golang.org/x/text/language"
)

//go:embed catalog/*.json
var files embed.FS

// Supported are the languages Gardien speaks, the first being the fallback.
var Supported = []language.Tag{language.English, language.French}

// Catalog maps a language to its messages.
type Catalog struct {
	msgs    map[string]map[string]string
	matcher language.Matcher
}

// Load reads the embedded catalogs. Every language must have every key.
func Load() (*Catalog, error) {
	c := &Catalog{msgs: map[string]map[string]string{}, matcher: language.NewMatcher(Supported)}
	for _, tag := range Supported {
		lang := Base(tag)
		b, err := files.ReadFile("catalog/" + lang + ".json")
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		m := map[string]string{}
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
	s, ok := m[key]
	if !ok {
		return "[" + key + "]"
	}
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
