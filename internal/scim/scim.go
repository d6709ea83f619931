// Package scim is SCIM 2.0 (RFC 7643, 7644) for an organization's identity
// provider: /scim/v2/{org}/Users and the discovery resources, over
// github.com/elimity-com/scim (the protocol: schemas, filters, PATCH
// shapes, SCIM error bodies). Who may be provisioned, and what a
// deprovisioning ends, are auth's rules.
package scim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
	filter "github.com/scim2/filter-parser/v2"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
	"github.com/gardien/gardien/internal/i18n"
)

// Prefix is where SCIM is served: Prefix + "{org}/Users".
const Prefix = "/scim/v2/"

// maxBody bounds a SCIM request's body (the largest real ones, a user with
// every attribute, are a few kilobytes).
const maxBody = 256 << 10

// Microsoft Entra ID sends booleans as strings ("active": "False"); the
// library accepts them only with this switch of its own, set once.
func init() { schema.SetAllowStringValues(true) }

// Handler serves every organization's SCIM endpoints.
type Handler struct {
	auth *auth.Service
	cat  *i18n.Catalog
	base string // GARDIEN_BASE_URL, without its trailing slash
	log  *slog.Logger
	args *scim.ServerArgs
}

// New returns the SCIM handler; base is Gardien's base URL.
func New(a *auth.Service, cat *i18n.Catalog, base string, log *slog.Logger) *Handler {
	h := &Handler{auth: a, cat: cat, base: strings.TrimSuffix(base, "/"), log: log}
	h.args = &scim.ServerArgs{
		ServiceProviderConfig: &scim.ServiceProviderConfig{
			DocumentationURI: optional.NewString("https://github.com/gardien/gardien/blob/main/docs/scim.md"),
			AuthenticationSchemes: []scim.AuthenticationScheme{{Type: scim.AuthenticationTypeOauthBearerToken, Name: "Bearer token",
				Description: "The organization's SCIM token (Security & SSO → Provisioning), as Authorization: Bearer.", Primary: true}},
			MaxResults:       maxResults,
			SupportFiltering: true,
			SupportPatch:     true,
		},
		ResourceTypes: []scim.ResourceType{{
			ID: optional.NewString("User"), Name: "User", Endpoint: "/Users",
			Description: optional.NewString("People of the organization's verified domains, who log in through its SSO."),
			Schema:      schema.CoreUserSchema(),
			// Identity providers send its attributes (department, manager…):
			// taken, not kept.
			SchemaExtensions: []scim.SchemaExtension{{Schema: schema.ExtensionEnterpriseUser()}},
			Handler:          users{h},
		}},
	}
	return h
}

// maxResults bounds a page of users.
const maxResults = 100

type ctxKey struct{}

// call is what a request's handlers need: its organization, its client.
type call struct {
	orgID  int64
	client gardien.Client
}

func callOf(r *http.Request) call { c, _ := r.Context().Value(ctxKey{}).(call); return c }

// ServeHTTP answers /scim/v2/{org}/…: the organization's token first, then
// the protocol.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, Prefix)
	org, path, _ := strings.Cut(rest, "/")
	orgID, err := strconv.ParseInt(org, 10, 64)
	if err != nil || orgID <= 0 || strconv.FormatInt(orgID, 10) != org {
		writeError(w, scimerrors.ScimError{Status: http.StatusNotFound, Detail: "No such organization."})
		return
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="scim"`)
		writeError(w, scimerrors.ScimError{Status: http.StatusUnauthorized, Detail: "Send the organization's SCIM token as Authorization: Bearer."})
		return
	}
	if err := h.auth.AuthenticateSCIM(r.Context(), orgID, strings.TrimSpace(token)); err != nil {
		if gardien.ErrorCode(err) == gardien.CodeUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="scim", error="invalid_token"`)
		}
		writeError(w, h.scimError(r, err))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	// A copy (its URL too): the log and the metrics keep the path asked.
	r = r.Clone(context.WithValue(r.Context(), ctxKey{}, call{orgID: orgID, client: httpx.Client(r)}))
	r.URL.Path = "/" + path
	r.URL.RawPath = ""
	srv, err := scim.NewServer(h.args, scim.WithBaseURL(h.base+Prefix+org), scim.WithLogger(logger{h.log}))
	if err != nil {
		writeError(w, scimerrors.ScimErrorInternal)
		return
	}
	srv.ServeHTTP(w, r)
}

