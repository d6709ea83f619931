package api

import (
	"net/http"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/httpx"
)

func tokenJSON(t gardien.APIToken) map[string]any {
	return map[string]any{"id": t.ID, "name": t.Name, "scopes": t.Scopes, "prefix": t.Prefix,
		"created_at": timeOrNull(t.CreatedAt), "expires_at": timeOrNull(t.ExpiresAt), "last_used_at": timeOrNull(t.LastUsedAt)}
}

func (h *Handler) handleTokens(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	tokens, err := h.auth.TokensOf(r.Context(), cur.User)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"tokens": each(tokens, tokenJSON)})
}

func (h *Handler) handleCreateToken(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	var in struct {
		Name      *string  `json:"name"`
		Scopes    []string `json:"scopes"`
		ExpiresAt *string  `json:"expires_at"`
	}
	if err := h.body(w, r, &in, func() error { return required("name", in.Name) }); err != nil {
		return err
	}
	var expires time.Time // none
	if in.ExpiresAt != nil {
		var err error
		if expires, err = parseDeadline(*in.ExpiresAt); err != nil {
			return gardien.Invalid("expires_at", "err.token_expiry")
		}
	}
	made, err := h.auth.CreateToken(r.Context(), cur.User, *in.Name, in.Scopes, expires, httpx.Client(r))
	if err != nil {
		return err
	}
	out := tokenJSON(*made.APIToken)
	out["token"] = made.Token
	return writeJSON(w, http.StatusCreated, map[string]any{"token": out})
}

func (h *Handler) handleRevokeToken(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	id, err := pathID(r, "token")
	if err != nil {
		return err
	}
	if err := h.auth.RevokeToken(r.Context(), cur.User, id, httpx.Client(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
