package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
)

// orgCookie remembers the organization last opened, for the account menu's
// Organization settings.
const orgCookie = "gardien_org"

// pathIDs are the numeric path values of the routes; guard answers 404 to
// a path whose values are not positive numbers, so handlers read them with
// pathID and build URLs from the numbers, never from raw path segments.
var pathIDs = []string{"id", "inv", "user", "session", "key", "token", "webhook", "delivery"}

func validPathIDs(r *http.Request) bool {
	for _, name := range pathIDs {
		if _, ok := httpx.PathID(r, name); r.PathValue(name) != "" && !ok {
			return false
		}
	}
	return true
}

// pathID reads a path value that guard checked.
func pathID(r *http.Request, name string) int64 {
	id, _ := httpx.PathID(r, name)
	return id
}

func orgURL(r *http.Request, page string) string {
	return "/organizations/" + strconv.FormatInt(pathID(r, "id"), 10) + "/" + page
}

// orgPage starts a page of an organization's settings for a member of it,
// or answers (not found) and returns nil.
func (h *Handler) orgPage(w http.ResponseWriter, r *http.Request, cur *httpx.Current, title, section string) *Page {
	orgID := pathID(r, "id")
	m, err := h.Auth.Organization(r.Context(), cur.User, orgID)
	if err != nil {
		h.Fail(w, r, err)
		return nil
	}
	orgs, err := h.Auth.Memberships(r.Context(), cur.User.ID)
	if err != nil {
		h.Fail(w, r, err)
		return nil
	}
	p := h.newPage(r, title)
	p.Org, p.Orgs, p.OrgSection = m, orgs, section
	h.Cookies.Write(w, orgCookie, strconv.FormatInt(m.ID, 10), yearLong)
	return &p
}

// managedPage is orgPage for the pages of owners and admins: a plain member
// is sent to the organization's overview (which names whom to ask), and nil
// returned.
func (h *Handler) managedPage(w http.ResponseWriter, r *http.Request, cur *httpx.Current, title, section string) *Page {
	p := h.orgPage(w, r, cur, title, section)
	if p != nil && !p.Org.Role.Manages() {
		redirect(w, r, orgHome(*p.Org))
		return nil
	}
	return p
}

// done redirects to a page of the organization with a flash, or shows the
// error of an action there.
func (h *Handler) done(w http.ResponseWriter, r *http.Request, err error, to, okKey string, args ...string) {
	if err != nil {
		e, ok := gardien.AsError(err)
		if !ok {
			h.Fail(w, r, err)
			return
		}
		msg := e.Message
		if len(e.Fields) > 0 {
			msg = e.Fields[0].Message
		}
		h.setFlashArgs(w, "error", msg, e.Args)
		redirect(w, r, to)
		return
	}
	h.setFlash(w, "ok", okKey, args...)
	redirect(w, r, to)
}

// handleOrganization is the account menu's Organization settings: the
// organization last opened, else the first; none: a form to create one.
func (h *Handler) handleOrganization(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	orgs, err := h.Auth.Memberships(r.Context(), cur.User.ID)
	if err != nil {
		h.Fail(w, r, err)
		return
	}
	if len(orgs) == 0 {
		p := h.newPage(r, "org.title")
		h.render(w, r, http.StatusOK, "organization", &p)
		return
	}
	pick := orgs[0]
	if ck, err := r.Cookie(orgCookie); err == nil {
		for _, m := range orgs {
			if strconv.FormatInt(m.ID, 10) == ck.Value {
				pick = m
			}
		}
	}
	redirect(w, r, orgHome(pick))
}

func orgHome(m gardien.Membership) string {
	if m.Role.Manages() {
		return "/organizations/" + strconv.FormatInt(m.ID, 10) + "/members"
	}
	return "/organizations/" + strconv.FormatInt(m.ID, 10) + "/overview"
}

func (h *Handler) handleCreateOrg(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) {
		return
	}
	o, err := h.Auth.CreateOrganization(r.Context(), cur.User, r.PostForm.Get("name"), httpx.Client(r))
	if err != nil {
		p := h.newPage(r, "org.title")
		p.Form = r.PostForm
		h.renderError(w, r, err, "organization", &p)
		return
	}
	h.setFlash(w, "ok", "org.created", o.Name)
	redirect(w, r, "/organizations/"+strconv.FormatInt(o.ID, 10)+"/members")
}