func writeError(w http.ResponseWriter, e scimerrors.ScimError) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(e.Status)
	b, _ := e.MarshalJSON()
	w.Write(b)
}

// scimError turns a rule's refusal into a SCIM error; what is not a
// refusal is logged and answered without its text.
func (h *Handler) scimError(r *http.Request, err error) scimerrors.ScimError {
	e, ok := gardien.AsError(err)
	if !ok && errors.Is(err, gardien.ErrUnavailable) {
		h.log.WarnContext(r.Context(), "scim: database unavailable", "err", err)
		return scimerrors.ScimError{Status: http.StatusServiceUnavailable, Detail: "Gardien cannot reach its database just now; try again in a moment."}
	}
	if !ok {
		h.log.ErrorContext(r.Context(), "scim", "err", err)
		return scimerrors.ScimError{Status: http.StatusInternalServerError, Detail: "Gardien could not answer; try again."}
	}
	// Identity providers show the detail to an administrator: English.
	detail := h.cat.T("en", e.Message, e.Args...)
	if len(e.Fields) > 0 {
		detail = e.Fields[0].Field + ": " + h.cat.T("en", e.Fields[0].Message)
	}
	switch e.Code {
	case gardien.CodeUnauthorized:
		return scimerrors.ScimError{Status: http.StatusUnauthorized, Detail: detail}
	case gardien.CodeForbidden:
		return scimerrors.ScimError{Status: http.StatusForbidden, Detail: detail}
	case gardien.CodeNotFound:
		return scimerrors.ScimError{Status: http.StatusNotFound, Detail: detail}
	case gardien.CodeConflict:
		kind := scimerrors.ScimTypeUniqueness
		if e.Message == "err.scim_operator_disabled" {
			kind = scimerrors.ScimTypeMutability // the account's state, not a clash
		}
		return scimerrors.ScimError{Status: http.StatusConflict, ScimType: kind, Detail: detail}
	case gardien.CodeValidationFailed:
		return scimerrors.ScimError{Status: http.StatusBadRequest, ScimType: scimerrors.ScimTypeInvalidValue, Detail: detail}
	}
	return scimerrors.ScimError{Status: http.StatusBadRequest, Detail: detail}
}

// logger hands the library's errors to slog.
type logger struct{ log *slog.Logger }

func (l logger) Error(args ...any) { l.log.Error("scim", "detail", fmt.Sprint(args...)) }

// users is the /Users resource.
type users struct{ h *Handler }

func (u users) fail(r *http.Request, err error) error { return u.h.scimError(r, err) }

// resource is a person as SCIM shows them.
func resource(su *gardien.SCIMUser) scim.Resource {
	created, updated := su.CreatedAt, su.UpdatedAt
	res := scim.Resource{
		ID: strconv.FormatInt(su.UserID, 10),
		Attributes: scim.ResourceAttributes{
			"userName":    su.Email,
			"displayName": su.Name,
			"active":      su.Active,
			"name":        map[string]any{"givenName": su.GivenName, "familyName": su.FamilyName, "formatted": su.Name},
			"emails":      []any{map[string]any{"value": su.Email, "type": "work", "primary": true}},
		},
		Meta: scim.Meta{Created: &created, LastModified: &updated, Version: fmt.Sprintf(`W/"%d"`, su.UpdatedAt.Unix())},
	}
	if su.ExternalID != "" {
		res.ExternalID = optional.NewString(su.ExternalID)
	}
	return res
}

func (u users) Create(r *http.Request, attrs scim.ResourceAttributes) (scim.Resource, error) {
	in := auth.SCIMInput{Active: true}
	apply(&in, attrs)
	c := callOf(r)
	su, err := u.h.auth.CreateSCIMUser(r.Context(), c.orgID, in, c.client)
	if err != nil {
		return scim.Resource{}, u.fail(r, err)
	}
	return resource(su), nil
}

func userID(id string) (int64, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil && n > 0 && strconv.FormatInt(n, 10) == id
}

var errNoUser = scimerrors.ScimError{Status: http.StatusNotFound, Detail: "No such user in this organization."}

