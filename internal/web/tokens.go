package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
)

// tokensPage is an API tokens page — Personal settings', or an
// organization's (its owners') — with a token just made (its value, this
// once), the list, and the form (posting to Base).
type tokensPage struct {
	Page
	Base   string // /settings/tokens, or /organizations/ID/tokens
	Intro  string
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

// tokensOwner is whose tokens a request is about: the person's (org nil),
// or an organization's, for one of its owners (nil and a page shown when
// the request may not see them).
type tokensOwner struct {
	org  *Page // the organization's page, nil for Personal settings
	base string
}

func (h *Handler) tokensOwnerOf(w http.ResponseWriter, r *http.Request, cur *httpx.Current) (*tokensOwner, bool) {
	if r.PathValue("id") == "" {
		return &tokensOwner{base: "/settings/tokens"}, true
	}
	p := h.managedPage(w, r, cur, "tokens.title", "tokens")
	if p == nil {
		return nil, false
	}
	if p.Org.Role != gardien.RoleOwner {
		redirect(w, r, orgURL(r, "members"))
		return nil, false
	}
	return &tokensOwner{org: p, base: fmt.Sprintf("/organizations/%d/tokens", p.Org.ID)}, true
}

func (o *tokensOwner) orgID() int64 {
	if o.org == nil {
		return 0
	}
	return o.org.Org.ID
}

func (h *Handler) renderTokens(w http.ResponseWriter, r *http.Request, cur *httpx.Current, o *tokensOwner, status int, err error, made *auth.NewToken) {
	p := tokensPage{Base: o.base, Made: made, Lifetimes: tokenLifetimes}
	if o.org != nil {
		p.Page, p.Intro, p.Scopes = *o.org, "tokens.org_intro", auth.OrgScopes()
	} else {
		p.Page, p.Intro, p.Scopes = h.newPage(r, "settings.title"), "tokens.intro", auth.Scopes()
		p.Section = "tokens"
	}
	p.Form = url.Values{"expires": {"90"}}
	if r.Method == http.MethodPost && made == nil {
		p.Form = url.Values{"name": {r.PostForm.Get("name")}, "expires": {r.PostForm.Get("expires")}, "scopes": r.PostForm["scopes"]}
	}
	if err != nil && !h.formError(&p.Page, err) {
		h.Fail(w, r, err)
		return
	}
	var e error
	if o.org != nil {
		p.Tokens, e = h.Auth.OrgTokens(r.Context(), cur.User, o.orgID())
	} else {
		p.Tokens, e = h.Auth.TokensOf(r.Context(), cur.User)
	}
	if e != nil {
		h.Fail(w, r, e)
		return
	}
	page := "settings_tokens"
	if o.org != nil {
		page = "org_tokens"
	}
	h.render(w, r, status, page, &p)
}

func (h *Handler) handleTokensPage(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if o, ok := h.tokensOwnerOf(w, r, cur); ok {
		h.renderTokens(w, r, cur, o, http.StatusOK, nil, nil)
	}
}

// handleCreateToken makes a token and shows its value on the page it
// answers with (never in a redirect's URL or a flash).
func (h *Handler) handleCreateToken(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) {
		return
	}
	o, ok := h.tokensOwnerOf(w, r, cur)
	if !ok {
		return
	}
	var expires time.Time // never
	switch v := r.PostForm.Get("expires"); {
	case v == "never":
	case slices.Contains(tokenLifetimes, v):
		days, _ := strconv.Atoi(v)
		expires = h.Auth.Now().Add(time.Duration(days) * 24 * time.Hour)
	default:
		h.renderTokens(w, r, cur, o, http.StatusUnprocessableEntity, gardien.Invalid("expires", "err.token_expiry"), nil)
		return
	}
	var made *auth.NewToken
	var err error
	if o.org != nil {
		made, err = h.Auth.CreateOrgToken(r.Context(), cur.User, o.orgID(), r.PostForm.Get("name"), r.PostForm["scopes"], expires, httpx.Client(r))
	} else {
		made, err = h.Auth.CreateToken(r.Context(), cur.User, r.PostForm.Get("name"), r.PostForm["scopes"], expires, httpx.Client(r))
	}
	if err != nil {
		h.renderTokens(w, r, cur, o, statusOf(err), err, nil)
		return
	}
	h.renderTokens(w, r, cur, o, http.StatusCreated, nil, made)
}

type tokenRevokePage struct {
	Page
	Base  string
	Token gardien.APIToken
}

func (h *Handler) handleRevokeTokenPage(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	o, ok := h.tokensOwnerOf(w, r, cur)
	if !ok {
		return
	}
	var tokens []gardien.APIToken
	var err error
	if o.org != nil {
		tokens, err = h.Auth.OrgTokens(r.Context(), cur.User, o.orgID())
	} else {
		tokens, err = h.Auth.TokensOf(r.Context(), cur.User)
	}
	if err != nil {
		h.Fail(w, r, err)
		return
	}
	id := pathID(r, "token")
	i := slices.IndexFunc(tokens, func(t gardien.APIToken) bool { return t.ID == id })
	if i < 0 {
		h.done(w, r, gardien.Errorf(gardien.CodeNotFound, "err.token_not_found"), o.base, "")
		return
	}
	p := tokenRevokePage{Base: o.base, Token: tokens[i]}
	if o.org != nil {
		p.Page = *o.org
	} else {
		p.Page = h.newPage(r, "settings.title")
		p.Section = "tokens"
	}
	h.render(w, r, http.StatusOK, "settings_token_revoke", &p)
}

func (h *Handler) handleRevokeToken(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) {
		return
	}
	o, ok := h.tokensOwnerOf(w, r, cur)
	if !ok {
		return
	}
	var err error
	if o.org != nil {
		err = h.Auth.RevokeOrgToken(r.Context(), cur.User, o.orgID(), pathID(r, "token"), httpx.Client(r))
	} else {
		err = h.Auth.RevokeToken(r.Context(), cur.User, pathID(r, "token"), httpx.Client(r))
	}
	h.done(w, r, err, o.base, "tokens.revoked")
}
