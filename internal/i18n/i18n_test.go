package i18n

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestCatalogsHaveTheSameKeys(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if m := c.Missing(); len(m) > 0 {
		t.Fatalf("keys missing: %v", m)
	}
	// The names the seed's click paths use.
	for key, want := range map[string][2]string{
		"nav.account_menu":          {"Account menu", "Menu du compte"},
		"nav.personal_settings":     {"Personal settings", "Paramètres personnels"},
		"nav.organization_settings": {"Organization settings", "Paramètres de l’organisation"},
		"nav.logout":                {"Log out", "Se déconnecter"},
		"field.email":               {"Email", "E-mail"},
		"field.password":            {"Password", "Mot de passe"},
		"login.submit":              {"Log in", "Se connecter"},
		"field.name":                {"Name", "Nom"},
		"signup.submit":             {"Sign up", "Créer un compte"},
	} {
		if en, fr := c.T("en", key), c.T("fr", key); en != want[0] || fr != want[1] {
			t.Errorf("%s = %q / %q, want %q / %q", key, en, fr, want[0], want[1])
		}
	}
	if got := c.T("en", "no.such.key"); got != "[no.such.key]" {
		t.Fatalf("unknown key shows as %q", got)
	}
	if got := c.T("fr", "signup.done", "a@b.fr"); got != "Compte créé. Nous avons envoyé un lien à a@b.fr : ouvrez-le pour valider votre e-mail." {
		t.Fatalf("formatted: %q", got)
	}
}

func TestMatch(t *testing.T) {
	c, _ := Load()
	for _, tc := range []struct{ saved, picked, accept, want string }{
		{"", "", "", "en"},
		{"", "", "fr-CA,fr;q=0.9,en;q=0.8", "fr"},
		{"", "", "de-DE,de;q=0.9", "en"},
		{"", "", "de-DE,fr;q=0.5", "fr"},
		{"", "fr", "en-US", "fr"},
		{"en", "fr", "fr", "en"},
		{"", "xx", "fr", "fr"},
		{"", "", "garbage;;q=", "en"},
	} {
		if got := c.Match(tc.saved, tc.picked, tc.accept); got != tc.want {
			t.Errorf("Match(%q, %q, %q) = %q, want %q", tc.saved, tc.picked, tc.accept, got, tc.want)
		}
	}
}

func TestPluralsFollowEachLanguagesRules(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lang string
		n    any
		want string
	}{
		{"en", "1", "Reminder sent to 1 member."},
		{"en", "0", "Reminder sent to 0 members."},
		{"en", "2", "Reminder sent to 2 members."},
		{"fr", "0", "Relance envoyée à 0 membre."}, // French: 0 and 1 are singular
		{"fr", "1", "Relance envoyée à 1 membre."},
		{"fr", "2", "Relance envoyée à 2 membres."},
	} {
		if got := c.T(tc.lang, "org.reminded", tc.n); got != tc.want {
			t.Errorf("%s %v: %q, want %q", tc.lang, tc.n, got, tc.want)
		}
	}
	if got := c.T("en", "tfa.locked", 1); !strings.HasSuffix(got, "in 1 minute.") {
		t.Errorf("tfa.locked 1: %q", got)
	}
}

func TestNoPluralHacks(t *testing.T) {
	for _, lang := range []string{"en", "fr"} {
		b, err := files.ReadFile("catalog/" + lang + ".json")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "(s)") {
			t.Errorf("%s.json writes a plural as (s): give it plural forms", lang)
		}
	}
}

func TestDatesInTheReadersLanguageAndZone(t *testing.T) {
	at := time.Date(2026, time.November, 25, 13, 5, 0, 0, time.UTC)
	paris := Zone("Europe/Paris")
	for _, c := range []struct {
		lang string
		zone *time.Location
		want string
	}{
		{"en", time.UTC, "Nov 25, 2026, 13:05 UTC"},
		{"en", paris, "Nov 25, 2026, 14:05 CET"},
		{"fr", paris, "25 nov. 2026, 14:05 CET"},
		{"fr", Zone("America/New_York"), "25 nov. 2026, 08:05 EST"},
	} {
		if got := DateTime(c.lang, at, c.zone); got != c.want {
			t.Errorf("%s in %s: %q, want %q", c.lang, c.zone, got, c.want)
		}
	}
	if got := Date("fr", at, paris); got != "25 nov. 2026" {
		t.Errorf("French day: %q", got)
	}
	// What a browser cannot be trusted to send falls back to UTC.
	for _, name := range []string{"", "Local", "../../etc/passwd", "/etc/localtime", "Mars/Olympus", "Europe/\xff", strings.Repeat("A", 65)} {
		if z := Zone(name); z != time.UTC {
			t.Errorf("zone %q: %v, want UTC", name, z)
		}
	}
}

