package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/httpx"
)

// pathID reads a numeric path value; a malformed one is a 404.
func (h *Handler) pathID(w http.ResponseWriter, r *http.Request, name string) (int64, bool) {
	id, ok := httpx.PathID(r, name)
	if !ok {
		h.error(w, r, gardien.Errorf(gardien.CodeNotFound, "err.not_found"))
	}
	return id, ok
}

// memberPath reads the organization and member ids of …/{id}/members/{user}.
func (h *Handler) memberPath(w http.ResponseWriter, r *http.Request) (int64, int64, bool) {
	orgID, ok := h.pathID(w, r, "id")
	if !ok {
		return 0, 0, false
	}
	userID, ok := h.pathID(w, r, "user")
	return orgID, userID, ok
}

func toOrg(m gardien.Membership) orgJSON {
	return orgJSON{ID: m.ID, Name: m.Name, Role: string(m.Role), RequireTwoFactor: m.RequireTwoFactor}
}

func (h *Handler) handleCreateOrg(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	var in struct {
		Name *string `json:"name"`
	}
	if !h.body(w, r, &in, func() error { return required("name", in.Name) }) {
		return
	}
	o, err := h.auth.CreateOrganization(r.Context(), cur.User, *in.Name, httpx.Client(r))
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"organization": map[string]any{"id": o.ID, "name": o.Name, "require_two_factor": false, "role": gardien.RoleOwner}})
}

func (h *Handler) handleListOrgs(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	ms, err := h.auth.Memberships(r.Context(), cur.User.ID)
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"organizations": each(ms, toOrg)})
}

func (h *Handler) handleInvite(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	orgID, ok := h.pathID(w, r, "id")
	if !ok {
		return
	}
	var in struct {
		Email *string `json:"email"`
		Role  *string `json:"role"`
	}
	if !h.body(w, r, &in, func() error { return required("email", in.Email, "role", in.Role) }) {
		return
	}
	inv, err := h.auth.Invite(r.Context(), cur.User, orgID, *in.Email, gardien.Role(*in.Role), httpx.Client(r))
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"invitation": invitationJSON(*inv)})
}

func invitationJSON(inv gardien.Invitation) map[string]any {
	return map[string]any{"id": inv.ID, "email": inv.Email, "role": inv.Role, "expires_at": inv.ExpiresAt.Format(time.RFC3339)}
}

func (h *Handler) handleListInvitations(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	orgID, ok := h.pathID(w, r, "id")
	if !ok {
		return
	}
	list, err := h.auth.Invitations(r.Context(), cur.User, orgID)
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"invitations": each(list, invitationJSON)})
}

func (h *Handler) handleRevokeInvitation(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	orgID, ok := h.pathID(w, r, "id")
	if !ok {
		return
	}
	invID, ok := h.pathID(w, r, "inv")
	if !ok {
		return
	}
	if err := h.auth.RevokeInvitation(r.Context(), cur.User, orgID, invID, httpx.Client(r)); err != nil {
		h.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) handleAcceptInvitation(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	var in struct {
		Token *string `json:"token"`
	}
	if !h.body(w, r, &in, func() error { return required("token", in.Token) }) {
		return
	}
	j, err := h.auth.AcceptInvitation(r.Context(), cur.Session, cur.User, *in.Token, httpx.Client(r))
	if err != nil {
		h.error(w, r, err)
		return
	}
	if j.Token != "" {
		h.cookies.Set(w, j.Token, cur.Session.ExpiresAt)
	}
	writeJSON(w, http.StatusOK, map[string]any{"organization": toOrg(*j.Membership), "status": j.Status})
}

func (h *Handler) handleMembers(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	orgID, ok := h.pathID(w, r, "id")
	if !ok {
		return
	}
	q := r.URL.Query()
	page := 1
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			h.error(w, r, gardien.Invalid("page", "err.field_type"))
			return
		}
		page = n
	}
	without := false
	switch q.Get("filter") {
	case "":
	case "without_two_factor":
		without = true
	default:
		h.error(w, r, gardien.Invalid("filter", "err.filter_invalid"))
		return
	}
	p, err := h.auth.Members(r.Context(), cur.User, orgID, without, page)
	if err != nil {
		h.error(w, r, err)
		return
	}
	members := each(p.Members, func(m gardien.Member) map[string]any {
		var last any
		if !m.LastLoginAt.IsZero() {
			last = m.LastLoginAt.Format(time.RFC3339)
		}
		return map[string]any{"user_id": m.UserID, "email": m.Email, "name": m.Name, "role": m.Role,
			"two_factor_enabled": m.TwoFactorEnabled, "sso": m.SSO, "last_login_at": last}
	})
	writeJSON(w, http.StatusOK, map[string]any{"members": members, "total": p.Counts.Total, "protected": p.Counts.Protected, "page": p.Page, "pages": p.Pages})
}

func (h *Handler) handleSetRole(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	orgID, userID, ok := h.memberPath(w, r)
	if !ok {
		return
	}
	var in struct {
		Role *string `json:"role"`
	}
	if !h.body(w, r, &in, func() error { return required("role", in.Role) }) {
		return
	}
	if err := h.auth.SetRole(r.Context(), cur.User, orgID, userID, gardien.Role(*in.Role), httpx.Client(r)); err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user_id": userID, "role": *in.Role})
}

