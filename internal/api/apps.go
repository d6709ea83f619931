package api

import (
	"net/http"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
)

type appJSON struct {
	ID                     int64     `json:"id"`
	ClientID               string    `json:"client_id"`
	Name                   string    `json:"name"`
	Type                   string    `json:"type"`
	RedirectURIs           []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI   string    `json:"backchannel_logout_uri"`
	Audience               string    `json:"audience"`
	RequireTwoFactor       bool      `json:"require_two_factor"`
	TwoFactorByOrg         bool      `json:"two_factor_required_by_organization"`
	SigningAlg             string    `json:"signing_alg"`
	CreatedAt              time.Time `json:"created_at"`
	UpdatedAt              time.Time `json:"updated_at"`
	ClientSecret           string    `json:"client_secret,omitempty"`
	Hosts                  []string  `json:"hosts"`
}

func toApp(v *auth.AppView) appJSON {
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	return appJSON{ID: v.ID, ClientID: v.ClientID, Name: v.Name, Type: string(v.Type), RedirectURIs: nonNil(v.RedirectURIs),
		PostLogoutRedirectURIs: nonNil(v.PostLogoutRedirectURIs), BackchannelLogoutURI: v.BackchannelLogoutURI,
		Audience: string(v.Audience), RequireTwoFactor: v.NeedsTwoFactor, TwoFactorByOrg: v.TwoFactorByOrg,
		SigningAlg: v.SigningAlg, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, ClientSecret: v.Secret, Hosts: nonNil(v.Hosts)}
}

// appBody is an app's settings as the API takes them; an absent field is
// left as it is.
type appBody struct {
	Name                   *string              `json:"name"`
	Type                   *gardien.AppType     `json:"type"`
	RedirectURIs           *[]string            `json:"redirect_uris"`
	PostLogoutRedirectURIs *[]string            `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI   *string              `json:"backchannel_logout_uri"`
	Audience               *gardien.AppAudience `json:"audience"`
	RequireTwoFactor       *bool                `json:"require_two_factor"`
	SigningAlg             *string              `json:"signing_alg"`
	Hosts                  *[]string            `json:"hosts"`
}

func (b appBody) input() auth.AppInput {
	return auth.AppInput{Name: b.Name, Type: b.Type, RedirectURIs: b.RedirectURIs, PostLogoutRedirectURIs: b.PostLogoutRedirectURIs,
		BackchannelLogoutURI: b.BackchannelLogoutURI, Audience: b.Audience, RequireTwoFactor: b.RequireTwoFactor, SigningAlg: b.SigningAlg,
		Hosts: b.Hosts}
}

func (h *Handler) handleListApps(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	apps, err := h.auth.Apps(r.Context(), cur.User, orgID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"apps": each(apps, func(v auth.AppView) appJSON { return toApp(&v) })})
}

func (h *Handler) handleCreateApp(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	var in appBody
	if err := h.body(w, r, &in, func() error {
		if in.Type != nil && *in.Type == gardien.AppProxy {
			return required("name", in.Name, "hosts", in.Hosts)
		}
		return required("name", in.Name, "type", in.Type, "redirect_uris", in.RedirectURIs)
	}); err != nil {
		return err
	}
	v, err := h.auth.CreateApp(r.Context(), cur.User, orgID, in.input(), httpx.Client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"app": toApp(v)})
}

// inApp passes a handler the organization's and the app's ids of the path.
func inApp(fn func(http.ResponseWriter, *http.Request, *httpx.Current, int64, int64) error) guardedHandler {
	return inOrg(func(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
		appID, err := pathID(r, "app")
		if err != nil {
			return err
		}
		return fn(w, r, cur, orgID, appID)
	})
}

func (h *Handler) handleGetApp(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID, appID int64) error {
	v, err := h.auth.App(r.Context(), cur.User, orgID, appID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"app": toApp(v)})
}

func (h *Handler) handleUpdateApp(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID, appID int64) error {
	var in appBody
	if err := h.body(w, r, &in, func() error { return nil }); err != nil {
		return err
	}
	v, err := h.auth.UpdateApp(r.Context(), cur.User, orgID, appID, in.input(), httpx.Client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"app": toApp(v)})
}

func (h *Handler) handleDeleteApp(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID, appID int64) error {
	if err := h.auth.DeleteApp(r.Context(), cur.User, orgID, appID, httpx.Client(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) handleRotateAppSecret(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID, appID int64) error {
	v, err := h.auth.RotateAppSecret(r.Context(), cur.User, orgID, appID, httpx.Client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"app": toApp(v)})
}