// TestAuditDetailsInTheReadersLanguage: an event's data is written in the
// reader's words at display time; recorded values stay as they are.
func TestAuditDetailsInTheReadersLanguage(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	until := "2026-11-25T13:05:00Z"
	for _, tc := range []struct {
		data   map[string]string
		en, fr string
	}{
		{map[string]string{"email": "bob@example.com", "role": "member"}, "bob@example.com · as member", "bob@example.com · en tant que membre"},
		{map[string]string{"from_role": "member", "role": "admin"}, "Member → Admin", "Membre → Administrateur"},
		{map[string]string{"reminded": "1"}, "1 member reminded", "1 membre relancé"},
		{map[string]string{"reminded": "3"}, "3 members reminded", "3 membres relancés"},
		{map[string]string{"codes_left": "0"}, "0 recovery codes left", "0 code de récupération restant"},
		{map[string]string{"sessions": "kept", "notified": "without_two_factor"}, "open sessions kept · members without 2FA emailed", "sessions ouvertes conservées · membres sans 2FA prévenus par e-mail"},
		{map[string]string{"old_name": "Acme", "name": "Acme Corp"}, "Acme → Acme Corp", "Acme → Acme Corp"},
		{map[string]string{"until": until}, "until Nov 25, 2026, 13:05 UTC", "jusqu’au 25 nov. 2026, 13:05 UTC"},
		{map[string]string{"role": "member", "sso": ""}, "as member · through single sign-on", "en tant que membre · par l’authentification unique"},
		{map[string]string{"text": "as member"}, "as member", "as member"}, // a line written before events kept data
		{map[string]string{"role": "superhero"}, "as superhero", "en tant que superhero"},
	} {
		if got := c.EventDetail("en", time.UTC, tc.data); got != tc.en {
			t.Errorf("en %v: %q, want %q", tc.data, got, tc.en)
		}
		if got := c.EventDetail("fr", time.UTC, tc.data); got != tc.fr {
			t.Errorf("fr %v: %q, want %q", tc.data, got, tc.fr)
		}
	}
}

// TestNoKeyIsWrittenTwice: JSON lets a later key silently replace an
// earlier one (a new "org.left" once replaced "You left the organization.").
func TestNoKeyIsWrittenTwice(t *testing.T) {
	for _, tag := range Supported {
		lang := Base(tag)
		b, err := files.ReadFile("catalog/" + lang + ".json")
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		if _, err := dec.Token(); err != nil { // {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			key := k.(string)
			if seen[key] {
				t.Errorf("%s.json: %q twice", lang, key)
			}
			seen[key] = true
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// French typography: the typographic apostrophe (’), a narrow no-break
// space (U+202F) before : ; ? ! and inside « ».
func TestFrenchTypography(t *testing.T) {
	b, err := files.ReadFile("catalog/fr.json")
	if err != nil {
		t.Fatal(err)
	}
	var cat map[string]any
	if err := json.Unmarshal(b, &cat); err != nil {
		t.Fatal(err)
	}
	badSpace := regexp.MustCompile(`[ \x{00a0}][:;?!]`)     // a plain or wide no-break space before them
	noSpace := regexp.MustCompile(`[\p{L}\p{N}%»)”’][?!;]`) // none at all
	check := func(key, s string) {
		switch {
		case strings.Contains(s, "'"):
			t.Errorf("%s: a straight apostrophe (’ in French): %q", key, s)
		case badSpace.MatchString(s) || noSpace.MatchString(s):
			t.Errorf("%s: a narrow no-break space (U+202F) goes before : ; ? !: %q", key, s)
		case strings.Contains(s, "«") && !strings.Contains(s, "«\u202f"), strings.Contains(s, "»") && !strings.Contains(s, "\u202f»"):
			t.Errorf("%s: narrow no-break spaces go inside « »: %q", key, s)
		}
	}
	for key, v := range cat {
		switch v := v.(type) {
		case string:
			check(key, v)
		case map[string]any:
			for form, s := range v {
				check(key+"."+form, s.(string))
			}
		}
	}
}
