package i18n

import (
	"sync"
	"time"
	"unicode/utf8"

	_ "time/tzdata" // time zones by name, also where the system has none (containers)
)

// frMonths are the months as French abbreviates them (Go's time package
// writes English names only).
var frMonths = [...]string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."}

// DateTime writes t in the time zone zone as lang writes it, with the
// zone's abbreviation so that a reader knows which clock it is:
// "Nov 25, 2026, 14:05 CET", "25 nov. 2026, 14:05 CET".
func DateTime(lang string, t time.Time, zone *time.Location) string {
	t = t.In(zone)
	if lang == "fr" {
		return t.Format("2 ") + frMonths[t.Month()-1] + t.Format(" 2006, 15:04 MST")
	}
	return t.Format("Jan 2, 2006, 15:04 MST")
}

// Date writes the day of t in lang, in the time zone zone: "Nov 25, 2026",
// "25 nov. 2026".
func Date(lang string, t time.Time, zone *time.Location) string {
	t = t.In(zone)
	if lang == "fr" {
		return t.Format("2 ") + frMonths[t.Month()-1] + t.Format(" 2006")
	}
	return t.Format("Jan 2, 2006")
}

var zones sync.Map // name → *time.Location, only names that load

// Zone is the time zone named name (an IANA name such as "Europe/Paris", as
// a browser reports it), or UTC when the name is empty, unknown or odd.
// Loaded zones are kept: there are a few hundred names, and an unknown name
// is not kept, so the cache cannot grow without bound.
func Zone(name string) *time.Location {
	// time.LoadLocation refuses paths (".." or a leading "/"); "Local"
	// would be the server's zone, not the reader's.
	if name == "" || len(name) > 64 || name == "Local" || !utf8.ValidString(name) {
		return time.UTC
	}
	if z, ok := zones.Load(name); ok {
		return z.(*time.Location)
	}
	z, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	zones.Store(name, z)
	return z
}
