package api

import (
	"encoding/json"
	"net/http"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
)

func passkeyJSON(p gardien.Passkey) map[string]any {
	return map[string]any{"id": p.ID, "name": p.Name, "created_at": timeOrNull(p.CreatedAt), "last_used_at": timeOrNull(p.LastUsedAt)}
}

func (h *Handler) handlePasskeys(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	keys, err := h.auth.PasskeysOf(r.Context(), cur.User)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(keys))
	for i, k := range keys {
		out[i] = passkeyJSON(k)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"passkeys": out})
}

// writeOptions answers a ceremony's options as the library made them
// ({"publicKey": …}), for navigator.credentials.create or get.
func writeOptions(w http.ResponseWriter, options []byte) error {
	return writeJSON(w, http.StatusOK, json.RawMessage(options))
}

func (h *Handler) handleBeginPasskey(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	options, err := h.auth.BeginPasskey(r.Context(), cur.Session, cur.User)
	if err != nil {
		return err
	}
	return writeOptions(w, options)
}

// keyAnswer checks a key's answer is a JSON object (the credential as a
// browser's toJSON() gives it); the ceremony checks the rest.
func keyAnswer(field string, v json.RawMessage) error {
	if len(v) == 0 || v[0] != '{' {
		return gardien.Invalid(field, "err.field_type")
	}
	return nil
}

func (h *Handler) handleFinishPasskey(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	var in struct {
		Name       *string         `json:"name"`
		Credential json.RawMessage `json:"credential"`
	}
	if err := h.body(w, r, &in, func() error {
		if err := required("name", in.Name); err != nil {
			return err
		}
		return keyAnswer("credential", in.Credential)
	}); err != nil {
		return err
	}
	added, err := h.auth.FinishPasskey(r.Context(), cur.Session, cur.User, *in.Name, in.Credential, httpx.Client(r))
	if err != nil {
		return err
	}
	out := map[string]any{"passkey": passkeyJSON(*added.Passkey)}
	if added.Token != "" {
		h.cookies.Set(w, added.Token, cur.Session.ExpiresAt)
	}
	if added.RecoveryCodes != nil {
		out["recovery_codes"] = added.RecoveryCodes
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (h *Handler) handleRenamePasskey(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	id, err := pathID(r, "passkey")
	if err != nil {
		return err
	}
	var in struct {
		Name *string `json:"name"`
	}
	if err := h.body(w, r, &in, func() error { return required("name", in.Name) }); err != nil {
		return err
	}
	if err := h.auth.RenamePasskey(r.Context(), cur.User, id, *in.Name, httpx.Client(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) handleRemovePasskey(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	id, err := pathID(r, "passkey")
	if err != nil {
		return err
	}
	var in struct {
		Password *string `json:"password"`
	}
	if err := h.body(w, r, &in, func() error { return required("password", in.Password) }); err != nil {
		return err
	}
	tok, err := h.auth.RemovePasskey(r.Context(), cur.Session, cur.User, id, *in.Password, httpx.Client(r))
	if err != nil {
		return err
	}
	if tok != "" {
		h.cookies.Set(w, tok, cur.Session.ExpiresAt)
	}
	// The last key of a person without an app turns 2FA off.
	return writeJSON(w, http.StatusOK, map[string]any{"two_factor_enabled": tok == ""})
}

// handleBeginKeyProof gives a session at its second step the challenge its
// key is to answer (POST /login/two-factor with assertion).
func (h *Handler) handleBeginKeyProof(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	options, err := h.auth.BeginKeyProof(r.Context(), cur.Session, cur.User)
	if err != nil {
		return err
	}
	return writeOptions(w, options)
}

// handleBeginPasskeyLogin begins a login with a passkey alone: the options
// for navigator.credentials.get, and a cookie that binds the login to this
// browser.
func (h *Handler) handleBeginPasskeyLogin(w http.ResponseWriter, r *http.Request) error {
	start, err := h.auth.BeginPasskeyLogin(r.Context(), httpx.Client(r))
	if err != nil {
		return err
	}
	h.cookies.SetPasskeyLogin(w, start.Token, auth.CeremonyLifetime)
	return writeOptions(w, start.Options)
}

func (h *Handler) handleFinishPasskeyLogin(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Assertion json.RawMessage `json:"assertion"`
	}
	if err := h.body(w, r, &in, func() error { return keyAnswer("assertion", in.Assertion) }); err != nil {
		return err
	}
	token := h.cookies.PasskeyLogin(r)
	h.cookies.ClearPasskeyLogin(w) // answered once, whatever the answer
	login, err := h.auth.FinishPasskeyLogin(r.Context(), token, h.cookies.Token(r), in.Assertion, h.cookies.LoginClient(w, r))
	if err != nil {
		return err
	}
	h.cookies.Set(w, login.Token, login.Session.ExpiresAt)
	return writeJSON(w, http.StatusOK, map[string]any{"status": login.Status})
}
