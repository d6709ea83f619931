package api

import (
	"net/http"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/httpx"
)

// scimJSON is an organization's SCIM settings: where its identity
// provider calls, and its token (never its value but once).
func (h *Handler) scimJSON(r *http.Request, orgID int64, t *gardien.SCIMToken) map[string]any {
	out := map[string]any{"enabled": t != nil, "base_url": h.auth.Links.SCIM(orgID),
		"token_prefix": nil, "created_at": nil, "last_used_at": nil}
	if t != nil {
		out["token_prefix"], out["created_at"], out["last_used_at"] = t.Prefix, timeOrNull(t.CreatedAt), timeOrNull(t.LastUsedAt)
	}
	return out
}

func (h *Handler) handleSCIM(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	t, _, err := h.auth.SCIMStatus(r.Context(), cur.User, orgID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"scim": h.scimJSON(r, orgID, t)})
}

// handleSCIMToken turns SCIM on, or replaces its token; the value is in
// this answer only.
func (h *Handler) handleSCIMToken(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	made, err := h.auth.TurnOnSCIM(r.Context(), cur.User, orgID, httpx.Client(r))
	if err != nil {
		return err
	}
	out := h.scimJSON(r, orgID, made.SCIMToken)
	out["token"] = made.Token
	return writeJSON(w, http.StatusCreated, map[string]any{"scim": out})
}

func (h *Handler) handleSCIMOff(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	if err := h.auth.TurnOffSCIM(r.Context(), cur.User, orgID, httpx.Client(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
