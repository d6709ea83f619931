package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
)

// pathID reads a numeric path value; a malformed one is a 404.
func pathID(r *http.Request, name string) (int64, error) {
	id, ok := httpx.PathID(r, name)
	if !ok {
		return 0, gardien.Errorf(gardien.CodeNotFound, "err.not_found")
	}
	return id, nil
}

// inOrg serves a handler of …/organizations/{id}/…, with the id read (a
// malformed one is a 404).
func inOrg(fn func(http.ResponseWriter, *http.Request, *httpx.Current, int64) error) guardedHandler {
	return func(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
		orgID, err := pathID(r, "id")
		if err != nil {
			return err
		}
		return fn(w, r, cur, orgID)
	}
}

func toOrg(m gardien.Membership) orgJSON {
	o := orgJSON{ID: m.ID, Name: m.Name, Role: string(m.Role), RequireTwoFactor: m.RequireTwoFactor}
	if m.RequireTwoFactor {
		o.TwoFactorDeadline = timeOrNull(m.TwoFactorDeadline)
	}
	return o
}

// timeOrNull is a time as RFC 3339, or null for none.
func timeOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

// parseDeadline reads a requirement's deadline: a date (its first minute,
// UTC) or an RFC 3339 time.
func parseDeadline(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, gardien.Invalid("deadline", "err.deadline_format")
}

func (h *Handler) handleCreateOrg(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	var in struct {
		Name *string `json:"name"`
	}
	if err := h.body(w, r, &in, func() error { return required("name", in.Name) }); err != nil {
		return err
	}
	o, err := h.auth.CreateOrganization(r.Context(), cur.User, *in.Name, httpx.Client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"organization": toOrg(gardien.Membership{Organization: *o, Role: gardien.RoleOwner})})
}

func (h *Handler) handleListOrgs(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	ms, err := h.auth.Memberships(r.Context(), cur.User.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"organizations": each(ms, toOrg)})
}

func (h *Handler) handleInvite(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	var in struct {
		Email *string `json:"email"`
		Role  *string `json:"role"`
	}
	if err := h.body(w, r, &in, func() error { return required("email", in.Email, "role", in.Role) }); err != nil {
		return err
	}
	inv, err := h.auth.Invite(r.Context(), cur.User, orgID, *in.Email, gardien.Role(*in.Role), httpx.Client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"invitation": invitationJSON(*inv)})
}

func invitationJSON(inv gardien.Invitation) map[string]any {
	return map[string]any{"id": inv.ID, "email": inv.Email, "role": inv.Role, "expires_at": inv.ExpiresAt.Format(time.RFC3339)}
}

func (h *Handler) handleListInvitations(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	list, err := h.auth.Invitations(r.Context(), cur.User, orgID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"invitations": each(list, invitationJSON)})
}

func (h *Handler) handleRevokeInvitation(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	invID, err := pathID(r, "inv")
	if err != nil {
		return err
	}
	if err := h.auth.RevokeInvitation(r.Context(), cur.User, orgID, invID, httpx.Client(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) handleAcceptInvitation(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	var in struct {
		Token *string `json:"token"`
	}
	if err := h.body(w, r, &in, func() error { return required("token", in.Token) }); err != nil {
		return err
	}
	j, err := h.auth.AcceptInvitation(r.Context(), cur.Session, cur.User, *in.Token, httpx.Client(r))
	if err != nil {
		return err
	}
	if j.Token != "" {
		h.cookies.Set(w, j.Token, cur.Session.ExpiresAt)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"organization": toOrg(*j.Membership), "status": j.Status})
}

func (h *Handler) handleMembers(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	q := r.URL.Query()
	page := 1
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return gardien.Invalid("page", "err.field_type")
		}
		page = n
	}
	without := false
	switch q.Get("filter") {
	case "":
	case "without_two_factor":
		without = true
	default:
		return gardien.Invalid("filter", "err.filter_invalid")
	}
	p, err := h.auth.Members(r.Context(), cur.User, orgID, without, page)
	if err != nil {
		return err
	}
	members := each(p.Members, func(m gardien.Member) map[string]any {
		return map[string]any{"user_id": m.UserID, "email": m.Email, "name": m.Name, "role": m.Role,
			"two_factor_enabled": m.TwoFactorEnabled, "two_factor_methods": methodsOf(m), "sso": m.SSO, "last_login_at": timeOrNull(m.LastLoginAt),
			"last_reminded_at": timeOrNull(m.LastRemindedAt), "disabled": m.Disabled, "deprovisioned": m.DisabledBy == gardien.DisabledBySCIM}
	})
	return writeJSON(w, http.StatusOK, map[string]any{"members": members, "total": p.Counts.Total, "protected": p.Counts.Protected, "page": p.Page, "pages": p.Pages})
}