func (h *Handler) handleOrgOverview(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.orgPage(w, r, cur, "org.title", "overview")
	if p == nil {
		return
	}
	if p.Org.Role.Manages() {
		redirect(w, r, orgHome(*p.Org))
		return
	}
	p.OrgSection = "" // a member sees no management menu
	owners, err := h.Auth.Owners(r.Context(), cur.User, p.Org.ID)
	if err != nil {
		h.Fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "org_overview", &overviewPage{Page: *p, Owners: owners})
}

// overviewPage is a plain member's view of their organization.
type overviewPage struct {
	Page
	Owners []gardien.Member // whom to contact
}

// handleLeaveConfirm asks before a person leaves an organization (a page,
// so it works without JavaScript).
type leavePage struct {
	Page
	// SoleOwner: the person is its only owner, and cannot leave until
	// another is made owner (said first, with no Yes to press).
	SoleOwner bool
}

func (h *Handler) handleLeaveConfirm(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.orgPage(w, r, cur, "org.leave", "overview")
	if p == nil {
		return
	}
	err := h.Auth.MayLeave(r.Context(), cur.User, p.Org.ID)
	if err != nil && gardien.ErrorCode(err) != gardien.CodeConflict {
		h.Fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "org_leave", &leavePage{Page: *p, SoleOwner: err != nil})
}

func (h *Handler) handleLeave(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	err := h.Auth.RemoveMember(r.Context(), cur.User, pathID(r, "id"), cur.User.ID, httpx.Client(r))
	if err != nil {
		h.done(w, r, err, "/organization", "")
		return
	}
	h.setFlash(w, "ok", "org.left")
	redirect(w, r, "/organization")
}

type membersPage struct {
	Page
	*auth.MembersPage // with Powers: what the viewer may do, as auth decides
	Without           bool
	Invitations       []gardien.Invitation
}

func (p *membersPage) Prev() int { return p.MembersPage.Page - 1 }
func (p *membersPage) Next() int { return p.MembersPage.Page + 1 }

func (h *Handler) handleMembers(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	base := h.managedPage(w, r, cur, "org.members", "members")
	if base == nil {
		return
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	p := membersPage{Page: *base, Without: r.URL.Query().Get("filter") == "without_two_factor"}
	var err error
	if p.MembersPage, err = h.Auth.Members(r.Context(), cur.User, p.Org.ID, p.Without, page); err != nil {
		h.Fail(w, r, err)
		return
	}
	if p.Invitations, err = h.Auth.Invitations(r.Context(), cur.User, p.Org.ID); err != nil {
		h.Fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "org_members", &p)
}

func membersURL(r *http.Request) string { return orgURL(r, "members") }

func (h *Handler) handleInvite(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) {
		return
	}
	inv, err := h.Auth.Invite(r.Context(), cur.User, pathID(r, "id"), r.PostForm.Get("email"), gardien.Role(r.PostForm.Get("role")), httpx.Client(r))
	email := ""
	if inv != nil {
		email = inv.Email
	}
	h.done(w, r, err, membersURL(r), "org.invited", email)
}

func (h *Handler) handleRevoke(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	h.done(w, r, h.Auth.RevokeInvitation(r.Context(), cur.User, pathID(r, "id"), pathID(r, "inv"), httpx.Client(r)), membersURL(r), "org.revoked")
}

func (h *Handler) handleRole(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) {
		return
	}
	err := h.Auth.SetRole(r.Context(), cur.User, pathID(r, "id"), pathID(r, "user"), gardien.Role(r.PostForm.Get("role")), httpx.Client(r))
	h.done(w, r, err, membersURL(r), "org.role_changed")
}

func (h *Handler) handleRemove(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	h.done(w, r, h.Auth.RemoveMember(r.Context(), cur.User, pathID(r, "id"), pathID(r, "user"), httpx.Client(r)), membersURL(r), "org.removed")
}

func (h *Handler) handleRemind(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	n, err := h.Auth.Remind(r.Context(), cur.User, pathID(r, "id"), httpx.Client(r))
	h.done(w, r, err, membersURL(r), "org.reminded", strconv.Itoa(n))
}

type resetPageData struct {
	Page
	Member gardien.Member
}

func (h *Handler) handleResetConfirm(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	h.memberConfirm(w, r, cur, "org.reset_two_factor", "org_reset")
}

// handleRemoveConfirm asks before a member is removed.
func (h *Handler) handleRemoveConfirm(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	h.memberConfirm(w, r, cur, "org.remove_title", "org_remove")
}

