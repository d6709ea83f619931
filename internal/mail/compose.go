package mail

import (
	"bytes"
	"embed"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/i18n"
)

//go:embed templates
var templates embed.FS

// Letter is what a mail says, before it is put in a language.
type Letter struct {
	Kind string // catalog prefix: mail.<Kind>.subject, .body, .action
	To   string
	Name string // the person's name, for the greeting
	Lang string
	Link string // the one action link, if any
	Args []any  // arguments of the body message
	// Expires is when Link stops working (zero: the mail is a notice).
	Expires time.Time
}

// Browser is a User-Agent among a letter's arguments, written in the
// letter's language as the Sessions page says it ("Chrome on Linux").
type Browser string

// Composer turns letters into messages in the person's language.
type Composer struct {
	cat  *i18n.Catalog
	text *texttemplate.Template
	html *htmltemplate.Template
}

// NewComposer parses the mail templates.
func NewComposer(cat *i18n.Catalog) (*Composer, error) {
	t, err := texttemplate.ParseFS(templates, "templates/mail.txt")
	if err != nil {
		return nil, err
	}
	h, err := htmltemplate.ParseFS(templates, "templates/mail.html")
	if err != nil {
		return nil, err
	}
	return &Composer{cat: cat, text: t, html: h}, nil
}

// Compose writes l in its language.
func (c *Composer) Compose(l Letter) (Message, error) {
	t := func(k string, args ...any) string { return c.cat.T(l.Lang, k, args...) }
	// Dates among the arguments are written in the letter's language (UTC,
	// said so: a mail does not know its reader's time zone).
	args := make([]any, len(l.Args))
	for i, a := range l.Args {
		switch v := a.(type) {
		case time.Time:
			a = i18n.DateTime(l.Lang, v, time.UTC)
		case Browser:
			switch b, sys := gardien.DescribeUserAgent(string(v)); {
			case b == "":
				a = t("sessions.unknown_browser")
			case sys == "":
				a = b
			default:
				a = t("sessions.on", b, sys)
			}
		}
		args[i] = a
	}
	greeting := t("mail.greeting_anonymous")
	if l.Name != "" {
		greeting = t("mail.greeting", l.Name)
	}
	// A subject that names something (the organization of an invitation)
	// takes the body's arguments; one that does not, none.
	subject := t("mail." + l.Kind + ".subject")
	if strings.Contains(subject, "%") {
		subject = t("mail."+l.Kind+".subject", args...)
	}
	data := struct {
		Lang, Subject, Greeting, Body, Action, Link, Footer string
	}{l.Lang, subject, greeting, t("mail."+l.Kind+".body", args...),
		t("mail." + l.Kind + ".action"), l.Link, t("mail.footer")}
	var text, html bytes.Buffer
	if err := c.text.Execute(&text, data); err != nil {
		return Message{}, err
	}
	if err := c.html.Execute(&html, data); err != nil {
		return Message{}, err
	}
	return Message{To: l.To, Subject: data.Subject, Text: text.String(), HTML: html.String(), Expires: l.Expires}, nil
}
