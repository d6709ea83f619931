package api

import (
	"net/http"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
)

type ssoDomainJSON struct {
	Domain    string `json:"domain"`
	Verified  bool   `json:"verified"`
	TXTRecord string `json:"txt_record"`
}

func (h *Handler) ssoJSON(c *gardien.SSOConnection) map[string]any {
	return map[string]any{"sso": map[string]any{
		"protocol": c.Protocol, "enabled": c.Enabled, "require_sso": c.RequireSSO,
		"domains": each(c.Domains, func(d gardien.SSODomain) ssoDomainJSON {
			return ssoDomainJSON{d.Domain, d.Verified(), d.TXTRecord()}
		}),
		"issuer": c.Issuer, "client_id": c.ClientID, "client_secret_set": len(c.ClientSecretSealed) > 0, "idp_initiated": c.IdPInitiated,
		"redirect_uri": h.auth.OIDCRedirectURI(), "idp_metadata_url": c.IDPMetadataURL,
		"sp_entity_id": h.auth.SAMLEntityID(c.OrgID), "sp_metadata_url": h.auth.SAMLEntityID(c.OrgID), "acs_url": h.auth.SAMLACS(c.OrgID),
	}}
}

func (h *Handler) handleGetSSO(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	c, err := h.auth.SSO(r.Context(), cur.User, orgID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, h.ssoJSON(c))
}

func (h *Handler) handlePutSSO(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	var in struct {
		Protocol     *string  `json:"protocol"`
		Enabled      *bool    `json:"enabled"`
		Domains      []string `json:"domains"`
		RequireSSO   *bool    `json:"require_sso"`
		Issuer       *string  `json:"issuer"`
		ClientID     *string  `json:"client_id"`
		ClientSecret *string  `json:"client_secret"`
		MetadataURL  *string  `json:"idp_metadata_url"`
		MetadataXML  *string  `json:"idp_metadata_xml"`
		IdPInitiated *bool    `json:"idp_initiated"`
	}
	if err := h.body(w, r, &in, func() error { return required("protocol", in.Protocol, "enabled", in.Enabled) }); err != nil {
		return err
	}
	val := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	c, err := h.auth.SaveSSO(r.Context(), cur.User, orgID, auth.SSOInput{Protocol: *in.Protocol, Enabled: *in.Enabled,
		RequireSSO: in.RequireSSO != nil && *in.RequireSSO, Domains: in.Domains, Issuer: val(in.Issuer), ClientID: val(in.ClientID),
		ClientSecret: in.ClientSecret, IDPMetadataURL: val(in.MetadataURL), IDPMetadataXML: val(in.MetadataXML),
		IdPInitiated: in.IdPInitiated != nil && *in.IdPInitiated}, httpx.Client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, h.ssoJSON(c))
}

func (h *Handler) handleDeleteSSO(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	if err := h.auth.DeleteSSO(r.Context(), cur.User, orgID, httpx.Client(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) handleVerifySSODomain(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	domain := r.PathValue("domain")
	if err := h.auth.VerifySSODomain(r.Context(), cur.User, orgID, domain, httpx.Client(r)); err != nil {
		return err
	}
	d, _ := auth.NormalizeDomain(domain)
	return writeJSON(w, http.StatusOK, map[string]any{"domain": d, "verified": true})
}

func (h *Handler) handleTestSSO(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	test, err := h.auth.TestSSO(r.Context(), cur.User, orgID)
	if err != nil {
		return err
	}
	lang := h.lang(r)
	return writeJSON(w, http.StatusOK, map[string]any{"ok": len(test.Problems) == 0,
		"problems": each(test.Problems, func(p auth.SSOProblem) string {
			if p.Cause == "" {
				return h.cat.T(lang, p.Key)
			}
			return h.cat.T(lang, p.Key, h.cat.T(lang, "detail.cause."+p.Cause))
		}),
		"steps": each(test.Steps, func(k string) string { return h.cat.T(lang, k) })})
}