// memberConfirm renders the page that asks before an action on a member.
func (h *Handler) memberConfirm(w http.ResponseWriter, r *http.Request, cur *httpx.Current, title, page string) {
	p := h.orgPage(w, r, cur, title, "members")
	if p == nil {
		return
	}
	m, err := h.Auth.Member(r.Context(), cur.User, p.Org.ID, pathID(r, "user"))
	if err != nil {
		h.Fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, page, &resetPageData{Page: *p, Member: *m})
}

// handleSignOutConfirm asks before a member is signed out everywhere.
func (h *Handler) handleSignOutConfirm(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	h.memberConfirm(w, r, cur, "org.sign_out", "org_sign_out")
}

func (h *Handler) handleSignOutMember(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	h.done(w, r, h.Auth.SignOutMember(r.Context(), cur.User, pathID(r, "id"), pathID(r, "user"), httpx.Client(r)), membersURL(r), "org.sign_out_done")
}

func (h *Handler) handleResetMember(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	h.done(w, r, h.Auth.ResetMemberTwoFactor(r.Context(), cur.User, pathID(r, "id"), pathID(r, "user"), httpx.Client(r)), membersURL(r), "org.reset_done")
}

type securityPage struct {
	Page
	*auth.Security
	// SCIM is the organization's SCIM token (nil: off), for its owners;
	// SCIMReady: SSO is on for a verified domain (SCIM may be turned on);
	// SCIMMade: a token just made, shown this once.
	SCIM      *gardien.SCIMToken
	SCIMBase  string
	SCIMReady bool
	SCIMMade  *auth.NewSCIMToken
}

func (h *Handler) securityData(w http.ResponseWriter, r *http.Request, cur *httpx.Current) *securityPage {
	base := h.managedPage(w, r, cur, "org.security", "security")
	if base == nil {
		return nil
	}
	sec, err := h.Auth.OrgSecurity(r.Context(), cur.User, base.Org.ID)
	if err != nil {
		h.Fail(w, r, err)
		return nil
	}
	p := &securityPage{Page: *base, Security: sec}
	if sec.CanChangeSSO {
		if p.SCIM, _, err = h.Auth.SCIMStatus(r.Context(), cur.User, base.Org.ID); err != nil {
			h.Fail(w, r, err)
			return nil
		}
		p.SCIMBase = h.Auth.Links.SCIM(base.Org.ID)
		if c := sec.SSO; c != nil && c.Enabled {
			p.SCIMReady = slices.ContainsFunc(c.Domains, func(d gardien.SSODomain) bool { return d.Verified() })
		}
	}
	if c := sec.SSO; c != nil {
		domains := make([]string, len(c.Domains))
		for i, d := range c.Domains {
			domains[i] = d.Domain
		}
		p.Form = url.Values{"protocol": {c.Protocol}, "issuer": {c.Issuer}, "client_id": {c.ClientID}, "domains": {strings.Join(domains, "\n")},
			"idp_metadata_url": {c.IDPMetadataURL}}
		if c.Enabled {
			p.Form.Set("enabled", "on")
		}
		if c.RequireSSO {
			p.Form.Set("require_sso", "on")
		}
		if c.IdPInitiated {
			p.Form.Set("idp_initiated", "on")
		}
	}
	return p
}

// auditPage is an organization's audit log: its filters, a page of events,
// and the exports of what the filters show.
type auditPage struct {
	Page
	Events     []gardien.Event
	EventTypes []string
	Filter     gardien.EventFilter
	Person     string
	Older      string
}

func (h *Handler) handleAudit(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	base := h.managedPage(w, r, cur, "org.audit_title", "audit")
	if base == nil {
		return
	}
	p := &auditPage{Page: *base, EventTypes: gardien.EventTypes}
	q := r.URL.Query()
	p.Filter = gardien.EventFilter{Type: q.Get("type"), Limit: 50}
	if !slices.Contains(gardien.EventTypes, p.Filter.Type) {
		p.Filter.Type = "" // an unknown type filters nothing
	}
	p.Filter.Before, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	p.Person = q.Get("person")
	p.Filter.Person = p.Person
	var err error
	if p.Events, err = h.Auth.AuditLog(r.Context(), cur.User, p.Org.ID, p.Filter); err != nil {
		if gardien.ErrorCode(err) == gardien.CodeValidationFailed {
			p.Events, p.FormError = nil, h.Catalog.T(p.Lang, "err.email_invalid")
			h.render(w, r, http.StatusUnprocessableEntity, "org_audit", p)
			return
		}
		h.Fail(w, r, err)
		return
	}
	if len(p.Events) == p.Filter.Limit {
		older := url.Values{"before": {strconv.FormatInt(p.Events[len(p.Events)-1].ID, 10)}}
		for _, k := range []string{"type", "person"} {
			if v := q.Get(k); v != "" {
				older.Set(k, v)
			}
		}
		p.Older = older.Encode()
	}
	h.render(w, r, http.StatusOK, "org_audit", p)
}