func (h *Handler) handleSetRole(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	userID, err := pathID(r, "user")
	if err != nil {
		return err
	}
	var in struct {
		Role *string `json:"role"`
	}
	if err := h.body(w, r, &in, func() error { return required("role", in.Role) }); err != nil {
		return err
	}
	if err := h.auth.SetRole(r.Context(), cur.User, orgID, userID, gardien.Role(*in.Role), httpx.Client(r)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"user_id": userID, "role": *in.Role})
}

// memberAction answers 204 to an action on one member (remove, reset 2FA)
// that auth carries out.
func (h *Handler) memberAction(act func(ctx context.Context, actor *gardien.User, orgID, userID int64, c gardien.Client) error) guardedHandler {
	return inOrg(func(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
		userID, err := pathID(r, "user")
		if err != nil {
			return err
		}
		if err := act(r.Context(), cur.User, orgID, userID, httpx.Client(r)); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func (h *Handler) handleRemind(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	n, err := h.auth.Remind(r.Context(), cur.User, orgID, httpx.Client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, map[string]any{"sent": n})
}

func (h *Handler) handleGetSecurity(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	sec, err := h.auth.OrgSecurity(r.Context(), cur.User, orgID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"require_two_factor": sec.Membership.RequireTwoFactor,
		"require_phishing_resistant": sec.Membership.RequirePhishingResistant,
		"two_factor_deadline":        toOrg(*sec.Membership).TwoFactorDeadline, "members": sec.Counts.Total,
		"members_protected": sec.Counts.Protected, "members_without_two_factor": sec.WithoutTwoFactor, "members_without_key": sec.WithoutKey})
}

func (h *Handler) handleSetSecurity(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	var in struct {
		RequireTwoFactor *bool `json:"require_two_factor"`
		// PhishingResistant: only a passkey or security key meets it.
		PhishingResistant *bool `json:"require_phishing_resistant"`
		// EndSessions ends the open sessions of members without 2FA when
		// the requirement goes on (default: they run until they end).
		EndSessions *bool `json:"end_sessions"`
		// Notify mails the members without 2FA now (default false).
		Notify *bool `json:"notify_members"`
		// Deadline gives members until then (a date or an RFC 3339
		// time); absent: at their next login.
		Deadline *string `json:"deadline"`
	}
	if err := h.body(w, r, &in, func() error { return required("require_two_factor", in.RequireTwoFactor) }); err != nil {
		return err
	}
	end := in.EndSessions != nil && *in.EndSessions
	opt := auth.RequireOptions{EndSessions: end, Notify: in.Notify != nil && *in.Notify, PhishingResistant: in.PhishingResistant != nil && *in.PhishingResistant}
	if in.Deadline != nil {
		d, err := parseDeadline(*in.Deadline)
		if err != nil {
			return err
		}
		opt.Deadline = d
	}
	if err := h.auth.SetRequireTwoFactor(r.Context(), cur.User, orgID, *in.RequireTwoFactor, opt, httpx.Client(r)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"require_two_factor": *in.RequireTwoFactor, "require_phishing_resistant": *in.RequireTwoFactor && opt.PhishingResistant})
}

// eventFilter reads the audit log's query: type, user_id, before, limit.
func eventFilter(r *http.Request) (gardien.EventFilter, error) {
	q := r.URL.Query()
	f := gardien.EventFilter{Type: q.Get("type"), Person: q.Get("person"), Limit: 50}
	for name, dst := range map[string]*int64{"user_id": &f.UserID, "before": &f.Before} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return f, gardien.Invalid(name, "err.field_type")
			}
			*dst = n
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return f, gardien.Invalid("limit", "err.limit_invalid")
		}
		f.Limit = n
	}
	return f, nil
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
	// Data is what the event records, as values (stable keys, for
	// programs); Detail writes it for people, in the request's language.
	Data   gardien.EventData `json:"data,omitempty"`
	Detail string            `json:"detail,omitempty"`
}

// orgEvents turns events into their JSON, details in the request's language.
func (h *Handler) orgEvents(r *http.Request) func(gardien.Event) orgEventJSON {
	lang := h.lang(r)
	return func(e gardien.Event) orgEventJSON {
		return orgEventJSON{e.ID, e.Time.Format(time.RFC3339), e.Type, e.UserID, e.UserEmail, e.ActorID, e.ActorEmail,
			e.IP, e.UserAgent, e.Data, h.cat.EventDetail(lang, time.UTC, e.Data)}
	}
}

func (h *Handler) handleAuditLog(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	f, err := eventFilter(r)
	if err != nil {
		return err
	}
	events, err := h.auth.AuditLog(r.Context(), cur.User, orgID, f)
	if err != nil {
		return err
	}
	out := each(events, h.orgEvents(r))
	var next any
	if len(events) == f.Limit {
		next = events[len(events)-1].ID
	}
	return writeJSON(w, http.StatusOK, map[string]any{"events": out, "next_before": next})
}

