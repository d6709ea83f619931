package mail

import (
	"bytes"
	"context"
	"embed"
	htmltemplate "html/template"
	"log/slog"
	"sync"
	texttemplate "text/template"
	"time"

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
}

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
	greeting := t("mail.greeting_anonymous")
	if l.Name != "" {
		greeting = t("mail.greeting", l.Name)
	}
	data := struct {
		Lang, Subject, Greeting, Body, Action, Link, Footer string
	}{l.Lang, t("mail." + l.Kind + ".subject"), greeting, t("mail."+l.Kind+".body", l.Args...),
		t("mail." + l.Kind + ".action"), l.Link, t("mail.footer")}
	var text, html bytes.Buffer
	if err := c.text.Execute(&text, data); err != nil {
		return Message{}, err
	}
	if err := c.html.Execute(&html, data); err != nil {
		return Message{}, err
	}
	return Message{To: l.To, Subject: data.Subject, Text: text.String(), HTML: html.String()}, nil
}

// Queue sends mails in the background, so a request does not wait on the
// mail server and an answer's timing says nothing of whether a mail left.
// A few workers send at once (a mail server is not flooded by a reminder
// to a whole organization); Send waits when the queue is full. Wait lets
// queued mails leave at shutdown.
type Queue struct {
	Sender  Sender
	Log     *slog.Logger
	Workers int // 4 when zero

	once    sync.Once
	ch      chan Message
	pending sync.WaitGroup
}

func (q *Queue) start() {
	q.ch = make(chan Message, 1024)
	n := q.Workers
	if n <= 0 {
		n = 4
	}
	for range n {
		go func() {
			for m := range q.ch {
				q.deliver(m)
				q.pending.Done()
			}
		}()
	}
}

// Send queues m, waiting for room while the queue is full.
func (q *Queue) Send(ctx context.Context, m Message) error {
	q.once.Do(q.start)
	q.pending.Add(1)
	select {
	case q.ch <- m:
		return nil
	case <-ctx.Done():
		q.pending.Done()
		return ctx.Err()
	}
}

// deliver sends m, trying three times over about 20 seconds, then logs.
func (q *Queue) deliver(m Message) {
	var err error
	for attempt, wait := 1, time.Second; attempt <= 3; attempt, wait = attempt+1, wait*4 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err = q.Sender.Send(ctx, m)
		cancel()
		if err == nil {
			return
		}
		if attempt < 3 {
			time.Sleep(wait)
		}
	}
	q.Log.Error("mail not sent", "subject", m.Subject, "err", err)
}

// Wait blocks until queued mails are sent or ctx ends.
func (q *Queue) Wait(ctx context.Context) {
	done := make(chan struct{})
	go func() { q.pending.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