// handleGeneral is the organization's name and its deletion.
func (h *Handler) handleGeneral(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.managedPage(w, r, cur, "org.general", "general")
	if p == nil {
		return
	}
	h.render(w, r, http.StatusOK, "org_general", p)
}

func (h *Handler) handleSecurity(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	// The audit log had this address before it had its own page: a
	// bookmarked filter still opens it.
	if q := r.URL.Query(); q.Has("type") || q.Has("person") || q.Has("before") {
		redirect(w, r, orgURL(r, "audit")+"?"+q.Encode())
		return
	}
	if p := h.securityData(w, r, cur); p != nil {
		h.render(w, r, http.StatusOK, "org_security", p)
	}
}

// handleSecurityConfirm is the switch's confirmation without JavaScript:
// the same question as the pop-up, as a page.
func (h *Handler) handleSecurityConfirm(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.securityData(w, r, cur)
	if p == nil {
		return
	}
	if !p.CanChange {
		h.setFlash(w, "error", "err.require_own_two_factor")
		redirect(w, r, orgURL(r, "security"))
		return
	}
	h.render(w, r, http.StatusOK, "org_security_confirm", p)
}

func (h *Handler) handleSetSecurity(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) {
		return
	}
	on := r.PostForm.Get("require") == "on"
	key := "org.require_now_off"
	if on {
		key = "org.require_now_on"
	}
	end := r.PostForm.Get("sessions") == "end"
	opt := auth.RequireOptions{EndSessions: end, Notify: r.PostForm.Get("notify") == "on", PhishingResistant: r.PostForm.Get("phishing_resistant") == "on"}
	if on && r.PostForm.Get("when") == "deadline" {
		// The date, from its first minute in the reader's time zone.
		day, err := time.ParseInLocation("2006-01-02", r.PostForm.Get("deadline"), zoneOf(r))
		if err != nil {
			msg := "err.deadline_invalid"
			if r.PostForm.Get("deadline") == "" {
				msg = "err.deadline_missing"
			}
			h.requireAgain(w, r, cur, gardien.Invalid("deadline", msg))
			return
		}
		opt.Deadline = day
	}
	err := h.Auth.SetRequireTwoFactor(r.Context(), cur.User, pathID(r, "id"), on, opt, httpx.Client(r))
	if e, ok := gardien.AsError(err); ok && len(e.Fields) > 0 && e.Fields[0].Field == "deadline" {
		h.requireAgain(w, r, cur, err)
		return
	}
	h.done(w, r, err, orgURL(r, "security"), key)
}

// requireAgain asks the requirement's question again, as typed, with what
// is wrong next to its field (the date): not a flash above another page.
func (h *Handler) requireAgain(w http.ResponseWriter, r *http.Request, cur *httpx.Current, err error) {
	p := h.securityData(w, r, cur)
	if p == nil {
		return
	}
	p.Form = r.PostForm
	h.renderError(w, r, err, "org_security_confirm", p)
}

type invitationPage struct {
	Page
	Invitation *gardien.Invitation
	Token      string
	Next       string
}

func (h *Handler) handleInvitationPage(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	p := invitationPage{Page: h.newPage(r, "invite.title"), Token: tok, Next: "/invitations/accept?" + url.Values{"token": {tok}}.Encode()}
	inv, err := h.Auth.PeekInvitation(r.Context(), tok)
	if err != nil {
		if _, ok := gardien.AsError(err); !ok {
			h.Fail(w, r, err)
			return
		}
		p.FormError = h.Catalog.T(p.Lang, "err.invitation_invalid")
		h.render(w, r, http.StatusBadRequest, "invitation", &p)
		return
	}
	p.Invitation = inv
	h.render(w, r, http.StatusOK, "invitation", &p)
}

func (h *Handler) handleAcceptInvitation(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) {
		return
	}
	j, err := h.Auth.AcceptInvitation(r.Context(), cur.Session, cur.User, r.PostForm.Get("token"), httpx.Client(r))
	if err != nil {
		h.done(w, r, err, "/", "")
		return
	}
	h.joined(w, r, cur.Session, j)
}

// joined sends a new member on: to the organization, or to the set-up
// first when it requires 2FA they do not have.
func (h *Handler) joined(w http.ResponseWriter, r *http.Request, sess *gardien.Session, j *auth.Joined) {
	if j.Token != "" {
		h.Cookies.Set(w, j.Token, sess.ExpiresAt)
	}
	h.toJoined(w, r, j)
}

