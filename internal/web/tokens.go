package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
)

// tokensPage is Personal settings → API tokens: the person's tokens, a
// form to make one, and a token just made (its value, this once).
type tokensPage struct {
	Page
	Tokens []gardien.APIToken
	Scopes []string
	Made   *auth.NewToken
	// Lifetimes are the expiries offered: days, or never.
	Lifetimes []string
}

// tokenLifetimes are the expiries the form offers, in days ("never": none);
// 90 days is chosen first.
var tokenLifetimes = []string{"30", "90", "365", "never"}

// Checked says whether a scope's box is ticked (as sent, after a refusal).
func (p *tokensPage) Checked(scope string) bool { return slices.Contains(p.Form["scopes"], scope) }

func (h *Handler) renderTokens(w http.ResponseWriter, r *http.Request, cur *httpx.Current, status int, err error, made *auth.NewToken) {
	p := tokensPage{Page: h.newPage(r, "settings.title"), Scopes: auth.Scopes, Made: made, Lifetimes: tokenLifetimes}
	p.Section = "tokens"
	p.Form = url.Values{"expires": {"90"}}
	if r.Method == http.MethodPost && made == nil {
		p.Form = url.Values{"name": {r.PostForm.Get("name")}, "expires": {r.PostForm.Get("expires")}, "scopes": r.PostForm["scopes"]}
	}
	if err != nil && !h.formError(&p.Page, err) {
		h.Fail(w, r, err)
		return
	}
	var e error
	if p.Tokens, e = h.Auth.TokensOf(r.Context(), cur.User); e != nil {
		h.Fail(w, r, e)
		return
	}
	h.render(w, r, status, "settings_tokens", &p)
}

func (h *Handler) handleTokensPage(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	h.renderTokens(w, r, cur, http.StatusOK, nil, nil)
}

// handleCreateToken makes a token and shows its value on the page it
// answers with (never in a redirect's URL or a flash).
func (h *Handler) handleCreateToken(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) {
		return
	}
	var expires time.Time // never
	switch v := r.PostForm.Get("expires"); {
	case v == "never":
	case slices.Contains(tokenLifetimes, v):
		days, _ := strconv.Atoi(v)
		expires = h.Auth.Now().Add(time.Duration(days) * 24 * time.Hour)
	default:
		h.renderTokens(w, r, cur, http.StatusUnprocessableEntity, gardien.Invalid("expires", "err.token_expiry"), nil)
		return
	}
	made, err := h.Auth.CreateToken(r.Context(), cur.User, r.PostForm.Get("name"), r.PostForm["scopes"], expires, httpx.Client(r))
	if err != nil {
		if e, ok := gardien.AsError(err); ok && len(e.Fields) > 0 && e.Fields[0].Field == "expires_at" {
			err = gardien.Invalid("expires", e.Fields[0].Message)
		}
		h.renderTokens(w, r, cur, statusOf(err), err, nil)
		return
	}
	h.renderTokens(w, r, cur, http.StatusCreated, nil, made)
}

type tokenRevokePage struct {
	Page
	Token gardien.APIToken
}

func (h *Handler) handleRevokeTokenPage(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	tokens, err := h.Auth.TokensOf(r.Context(), cur.User)
	if err != nil {
		h.Fail(w, r, err)
		return
	}
	id := pathID(r, "token")
	i := slices.IndexFunc(tokens, func(t gardien.APIToken) bool { return t.ID == id })
	if i < 0 {
		h.done(w, r, gardien.Errorf(gardien.CodeNotFound, "err.token_not_found"), "/settings/tokens", "")
		return
	}
	p := tokenRevokePage{Page: h.newPage(r, "settings.title"), Token: tokens[i]}
	p.Section = "tokens"
	h.render(w, r, http.StatusOK, "settings_token_revoke", &p)
}

func (h *Handler) handleRevokeToken(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) {
		return
	}
	err := h.Auth.RevokeToken(r.Context(), cur.User, pathID(r, "token"), httpx.Client(r))
	h.done(w, r, err, "/settings/tokens", "tokens.revoked")
}
