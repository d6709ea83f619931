package api

import (
	"net/http"
	"time"

	"github.com/gardien/gardien/internal/httpx"
	"github.com/gardien/gardien/internal/totp"
)

func (h *Handler) handleTwoFactorStatus(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	st, err := h.auth.TwoFactor(r.Context(), cur.User.ID)
	if err != nil {
		h.error(w, r, err)
		return
	}
	out := map[string]any{"enabled": st.Enabled, "recovery_codes_remaining": st.RecoveryCodesLeft}
	if st.Enabled {
		out["enabled_at"] = st.Since.Format(time.RFC3339)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) handleTwoFactorSetup(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	e, err := h.auth.BeginTwoFactor(r.Context(), cur.User)
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"secret": e.Secret, "otpauth_uri": e.URI, "qr_png": totp.DataURL(e.QRPNG)})
}

func (h *Handler) handleTwoFactorActivate(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	var in struct {
		Code *string `json:"code"`
	}
	if !h.body(w, r, &in, func() error { return required("code", in.Code) }) {
		return
	}
	act, err := h.auth.ActivateTwoFactor(r.Context(), cur.Session, cur.User, *in.Code, httpx.Client(r))
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.cookies.Set(w, act.Token, cur.Session.ExpiresAt)
	writeJSON(w, http.StatusOK, map[string]any{"recovery_codes": act.RecoveryCodes})
}

func (h *Handler) handleTwoFactorDisable(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	var in struct {
		Password *string `json:"password"`
	}
	if !h.body(w, r, &in, func() error { return required("password", in.Password) }) {
		return
	}
	tok, err := h.auth.DisableTwoFactor(r.Context(), cur.Session, cur.User, *in.Password, httpx.Client(r))
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.cookies.Set(w, tok, cur.Session.ExpiresAt)
	writeJSON(w, http.StatusOK, map[string]any{"enabled": false})
}

func (h *Handler) handleRecoveryCodes(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	var in struct {
		Password *string `json:"password"`
	}
	if !h.body(w, r, &in, func() error { return required("password", in.Password) }) {
		return
	}
	codes, err := h.auth.RegenerateRecoveryCodes(r.Context(), cur.User, *in.Password, httpx.Client(r))
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"recovery_codes": codes})
}

func (h *Handler) handleLoginTwoFactor(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	var in struct {
		Code         *string `json:"code"`
		RecoveryCode *string `json:"recovery_code"`
	}
	if !h.body(w, r, &in, nil) {
		return
	}
	code, recovery := "", ""
	if in.Code != nil {
		code = *in.Code
	}
	if in.RecoveryCode != nil {
		recovery = *in.RecoveryCode
	}
	step, err := h.auth.VerifySecondFactor(r.Context(), cur.Session, cur.User, code, recovery, httpx.Client(r))
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.cookies.Set(w, step.Token, cur.Session.ExpiresAt)
	out := map[string]any{"status": "ok"}
	if step.UsedRecoveryCode {
		out["recovery_codes_remaining"] = step.RecoveryCodesLeft
	}
	writeJSON(w, http.StatusOK, out)
}