// toJoined sends a new member where joining leads.
func (h *Handler) toJoined(w http.ResponseWriter, r *http.Request, j *auth.Joined) {
	h.setFlash(w, "ok", "invite.joined", j.Membership.Name)
	if j.Status == auth.StatusSetupRequired {
		redirect(w, r, "/two-factor/setup")
		return
	}
	redirect(w, r, orgHome(*j.Membership))
}

type setupPage struct {
	Page
	OrgName string
	// The set-up follows the personal page's rule: a validated email
	// first. Until then the page offers the validation mail again.
	EmailVerified bool
	Email         string
	KeysOffered   bool // a key may be set up instead of an app
	// KeyRequired: the person has an app, and an organization asks for a
	// passkey or security key: the set-up is a key's.
	KeyRequired bool
}

// handleSetupRequired is where a member lands whose organization requires
// 2FA: the same set-up as Personal settings, and nothing else reachable.
func (h *Handler) handleSetupRequired(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if cur.Session.Level == gardien.LevelFull {
		redirect(w, r, "/settings/two-factor")
		return
	}
	name, err := h.Auth.RequiringOrganization(r.Context(), cur.User.ID)
	if err != nil {
		h.Fail(w, r, err)
		return
	}
	p := setupPage{Page: h.newPage(r, "tfa.title"), OrgName: name, EmailVerified: cur.User.EmailVerified, Email: cur.User.Email,
		KeysOffered: h.Auth.KeysOffered(cur.User), KeyRequired: cur.User.TwoFactorEnabled}
	h.render(w, r, http.StatusOK, "setup_required", &p)
}

func (h *Handler) handleRenameOrg(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) {
		return
	}
	name, err := h.Auth.RenameOrganization(r.Context(), cur.User, pathID(r, "id"), r.PostForm.Get("name"), httpx.Client(r))
	h.done(w, r, err, orgURL(r, "general"), "org.renamed", name)
}

type orgDeletePage struct{ Page }

// handleDeleteOrgPage asks, before deleting the organization, for its name
// typed again (a page, so it works without JavaScript).
func (h *Handler) handleDeleteOrgPage(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.orgPage(w, r, cur, "org.delete", "general")
	if p == nil {
		return
	}
	if p.Org.Role != gardien.RoleOwner {
		redirect(w, r, orgURL(r, "general"))
		return
	}
	h.render(w, r, http.StatusOK, "org_delete", &orgDeletePage{Page: *p})
}

func (h *Handler) handleDeleteOrg(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	p := h.orgPage(w, r, cur, "org.delete", "general")
	if p == nil {
		return
	}
	page := &orgDeletePage{Page: *p}
	if !h.formOn(w, r, "org_delete", page) {
		return
	}
	name := p.Org.Name
	if err := h.Auth.DeleteOrganization(r.Context(), cur.User, p.Org.ID, r.PostForm.Get("name"), httpx.Client(r)); err != nil {
		h.renderError(w, r, err, "org_delete", page)
		return
	}
	h.Cookies.Remove(w, orgCookie)
	h.setFlash(w, "ok", "org.deleted", name)
	redirect(w, r, "/organization")
}

// handleSetKeyOption turns the requirement's phishing-resistant option on
// or off while the requirement holds, its deadline kept (one ahead).
func (h *Handler) handleSetKeyOption(w http.ResponseWriter, r *http.Request, cur *httpx.Current) {
	if !h.form(w, r) {
		return
	}
	sec, err := h.Auth.OrgSecurity(r.Context(), cur.User, pathID(r, "id"))
	if err != nil {
		h.done(w, r, err, orgURL(r, "security"), "")
		return
	}
	if !sec.Membership.RequireTwoFactor {
		h.done(w, r, errRequireFirst, orgURL(r, "security"), "")
		return
	}
	opt := auth.RequireOptions{PhishingResistant: r.PostForm.Get("phishing_resistant") == "on"}
	if d := sec.Membership.TwoFactorDeadline; d.After(h.Auth.Now()) {
		opt.Deadline = d
	}
	key := "org.keys_now_off"
	if opt.PhishingResistant {
		key = "org.keys_now_on"
	}
	err = h.Auth.SetRequireTwoFactor(r.Context(), cur.User, sec.Membership.ID, true, opt, httpx.Client(r))
	h.done(w, r, err, orgURL(r, "security"), key)
}

var errRequireFirst = gardien.Errorf(gardien.CodeConflict, "org.keys_require_first")
