package i18n

import (
	"strconv"
	"strings"
	"time"
)

// detailKeys are the keys an audit event's data may hold
// (gardien.EventData), in the order their words are written.
var detailKeys = []string{"app", "email", "name", "old_name", "role", "from_role", "level", "sso", "reason",
	"codes_left", "reminded", "sessions", "session", "notified", "invitation", "protocol", "provider",
	"domain", "verified_by", "deadline", "until", "operator", "error", "cause", "text"}

// EventDetail writes an audit event's data in lang, dates in zone: the
// words are the reader's, the values (addresses, names) as recorded.
func (c *Catalog) EventDetail(lang string, zone *time.Location, d map[string]string) string {
	// word names a value from a closed list; one the catalog does not know
	// (written by a later version, say) shows as it is.
	word := func(prefix, v string) string {
		if c.Has(prefix + v) {
			return c.T(lang, prefix+v)
		}
		return v
	}
	count := func(key, v string) string {
		n, err := strconv.Atoi(v)
		if err != nil {
			return v
		}
		return c.T(lang, key, n)
	}
	var parts []string
	for _, k := range detailKeys {
		v, ok := d[k]
		if !ok {
			continue
		}
		s := ""
		switch k {
		case "app", "email", "domain", "provider", "text":
			s = v
		case "name":
			s = v
			if old, ok := d["old_name"]; ok {
				s = old + " → " + v
			}
		case "role":
			// Mid-sentence, a role is a common noun, with French elision:
			// "as admin", "en tant qu’administrateur".
			if c.Has("detail.as_role." + v) {
				s = c.T(lang, "detail.as_role."+v)
			} else {
				s = c.T(lang, "detail.as", strings.ToLower(word("role.", v)))
			}
			if from, ok := d["from_role"]; ok {
				s = word("role.", from) + " → " + word("role.", v)
			}
		case "level":
			s = word("detail.level.", v)
		case "sso":
			s = c.T(lang, "detail.sso")
			if v != "" {
				s = c.T(lang, "detail.sso_how", v)
			}
		case "reason":
			s = word("detail.reason.", v)
		case "error":
			s = c.T(lang, "detail.error", v)
		case "cause":
			s = word("detail.cause.", v)
		case "codes_left":
			s = count("detail.codes_left", v)
		case "reminded":
			s = count("detail.reminded", v)
		case "sessions":
			s = word("detail.sessions.", v)
		case "session":
			s = c.T(lang, "detail.session", v)
		case "notified":
			s = c.T(lang, "detail.notified")
		case "invitation":
			s = c.T(lang, "detail.invitation", v)
		case "protocol":
			s = word("detail.protocol.", v)
		case "verified_by":
			s = word("detail.verified_by.", v)
		case "until", "deadline":
			if t, err := time.Parse(time.RFC3339, v); err == nil {
				s = c.T(lang, "detail."+k, DateTime(lang, t, zone))
			}
		case "operator":
			s = c.T(lang, "detail.by_operator")
			if v != "" {
				s = c.T(lang, "detail.by_operator_named", v)
			}
		}
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " · ")
}
