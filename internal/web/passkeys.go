package web

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
)

// Passkeys and security keys on the pages: app.js asks the browser's key
// (its options fetched from the routes below) and sends the key's answer
// in a plain form; without JavaScript the pages say a key needs it and
// offer the other ways.

// keyOptions answers a ceremony's options (JSON) to app.js, or the reason
// there are none ({"detail"} in the person's language).
func (h *Handler) keyOptions(w http.ResponseWriter, r *http.Request, options []byte, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		e, ok := gardien.AsError(err)
		if !ok {
			h.Fail(w, r, err)
			return
		}
		w.WriteHeader(statusOf(err))
		_ = json.NewEncoder(w).Encode(map[string]string{"detail": h.Catalog.T(h.newPage(r, "").Lang, e.Message, e.Args...)})
		return
	}
	_, _ = w.Write(options)
}

func (h *Handler) handleNewKeyOptions(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	options, err := h.Auth.BeginPasskey(r.Context(), cur.Session, cur.User)
	h.keyOptions(w, r, options, err)
}

func (h *Handler) handleKeyProofOptions(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	options, err := h.Auth.BeginKeyProof(r.Context(), cur.Session, cur.User)
	h.keyOptions(w, r, options, err)
}

// handleAddKey adds the key the browser made (in Personal settings, or at
// the set-up a requirement asks for): a first key turns 2FA on and shows
// the recovery codes, once.
func (h *Handler) handleAddKey(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) {
		return
	}
	added, err := h.Auth.FinishPasskey(r.Context(), cur.Session, cur.User, r.PostForm.Get("key_name"), []byte(r.PostForm.Get("credential")), httpx.Client(r))
	if err != nil {
		if e, ok := gardien.AsError(err); ok && len(e.Fields) > 0 && e.Fields[0].Field == "name" {
			e.Fields[0].Field = "key_name"
		}
		if tfaBase(r) != pathTwoFactorSettings {
			h.done(w, r, err, tfaBase(r), "")
			return
		}
		h.renderTwoFactor(w, r, cur, statusOf(err), err)
		return
	}
	if added.Token == "" {
		h.done(w, r, nil, pathTwoFactorSettings, "tfa.key_added", added.Passkey.Name)
		return
	}
	h.Cookies.Set(w, added.Token, cur.Session.ExpiresAt)
	cur.User.TwoFactorEnabled, cur.User.HasKeys = true, true
	cur.Session.Level = gardien.LevelFull
	if added.RecoveryCodes == nil {
		// The key an organization asked for, at the set-up: in.
		h.setFlash(w, "ok", "tfa.key_added", added.Passkey.Name)
		h.goOn(w, r, orHome(appReturn(r)))
		return
	}
	h.renderCodes(w, r, added.RecoveryCodes, "tfa.codes_intro_key")
}

func (h *Handler) handleRenameKey(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) {
		return
	}
	err := h.Auth.RenamePasskey(r.Context(), cur.User, pathID(r, "key"), r.PostForm.Get("key_name"), httpx.Client(r))
	h.done(w, r, err, pathTwoFactorSettings, "tfa.key_renamed")
}

// keyRemoval is the confirmation asked before a key is removed: the
// password, and the key named.
func (h *Handler) renderKeyRemoval(w http.ResponseWriter, r *http.Request, cur *httpx.Current, status int, err error) {
	keys, kerr := h.Auth.PasskeysOf(r.Context(), cur.User)
	if kerr != nil {
		h.Fail(w, r, kerr)
		return
	}
	id := pathID(r, "key")
	p := confirmPage{Heading: "tfa.key_remove", Intro: "tfa.key_remove_intro", Button: "tfa.key_remove", Danger: true,
		Action: fmt.Sprintf("/settings/two-factor/keys/%d/remove", id)}
	for _, k := range keys {
		if k.ID == id {
			p.Detail = k.Name
		}
	}
	if p.Detail == "" {
		h.done(w, r, errKeyGone, pathTwoFactorSettings, "")
		return
	}
	p.Page = h.newPage(r, "tfa.title")
	p.Section = "two-factor"
	if err != nil && !h.formError(&p.Page, err) {
		h.Fail(w, r, err)
		return
	}
	h.render(w, r, status, "two_factor_confirm", &p)
}

var errKeyGone = gardien.Errorf(gardien.CodeNotFound, "err.passkey_not_found")

func (h *Handler) handleKeyRemovalPage(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	h.renderKeyRemoval(w, r, cur, http.StatusOK, nil)
}

func (h *Handler) handleRemoveKey(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) {
		return
	}
	tok, err := h.Auth.RemovePasskey(r.Context(), cur.Session, cur.User, pathID(r, "key"), r.PostForm.Get("password"), httpx.Client(r))
	if err != nil {
		if gardien.ErrorCode(err) == gardien.CodeNotFound {
			h.done(w, r, err, pathTwoFactorSettings, "")
			return
		}
		h.renderKeyRemoval(w, r, cur, statusOf(err), err)
		return
	}
	if tok == "" {
		h.done(w, r, nil, pathTwoFactorSettings, "tfa.key_removed")
		return
	}
	h.Cookies.Set(w, tok, cur.Session.ExpiresAt)
	h.done(w, r, nil, pathTwoFactorSettings, "tfa.key_removed_off")
}

// handlePasskeyLoginOptions begins a login with a passkey alone (the login
// page's button, or the passkeys a browser offers in its email box): the
// options, and a cookie that binds the login to this browser.
func (h *Handler) handlePasskeyLoginOptions(w http.ResponseWriter, r *http.Request) {
	start, err := h.Auth.BeginPasskeyLogin(r.Context(), httpx.Client(r))
	if err != nil {
		h.keyOptions(w, r, nil, err)
		return
	}
	h.Cookies.SetPasskeyLogin(w, start.Token, auth.CeremonyLifetime)
	h.keyOptions(w, r, start.Options, nil)
}

// handlePasskeyLogin logs in with a passkey's answer: in at once (a
// passkey is two factors), or the login page again with what went wrong.
func (h *Handler) handlePasskeyLogin(w http.ResponseWriter, r *http.Request) {
	p := loginPage{Page: h.newPage(r, "login.title"), Passkeys: h.Auth.PasskeysOn()}
	if !h.formOn(w, r, "login", &p) {
		return
	}
	p.Next = localPath(r.PostForm.Get("next"))
	token := h.Cookies.PasskeyLogin(r)
	h.Cookies.ClearPasskeyLogin(w) // answered once, whatever the answer
	login, err := h.Auth.FinishPasskeyLogin(r.Context(), token, h.Cookies.Token(r), []byte(r.PostForm.Get("assertion")), h.Cookies.LoginClient(w, r))
	if err != nil {
		h.renderError(w, r, err, "login", &p)
		return
	}
	h.Cookies.Set(w, login.Token, login.Session.ExpiresAt)
	h.goOn(w, r, orHome(p.Next))
}

// formProof is the second factor a form gives before a sensitive change:
// its code field (a code of the app or a recovery code), or the answer of
// the person's key to their session's challenge.
func formProof(r *http.Request, cur *httpx.Current) auth.Proof {
	code, recovery := auth.ProofOf(r.PostForm.Get("code"))
	return auth.Proof{Code: code, Recovery: recovery, Assertion: []byte(r.PostForm.Get("assertion")), SessionID: cur.Session.ID}
}
