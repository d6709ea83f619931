package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
)

// webhooksPage is Organization settings → Webhooks (its owners'): an
// endpoint just added (its secret, this once), the list, the form.
type webhooksPage struct {
	Page
	Webhooks []gardien.Webhook
	Events   []string
	Made     *auth.NewWebhook
}

// Checked says whether an event type's box is ticked (as sent, after a
// refusal; an endpoint's own on its page).
func (p *webhooksPage) Checked(t string) bool { return slices.Contains(p.Form["events"], t) }

// ownedPage starts a page only an organization's owners see; others go to
// its members page.
func (h *Handler) ownedPage(w http.ResponseWriter, r *http.Request, cur *httpx.Current, title, section string) *Page {
	p := h.managedPage(w, r, cur, title, section)
	if p != nil && p.Org.Role != gardien.RoleOwner {
		redirect(w, r, orgURL(r, "members"))
		return nil
	}
	return p
}

func (h *Handler) renderWebhooks(w http.ResponseWriter, r *http.Request, cur *httpx.Current, p *Page, status int, err error, made *auth.NewWebhook) {
	wp := webhooksPage{Page: *p, Events: auth.WebhookEventTypes(), Made: made}
	wp.Form = url.Values{}
	if r.Method == http.MethodPost && made == nil {
		wp.Form = url.Values{"url": {r.PostForm.Get("url")}, "events": r.PostForm["events"]}
	}
	if err != nil && !h.formError(&wp.Page, err) {
		h.Fail(w, r, err)
		return
	}
	var e error
	if wp.Webhooks, e = h.Auth.Webhooks(r.Context(), cur.User, p.Org.ID); e != nil {
		h.Fail(w, r, e)
		return
	}
	h.render(w, r, status, "org_webhooks", &wp)
}

func (h *Handler) handleWebhooksPage(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if p := h.ownedPage(w, r, cur, "webhooks.title", "webhooks"); p != nil {
		h.renderWebhooks(w, r, cur, p, http.StatusOK, nil, nil)
	}
}

// handleCreateWebhook adds an endpoint and shows its secret on the page it
// answers with (never in a redirect's URL or a flash).
func (h *Handler) handleCreateWebhook(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.webhooksForm(w, r, cur)
	if p == nil {
		return
	}
	made, err := h.Auth.CreateWebhook(r.Context(), cur.User, p.Org.ID, webhookInput(r), httpx.Client(r))
	if err != nil {
		h.renderWebhooks(w, r, cur, p, statusOf(err), err, nil)
		return
	}
	h.renderWebhooks(w, r, cur, p, http.StatusCreated, nil, made)
}

// webhooksForm starts the answer to a webhooks form: the form read, an
// owner's page (nil: answered already).
func (h *Handler) webhooksForm(w http.ResponseWriter, r *http.Request, cur *httpx.Current) *Page {
	if !h.form(w, r) {
		return nil
	}
	return h.ownedPage(w, r, cur, "webhooks.title", "webhooks")
}

func webhookPath(orgID, id int64) string {
	return fmt.Sprintf("/organizations/%d/webhooks/%d", orgID, id)
}

func webhookInput(r *http.Request) auth.WebhookInput {
	return auth.WebhookInput{URL: r.PostForm.Get("url"), Events: r.PostForm["events"]}
}

// webhookPage is one endpoint: its settings, its delivery log.
type webhookPage struct {
	webhooksPage
	Webhook    *gardien.Webhook
	Deliveries []gardien.WebhookDelivery
	Base       string
}

func (h *Handler) renderWebhook(w http.ResponseWriter, r *http.Request, cur *httpx.Current, p *Page, status int, err error, made *auth.NewWebhook) {
	orgID, id := p.Org.ID, pathID(r, "webhook")
	hook, e := h.Auth.Webhook(r.Context(), cur.User, orgID, id)
	if e != nil {
		h.done(w, r, e, orgURL(r, "webhooks"), "")
		return
	}
	wp := webhookPage{webhooksPage: webhooksPage{Page: *p, Events: auth.WebhookEventTypes(), Made: made}, Webhook: hook,
		Base: webhookPath(orgID, id)}
	wp.Form = url.Values{"url": {hook.URL}, "events": hook.Events}
	if err != nil {
		wp.Form = url.Values{"url": {r.PostForm.Get("url")}, "events": r.PostForm["events"]}
		if !h.formError(&wp.Page, err) {
			h.Fail(w, r, err)
			return
		}
	}
	if wp.Deliveries, e = h.Auth.WebhookDeliveries(r.Context(), cur.User, orgID, id); e != nil {
		h.Fail(w, r, e)
		return
	}
	h.render(w, r, status, "org_webhook", &wp)
}