// handleAuditExport streams the whole audit log as JSON lines, newest first.
func (h *Handler) handleAuditExport(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	enc := json.NewEncoder(w)
	return h.exportAudit(w, r, cur, orgID, "application/x-ndjson", "jsonl", func(e orgEventJSON) error { return enc.Encode(e) }, func() {})
}

// handleAuditCSV is the audit log as CSV, the same filters: one event a
// line, its detail in the request's language and its data as JSON.
func (h *Handler) handleAuditCSV(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	out := csv.NewWriter(w)
	// Buffered: it reaches the body only with the events (done), not before
	// a refusal.
	_ = out.Write([]string{"id", "time", "type", "actor_email", "user_email", "ip", "user_agent", "detail", "data"}) // in memory until the events' first write
	return h.exportAudit(w, r, cur, orgID, "text/csv; charset=utf-8", "csv", func(e orgEventJSON) error {
		data, _ := json.Marshal(e.Data)
		return out.Write([]string{strconv.FormatInt(e.ID, 10), e.Time, e.Type, cell(e.ActorEmail), cell(e.UserEmail), e.IP,
			cell(e.UserAgent), cell(e.Detail), cell(string(data))})
	}, out.Flush)
}

// exportAudit writes the whole audit log the filters select, newest first,
// event by event (write), in pages; done ends the body.
func (h *Handler) exportAudit(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64, contentType, ext string,
	write func(orgEventJSON) error, done func()) error {
	f, err := eventFilter(r)
	if err != nil {
		return err
	}
	f.Limit = 1000
	events, err := h.auth.AuditLog(r.Context(), cur.User, orgID, f)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="gardien-audit-`+strconv.FormatInt(orgID, 10)+"."+ext+`"`)
	defer done()
	toJSON := h.orgEvents(r)
	for len(events) > 0 {
		for _, e := range events {
			if err := write(toJSON(e)); err != nil {
				return nil // the client went away
			}
		}
		if len(events) < f.Limit {
			break
		}
		f.Before = events[len(events)-1].ID
		if events, err = h.auth.AuditLog(r.Context(), cur.User, orgID, f); err != nil {
			// The answer has begun: too late for a problem.
			h.log.ErrorContext(r.Context(), "audit export cut short", "org_id", orgID, "err", err)
			return nil
		}
	}
	return nil
}

// handleMembersExport writes every member as CSV: who, role, how their
// second factor stands, last login and last reminder.
func (h *Handler) handleMembersExport(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	// Refused before a byte is written: the rights first.
	if _, err := h.auth.Members(r.Context(), cur.User, orgID, false, 1); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="gardien-members-`+strconv.FormatInt(orgID, 10)+`.csv"`)
	out := csv.NewWriter(w)
	_ = out.Write([]string{"email", "name", "role", "two_factor", "sso", "last_login_at", "last_reminded_at", "joined_at", "two_factor_methods", "account"}) // in memory until the members' first write
	err := h.auth.EachMember(r.Context(), cur.User, orgID, func(m gardien.Member) error {
		tfa := "not_set_up"
		switch {
		case m.SSO:
			tfa = "identity_provider"
		case m.TwoFactorEnabled:
			tfa = "enabled"
		}
		account := "active"
		switch {
		case m.DisabledBy == gardien.DisabledBySCIM:
			account = "deprovisioned"
		case m.Disabled:
			account = "disabled"
		}
		return out.Write([]string{cell(m.Email), cell(m.Name), string(m.Role), tfa, strconv.FormatBool(m.SSO),
			timeOrEmpty(m.LastLoginAt), timeOrEmpty(m.LastRemindedAt), timeOrEmpty(m.JoinedAt), strings.Join(methodsOf(m), " "), account})
	})
	out.Flush()
	if err != nil {
		// The answer has begun: too late for a problem.
		h.log.ErrorContext(r.Context(), "members export cut short", "org_id", orgID, "err", err)
	}
	return nil
}

// cell keeps a value a spreadsheet would take for a formula (a name that
// starts with = + - @) as text.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func timeOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (h *Handler) handleRenameOrg(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	var in struct {
		Name *string `json:"name"`
	}
	if err := h.body(w, r, &in, func() error { return required("name", in.Name) }); err != nil {
		return err
	}
	name, err := h.auth.RenameOrganization(r.Context(), cur.User, orgID, *in.Name, httpx.Client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"organization": map[string]any{"id": orgID, "name": name}})
}

func (h *Handler) handleDeleteOrg(w http.ResponseWriter, r *http.Request, cur *httpx.Current, orgID int64) error {
	var in struct {
		Name *string `json:"name"`
	}
	if err := h.body(w, r, &in, func() error { return required("name", in.Name) }); err != nil {
		return err
	}
	if err := h.auth.DeleteOrganization(r.Context(), cur.User, orgID, *in.Name, httpx.Client(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// methodsOf names a member's second factors.
func methodsOf(m gardien.Member) []string {
	out := []string{}
	if m.AppEnabled {
		out = append(out, "app")
	}
	if m.HasKeys {
		out = append(out, "passkey")
	}
	return out
}