func (u users) Get(r *http.Request, id string) (scim.Resource, error) {
	n, ok := userID(id)
	if !ok {
		return scim.Resource{}, errNoUser
	}
	su, err := u.h.auth.SCIMUser(r.Context(), callOf(r).orgID, n)
	if err != nil {
		return scim.Resource{}, u.fail(r, err)
	}
	return resource(su), nil
}

// GetAll lists people, narrowed by the filters identity providers send
// before they create someone: userName eq, externalId eq, id eq.
func (u users) GetAll(r *http.Request, p scim.ListRequestParams) (scim.Page, error) {
	var f gardien.SCIMFilter
	if p.FilterValidator != nil {
		e, ok := p.FilterValidator.GetFilter().(*filter.AttributeExpression)
		value, isString := "", false
		if ok {
			value, isString = e.CompareValue.(string)
		}
		switch {
		case !ok || !isString || e.Operator != filter.EQ || e.AttributePath.SubAttribute != nil:
			return scim.Page{}, unsupportedFilter
		case strings.EqualFold(e.AttributePath.AttributeName, "userName"):
			f.EmailKey = value
		case strings.EqualFold(e.AttributePath.AttributeName, "externalId"):
			f.ExternalID = value
		case strings.EqualFold(e.AttributePath.AttributeName, "id"):
			n, ok := userID(value)
			if !ok {
				return scim.Page{Resources: []scim.Resource{}}, nil
			}
			su, err := u.h.auth.SCIMUser(r.Context(), callOf(r).orgID, n)
			if gardien.ErrorCode(err) == gardien.CodeNotFound {
				return scim.Page{Resources: []scim.Resource{}}, nil
			}
			if err != nil {
				return scim.Page{}, u.fail(r, err)
			}
			return scim.Page{TotalResults: 1, Resources: []scim.Resource{resource(su)}}, nil
		default:
			return scim.Page{}, unsupportedFilter
		}
		if value == "" {
			return scim.Page{Resources: []scim.Resource{}}, nil
		}
	}
	count := min(max(p.Count, 0), maxResults)
	list, total, err := u.h.auth.SCIMUsers(r.Context(), callOf(r).orgID, f, max(p.StartIndex, 1)-1, count)
	if err != nil {
		return scim.Page{}, u.fail(r, err)
	}
	page := scim.Page{TotalResults: total, Resources: make([]scim.Resource, 0, len(list))}
	for i := range list {
		page.Resources = append(page.Resources, resource(&list[i]))
	}
	return page, nil
}

var unsupportedFilter = scimerrors.ScimError{Status: http.StatusBadRequest, ScimType: scimerrors.ScimTypeInvalidFilter,
	Detail: `Filters supported: userName eq "…", externalId eq "…", id eq "…".`}

func (u users) Replace(r *http.Request, id string, attrs scim.ResourceAttributes) (scim.Resource, error) {
	n, ok := userID(id)
	if !ok {
		return scim.Resource{}, errNoUser
	}
	// A replace states the whole person: what it leaves out is empty;
	// active is true unless said.
	in := auth.SCIMInput{Active: true}
	apply(&in, attrs)
	c := callOf(r)
	su, err := u.h.auth.UpdateSCIMUser(r.Context(), c.orgID, n, in, c.client)
	if err != nil {
		return scim.Resource{}, u.fail(r, err)
	}
	return resource(su), nil
}

func (u users) Delete(r *http.Request, id string) error {
	n, ok := userID(id)
	if !ok {
		return errNoUser
	}
	c := callOf(r)
	if err := u.h.auth.DeleteSCIMUser(r.Context(), c.orgID, n, c.client); err != nil {
		return u.fail(r, err)
	}
	return nil
}