func (h *Handler) handleWebhookPage(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if p := h.ownedPage(w, r, cur, "webhooks.title", "webhooks"); p != nil {
		h.renderWebhook(w, r, cur, p, http.StatusOK, nil, nil)
	}
}

func (h *Handler) handleUpdateWebhook(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.webhooksForm(w, r, cur)
	if p == nil {
		return
	}
	id := pathID(r, "webhook")
	_, err := h.Auth.UpdateWebhook(r.Context(), cur.User, p.Org.ID, id, webhookInput(r), false, httpx.Client(r))
	if e, ok := gardien.AsError(err); ok && len(e.Fields) > 0 {
		h.renderWebhook(w, r, cur, p, statusOf(err), err, nil)
		return
	}
	h.done(w, r, err, webhookPath(p.Org.ID, id), "webhooks.saved")
}

// handleEnableWebhook turns an endpoint that was turned off on again, as
// it is.
func (h *Handler) handleEnableWebhook(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.webhooksForm(w, r, cur)
	if p == nil {
		return
	}
	id := pathID(r, "webhook")
	to := webhookPath(p.Org.ID, id)
	hook, err := h.Auth.Webhook(r.Context(), cur.User, p.Org.ID, id)
	if err == nil {
		_, err = h.Auth.UpdateWebhook(r.Context(), cur.User, p.Org.ID, id, auth.WebhookInput{URL: hook.URL, Events: hook.Events}, true, httpx.Client(r))
	}
	h.done(w, r, err, to, "webhooks.enabled")
}

func (h *Handler) handleResendWebhook(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.webhooksForm(w, r, cur)
	if p == nil {
		return
	}
	id := pathID(r, "webhook")
	_, err := h.Auth.ResendWebhookDelivery(r.Context(), cur.User, p.Org.ID, id, pathID(r, "delivery"))
	h.done(w, r, err, webhookPath(p.Org.ID, id), "webhooks.resent")
}

func (h *Handler) handleTestWebhook(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.webhooksForm(w, r, cur)
	if p == nil {
		return
	}
	id := pathID(r, "webhook")
	_, err := h.Auth.TestWebhook(r.Context(), cur.User, p.Org.ID, id, httpx.Client(r))
	h.done(w, r, err, webhookPath(p.Org.ID, id), "webhooks.test_sent")
}

// handleRotateWebhookSecret shows the endpoint's new secret on its page,
// this once.
func (h *Handler) handleRotateWebhookSecret(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.webhooksForm(w, r, cur)
	if p == nil {
		return
	}
	id := pathID(r, "webhook")
	made, err := h.Auth.RotateWebhookSecret(r.Context(), cur.User, p.Org.ID, id, httpx.Client(r))
	if err != nil {
		h.done(w, r, err, webhookPath(p.Org.ID, id), "")
		return
	}
	h.renderWebhook(w, r, cur, p, http.StatusOK, nil, made)
}

// webhookDeletePage asks before an endpoint and its log go.
type webhookDeletePage struct {
	Page
	Webhook *gardien.Webhook
}

func (h *Handler) handleDeleteWebhookPage(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.ownedPage(w, r, cur, "webhooks.title", "webhooks")
	if p == nil {
		return
	}
	hook, err := h.Auth.Webhook(r.Context(), cur.User, p.Org.ID, pathID(r, "webhook"))
	if err != nil {
		h.done(w, r, err, orgURL(r, "webhooks"), "")
		return
	}
	h.render(w, r, http.StatusOK, "org_webhook_delete", &webhookDeletePage{Page: *p, Webhook: hook})
}

func (h *Handler) handleDeleteWebhook(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.webhooksForm(w, r, cur)
	if p == nil {
		return
	}
	err := h.Auth.DeleteWebhook(r.Context(), cur.User, p.Org.ID, pathID(r, "webhook"), httpx.Client(r))
	h.done(w, r, err, orgURL(r, "webhooks"), "webhooks.deleted")
}
