package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
	"github.com/gardien/gardien/internal/totp"
)

func (h *Handler) handleTwoFactorStatus(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	st, err := h.auth.TwoFactor(r.Context(), cur.User)
	if err != nil {
		return err
	}
	out := map[string]any{"enabled": st.Enabled, "recovery_codes_remaining": st.RecoveryCodesLeft,
		"app": st.App, "passkeys": len(st.Keys)}
	if st.App {
		out["enabled_at"] = st.Since.Format(time.RFC3339)
		c, err := h.auth.Checkup(r.Context(), cur.User)
		if err != nil {
			return err
		}
		out["checkup"] = map[string]any{"due": c.Due, "app_works": c.AppWorks, "can_postpone": c.CanPostpone}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *Handler) handleTwoFactorSetup(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	e, err := h.auth.BeginTwoFactor(r.Context(), cur.User)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, enrollmentJSON(e))
}

func (h *Handler) handleTwoFactorActivate(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	var in struct {
		Code *string `json:"code"`
	}
	if err := h.body(w, r, &in, func() error { return required("code", in.Code) }); err != nil {
		return err
	}
	act, err := h.auth.ActivateTwoFactor(r.Context(), cur.Session, cur.User, *in.Code, httpx.Client(r))
	if err != nil {
		return err
	}
	h.cookies.Set(w, act.Token, cur.Session.ExpiresAt)
	return writeJSON(w, http.StatusOK, map[string]any{"recovery_codes": act.RecoveryCodes})
}

func (h *Handler) handleTwoFactorDisable(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	var in struct {
		Password *string `json:"password"`
	}
	if err := h.body(w, r, &in, func() error { return required("password", in.Password) }); err != nil {
		return err
	}
	tok, err := h.auth.DisableTwoFactor(r.Context(), cur.Session, cur.User, *in.Password, httpx.Client(r))
	if err != nil {
		return err
	}
	h.cookies.Set(w, tok, cur.Session.ExpiresAt)
	return writeJSON(w, http.StatusOK, map[string]any{"enabled": false})
}

func (h *Handler) handleRecoveryCodes(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	var in struct {
		Password *string `json:"password"`
	}
	if err := h.body(w, r, &in, func() error { return required("password", in.Password) }); err != nil {
		return err
	}
	codes, err := h.auth.RegenerateRecoveryCodes(r.Context(), cur.User, *in.Password, httpx.Client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"recovery_codes": codes})
}

func (h *Handler) handleLoginTwoFactor(w http.ResponseWriter, r *http.Request, token string) error {
	var in factorOrKey
	if err := h.body(w, r, &in, in.check); err != nil {
		if serr := h.auth.SecondStepSession(r.Context(), token); serr != nil {
			return serr
		}
		return err
	}
	var step *auth.SecondFactorPassed
	var err error
	if in.Assertion != nil {
		step, err = h.auth.VerifyKey(r.Context(), token, in.Assertion, h.cookies.LoginClient(w, r))
	} else {
		code, recovery := in.values()
		step, err = h.auth.VerifySecondFactor(r.Context(), token, code, recovery, h.cookies.LoginClient(w, r))
	}
	if err != nil {
		return err
	}
	h.cookies.Set(w, step.Token, step.Expires)
	out := map[string]any{"status": auth.StatusOK}
	if step.KeyRequired {
		out["status"] = auth.StatusSetupRequired
	}
	if step.UsedRecoveryCode {
		out["recovery_codes_remaining"] = step.RecoveryCodesLeft
	}
	// The 2FA check-up, when due, is offered, never imposed: a client
	// shows it (GET /me/two-factor says what it needs).
	if step.CheckupDue {
		out["two_factor_checkup"] = true
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *Handler) handleCheckup(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	var in struct {
		Code *string `json:"code"`
	}
	if err := h.body(w, r, &in, nil); err != nil {
		return err
	}
	if err := h.auth.FinishCheckup(r.Context(), cur.User, deref(in.Code), httpx.Client(r)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
}

func (h *Handler) handleCheckupLater(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	next, err := h.auth.PostponeCheckup(r.Context(), cur.User, httpx.Client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"next_at": next.Format(time.RFC3339)})
}

func (h *Handler) handleNewApp(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	var in struct {
		Password *string `json:"password"`
		secondFactor
	}
	if err := h.body(w, r, &in, func() error { return required("password", in.Password) }); err != nil {
		return err
	}
	code, recovery := in.values()
	e, err := h.auth.BeginNewApp(r.Context(), cur.User, *in.Password, code, recovery, httpx.Client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, enrollmentJSON(e))
}

func (h *Handler) handleConfirmNewApp(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	var in struct {
		Code *string `json:"code"`
	}
	if err := h.body(w, r, &in, func() error { return required("code", in.Code) }); err != nil {
		return err
	}
	if err := h.auth.ConfirmNewApp(r.Context(), cur.User, *in.Code, httpx.Client(r)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"status": "changed"})
}

// secondFactor is the part of a body that carries a second factor: the
// app's code or a recovery code (either may be absent).
type secondFactor struct {
	Code         *string `json:"code"`
	RecoveryCode *string `json:"recovery_code"`
}

// factorOrKey is a second factor where a key may give it too: secondFactor's,
// or a key's answer (assertion) to its session's challenge (POST
// /login/two-factor/passkey at a login, POST /me/passkeys/challenge
// before a sensitive change).
type factorOrKey struct {
	secondFactor
	Assertion json.RawMessage `json:"assertion"`
}

// check refuses an assertion that is not a JSON object. A pointer
// receiver: h.body(…, in.check) reads the body decoded, not a copy taken
// before.
func (f *factorOrKey) check() error {
	if f.Assertion == nil {
		return nil
	}
	return keyAnswer("assertion", f.Assertion)
}

func (f factorOrKey) proof(sessionID int64) auth.Proof {
	code, recovery := f.values()
	return auth.Proof{Code: code, Recovery: recovery, Assertion: f.Assertion, SessionID: sessionID}
}

func (f secondFactor) values() (code, recovery string) {
	return deref(f.Code), deref(f.RecoveryCode)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// enrollmentJSON is what an authenticator app needs: the secret, its URI
// and the QR code as a data: URL.
func enrollmentJSON(e *totp.Enrollment) map[string]any {
	return map[string]any{"secret": e.Secret, "otpauth_uri": e.URI, "qr_png": totp.DataURL(e.QRPNG)}
}