// memberAction answers 204 to an action on one member (remove, reset 2FA)
// that auth carries out.
func (h *Handler) memberAction(act func(ctx context.Context, actor *gardien.User, orgID, userID int64, c gardien.Client) error) func(http.ResponseWriter, *http.Request, *httpx.Current) {
	return func(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
		orgID, userID, ok := h.memberPath(w, r)
		if !ok {
			return
		}
		if err := act(r.Context(), cur.User, orgID, userID, httpx.Client(r)); err != nil {
			h.error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func (h *Handler) handleRemind(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	orgID, ok := h.pathID(w, r, "id")
	if !ok {
		return
	}
	n, err := h.auth.Remind(r.Context(), cur.User, orgID, httpx.Client(r))
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"sent": n})
}

func (h *Handler) handleGetSecurity(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	orgID, ok := h.pathID(w, r, "id")
	if !ok {
		return
	}
	sec, err := h.auth.OrgSecurity(r.Context(), cur.User, orgID)
	if err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"require_two_factor": sec.Membership.RequireTwoFactor, "members": sec.Counts.Total,
		"members_protected": sec.Counts.Protected, "members_without_two_factor": sec.WithoutTwoFactor})
}

func (h *Handler) handleSetSecurity(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	orgID, ok := h.pathID(w, r, "id")
	if !ok {
		return
	}
	var in struct {
		RequireTwoFactor *bool `json:"require_two_factor"`
		// EndSessions ends the open sessions of members without 2FA when
		// the requirement goes on (default: they run until they end).
		EndSessions *bool `json:"end_sessions"`
	}
	if !h.body(w, r, &in, func() error { return required("require_two_factor", in.RequireTwoFactor) }) {
		return
	}
	end := in.EndSessions != nil && *in.EndSessions
	if err := h.auth.SetRequireTwoFactor(r.Context(), cur.User, orgID, *in.RequireTwoFactor, end, httpx.Client(r)); err != nil {
		h.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"require_two_factor": *in.RequireTwoFactor})
}

// eventFilter reads the audit log's query: type, user_id, before, limit.
func (h *Handler) eventFilter(w http.ResponseWriter, r *http.Request) (gardien.EventFilter, bool) {
	q := r.URL.Query()
	f := gardien.EventFilter{Type: q.Get("type"), Person: q.Get("person"), Limit: 50}
	for name, dst := range map[string]*int64{"user_id": &f.UserID, "before": &f.Before} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				h.error(w, r, gardien.Invalid(name, "err.field_type"))
				return f, false
			}
			*dst = n
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			h.error(w, r, gardien.Invalid("limit", "err.limit_invalid"))
			return f, false
		}
		f.Limit = n
	}
	return f, true
}

type orgEventJSON struct {
	ID         int64  `json:"id"`
	Time       string `json:"time"`
	Type       string `json:"type"`
	UserID     int64  `json:"user_id,omitempty"`
	UserEmail  string `json:"user_email,omitempty"`
	ActorID    int64  `json:"actor_id,omitempty"`
	ActorEmail string `json:"actor_email,omitempty"`
	IP         string `json:"ip"`
	UserAgent  string `json:"user_agent"`
	Detail     string `json:"detail,omitempty"`
}

func toOrgEvent(e gardien.Event) orgEventJSON {
	return orgEventJSON{e.ID, e.Time.Format(time.RFC3339), e.Type, e.UserID, e.UserEmail, e.ActorID, e.ActorEmail, e.IP, e.UserAgent, e.Detail}
}

func (h *Handler) handleAuditLog(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	orgID, ok := h.pathID(w, r, "id")
	if !ok {
		return
	}
	f, ok := h.eventFilter(w, r)
	if !ok {
		return
	}
	events, err := h.auth.AuditLog(r.Context(), cur.User, orgID, f)
	if err != nil {
		h.error(w, r, err)
		return
	}
	out := each(events, toOrgEvent)
	var next any
	if len(events) == f.Limit {
		next = events[len(events)-1].ID
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out, "next_before": next})
}

// handleAuditExport streams the whole audit log as JSON lines, newest first.
func (h *Handler) handleAuditExport(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	orgID, ok := h.pathID(w, r, "id")
	if !ok {
		return
	}
	f, ok := h.eventFilter(w, r)
	if !ok {
		return
	}
	f.Limit = 1000
	events, err := h.auth.AuditLog(r.Context(), cur.User, orgID, f)
	if err != nil {
		h.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="gardien-audit-`+strconv.FormatInt(orgID, 10)+`.jsonl"`)
	enc := json.NewEncoder(w)
	for len(events) > 0 {
		for _, e := range events {
			enc.Encode(toOrgEvent(e))
		}
		if len(events) < f.Limit {
			break
		}
		f.Before = events[len(events)-1].ID
		if events, err = h.auth.AuditLog(r.Context(), cur.User, orgID, f); err != nil {
			h.log.ErrorContext(r.Context(), "audit export cut short", "org_id", orgID, "err", err)
			return
		}
	}
}
