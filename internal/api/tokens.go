package api

import (
	"net/http"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
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

// tokenInput is the body that makes a token.
type tokenInput struct {
	Name      *string  `json:"name"`
	Scopes    []string `json:"scopes"`
	ExpiresAt *string  `json:"expires_at"`
}

// read decodes the body: the name, the scopes, the expiry (zero: none).
func (in *tokenInput) read(h *Handler, w http.ResponseWriter, r *http.Request) (time.Time, error) {
	if err := h.body(w, r, in, func() error { return required("name", in.Name) }); err != nil {
		return time.Time{}, err
	}
	if in.ExpiresAt == nil {
		return time.Time{}, nil
	}
	expires, err := parseDeadline(*in.ExpiresAt)
	if err != nil {
		return time.Time{}, gardien.Invalid("expires_at", "err.token_expiry")
	}
	return expires, nil
}

// writeMade answers a token just made, with its value this once.
func writeMade(w http.ResponseWriter, made *auth.NewToken) error {
	out := tokenJSON(*made.APIToken)
	out["token"] = made.Token
	return writeJSON(w, http.StatusCreated, map[string]any{"token": out})
}

func (h *Handler) handleCreateToken(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	var in tokenInput
	expires, err := in.read(h, w, r)
	if err != nil {
		return err
	}
	made, err := h.auth.CreateToken(r.Context(), cur.User, *in.Name, in.Scopes, expires, httpx.Client(r))
	if err != nil {
		return err
	}
	return writeMade(w, made)
}

func (h *Handler) handleOrgTokens(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	tokens, err := h.auth.OrgTokens(r.Context(), cur.User, orgID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"tokens": each(tokens, tokenJSON)})
}

func (h *Handler) handleCreateOrgToken(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	var in tokenInput
	expires, err := in.read(h, w, r)
	if err != nil {
		return err
	}
	made, err := h.auth.CreateOrgToken(r.Context(), cur.User, orgID, *in.Name, in.Scopes, expires, httpx.Client(r))
	if err != nil {
		return err
	}
	return writeMade(w, made)
}

func (h *Handler) handleRevokeOrgToken(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	id, err := pathID(r, "token")
	if err != nil {
		return err
	}
	if err := h.auth.RevokeOrgToken(r.Context(), cur.User, orgID, id, httpx.Client(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
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
