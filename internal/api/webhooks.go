package api

import (
	"net/http"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
)

func webhookJSON(w gardien.Webhook) map[string]any {
	return map[string]any{"id": w.ID, "url": w.URL, "events": w.Events, "enabled": w.DisabledAt.IsZero(),
		"created_at": timeOrNull(w.CreatedAt), "disabled_at": timeOrNull(w.DisabledAt), "failing_since": timeOrNull(w.FailingSince),
		"old_secret_until": timeOrNull(w.OldSecretUntil)}
}

func webhookDeliveryJSON(d gardien.WebhookDelivery) map[string]any {
	return map[string]any{"id": d.ID, "event_id": d.Event.ID, "event_type": d.Event.Type, "state": d.State, "attempts": d.Attempts,
		"created_at": timeOrNull(d.CreatedAt), "last_attempt_at": timeOrNull(d.LastAttemptAt), "next_attempt_at": timeOrNull(d.NextAttemptAt),
		"response": d.Response}
}

// webhookInput is the body that adds or changes an endpoint.
type webhookInput struct {
	URL     *string  `json:"url"`
	Events  []string `json:"events"`
	Enabled *bool    `json:"enabled"`
}

func (h *Handler) handleWebhooks(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	hooks, err := h.auth.Webhooks(r.Context(), cur.User, orgID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"webhooks": each(hooks, webhookJSON)})
}

func (h *Handler) handleCreateWebhook(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	var in webhookInput
	if err := h.body(w, r, &in, func() error { return required("url", in.URL) }); err != nil {
		return err
	}
	made, err := h.auth.CreateWebhook(r.Context(), cur.User, orgID, auth.WebhookInput{URL: *in.URL, Events: in.Events}, httpx.Client(r))
	if err != nil {
		return err
	}
	out := webhookJSON(*made.Webhook)
	out["secret"] = made.Secret
	return writeJSON(w, http.StatusCreated, map[string]any{"webhook": out})
}

func (h *Handler) handleWebhook(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	id, err := pathID(r, "webhook")
	if err != nil {
		return err
	}
	hook, err := h.auth.Webhook(r.Context(), cur.User, orgID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"webhook": webhookJSON(*hook)})
}

// handleUpdateWebhook changes what the body names (url, events), and with
// "enabled": true turns an endpoint that was turned off on again.
func (h *Handler) handleUpdateWebhook(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	id, err := pathID(r, "webhook")
	if err != nil {
		return err
	}
	var in webhookInput
	if err := h.body(w, r, &in, nil); err != nil {
		return err
	}
	if in.Enabled != nil && !*in.Enabled {
		return gardien.Invalid("enabled", "err.webhook_enable")
	}
	hook, err := h.auth.Webhook(r.Context(), cur.User, orgID, id)
	if err != nil {
		return err
	}
	change := auth.WebhookInput{URL: hook.URL, Events: hook.Events}
	if in.URL != nil {
		change.URL = *in.URL
	}
	if in.Events != nil {
		change.Events = in.Events
	}
	hook, err = h.auth.UpdateWebhook(r.Context(), cur.User, orgID, id, change, in.Enabled != nil, httpx.Client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"webhook": webhookJSON(*hook)})
}

func (h *Handler) handleDeleteWebhook(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	id, err := pathID(r, "webhook")
	if err != nil {
		return err
	}
	if err := h.auth.DeleteWebhook(r.Context(), cur.User, orgID, id, httpx.Client(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) handleWebhookDeliveries(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	id, err := pathID(r, "webhook")
	if err != nil {
		return err
	}
	list, err := h.auth.WebhookDeliveries(r.Context(), cur.User, orgID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"deliveries": each(list, webhookDeliveryJSON)})
}

func (h *Handler) handleResendWebhook(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	id, err := pathID(r, "webhook")
	if err != nil {
		return err
	}
	deliveryID, err := pathID(r, "delivery")
	if err != nil {
		return err
	}
	n, err := h.auth.ResendWebhookDelivery(r.Context(), cur.User, orgID, id, deliveryID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, map[string]any{"delivery_id": n})
}

func (h *Handler) handleTestWebhook(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	id, err := pathID(r, "webhook")
	if err != nil {
		return err
	}
	n, err := h.auth.TestWebhook(r.Context(), cur.User, orgID, id, httpx.Client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, map[string]any{"delivery_id": n})
}

// handleRotateWebhookSecret answers the new secret, this once; the old one
// signs beside it until old_secret_until.
func (h *Handler) handleRotateWebhookSecret(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	id, err := pathID(r, "webhook")
	if err != nil {
		return err
	}
	made, err := h.auth.RotateWebhookSecret(r.Context(), cur.User, orgID, id, httpx.Client(r))
	if err != nil {
		return err
	}
	out := webhookJSON(*made.Webhook)
	out["secret"] = made.Secret
	return writeJSON(w, http.StatusOK, map[string]any{"webhook": out})
}