// Patch applies operations to the person as they are, then writes the
// result as a replace would.
func (u users) Patch(r *http.Request, id string, ops []scim.PatchOperation) (scim.Resource, error) {
	n, ok := userID(id)
	if !ok {
		return scim.Resource{}, errNoUser
	}
	c := callOf(r)
	su, err := u.h.auth.SCIMUser(r.Context(), c.orgID, n)
	if err != nil {
		return scim.Resource{}, u.fail(r, err)
	}
	st := state{SCIMInput: auth.SCIMInput{Email: su.Email, DisplayName: su.Name, GivenName: su.GivenName, FamilyName: su.FamilyName,
		ExternalID: su.ExternalID, Active: su.Active}}
	// The name shown follows its parts when a patch changes only them.
	nameFromParts := su.Name == strings.TrimSpace(su.GivenName+" "+su.FamilyName)
	for _, op := range ops {
		if err := st.patch(op); err != nil {
			return scim.Resource{}, err
		}
	}
	if nameFromParts && !st.displaySet {
		st.DisplayName = ""
	}
	su, err = u.h.auth.UpdateSCIMUser(r.Context(), c.orgID, n, st.input(), c.client)
	if err != nil {
		return scim.Resource{}, u.fail(r, err)
	}
	return resource(su), nil
}

// state is a person being written from a request's attributes or
// operations.
type state struct {
	auth.SCIMInput
	displaySet, userNameSet bool
	// workEmail is the address emails named; userName, when the same
	// request sets it too (identity providers send both), wins.
	workEmail string
}

func (st *state) input() auth.SCIMInput {
	in := st.SCIMInput
	if !st.userNameSet && st.workEmail != "" {
		in.Email = st.workEmail
	}
	return in
}

// apply reads a person's attributes as a create or replace sends them.
func apply(in *auth.SCIMInput, attrs scim.ResourceAttributes) {
	st := state{SCIMInput: *in}
	for k, v := range attrs {
		st.set(k, "", v)
	}
	*in = st.input()
}

// set writes one attribute (sub: a part of name), as an identity provider
// names it (any case); attributes Gardien does not keep are taken and
// dropped.
func (st *state) set(attr, sub string, v any) {
	s, _ := v.(string)
	switch strings.ToLower(attr) {
	case "username":
		st.Email, st.userNameSet = s, true
	case "displayname":
		st.DisplayName, st.displaySet = s, true
	case "externalid":
		st.ExternalID = s
	case "active":
		st.Active = truth(v)
	case "name":
		if sub != "" {
			st.setName(sub, s)
			return
		}
		if m, ok := v.(map[string]any); ok {
			for k, part := range m {
				p, _ := part.(string)
				st.setName(k, p)
			}
		}
	case "name.givenname", "name.familyname", "name.formatted":
		st.setName(strings.TrimPrefix(strings.ToLower(attr), "name."), s)
	case "emails":
		list, _ := v.([]any)
		for _, e := range list {
			if m, ok := e.(map[string]any); ok {
				if addr, _ := m["value"].(string); addr != "" && (truth(m["primary"]) || m["type"] == "work") {
					st.workEmail = addr
				}
			}
		}
	}
}

func (st *state) setName(part, v string) {
	switch strings.ToLower(part) {
	case "givenname":
		st.GivenName = v
	case "familyname":
		st.FamilyName = v
	case "formatted":
		if !st.displaySet {
			st.DisplayName, st.displaySet = v, true
		}
	}
}

// truth reads a boolean as identity providers send it: true, or "True".
func truth(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return strings.EqualFold(b, "true")
	}
	return false
}

// patch applies one operation: add and replace write, remove empties.
func (st *state) patch(op scim.PatchOperation) error {
	kind := strings.ToLower(op.Op)
	if op.Path == nil {
		if kind == scim.PatchOperationRemove {
			return scimerrors.ScimErrorNoTarget
		}
		m, ok := op.Value.(map[string]any)
		if !ok {
			return scimerrors.ScimErrorInvalidValue
		}
		for k, v := range m {
			st.set(k, "", v)
		}
		return nil
	}
	attr, sub := op.Path.AttributePath.AttributeName, ""
	if p := op.Path.AttributePath.SubAttribute; p != nil {
		sub = *p
	} else if p := op.Path.SubAttribute; p != nil {
		sub = *p
	}
	value := op.Value
	if kind == scim.PatchOperationRemove {
		switch strings.ToLower(attr) {
		case "username", "active", "emails":
			return scimerrors.ScimErrorMutability
		}
		value = ""
	}
	if strings.EqualFold(attr, "emails") && sub != "" {
		// emails[type eq "work"].value: the address itself.
		value = []any{map[string]any{"value": value, "type": "work"}}
	}
	st.set(attr, sub, value)
	return nil
}
