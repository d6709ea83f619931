package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/mail"
	"github.com/gardien/gardien/internal/sso"
)

// OrgStore is the storage of organizations, their members, roles, the 2FA
// requirement and invitations.
type OrgStore interface {
	CreateOrganization(ctx context.Context, o *gardien.Organization, ownerID int64, e *gardien.Event) error
	OrganizationByID(ctx context.Context, id int64) (*gardien.Organization, error)
	Membership(ctx context.Context, orgID, userID int64) (*gardien.Membership, error)
	Memberships(ctx context.Context, userID int64) ([]gardien.Membership, error)
	RequiringOrganization(ctx context.Context, userID int64) (name string, keys bool, err error)
	NeedsTwoFactorSetup(ctx context.Context, userID int64, now time.Time) (bool, error)
	Members(ctx context.Context, orgID int64, f gardien.MemberFilter) ([]gardien.Member, error)
	Member(ctx context.Context, orgID, userID int64) (*gardien.Member, error)
	MemberCounts(ctx context.Context, orgID int64) (gardien.MemberCounts, error)
	OwnerCount(ctx context.Context, orgID int64) (int, error)
	SetRole(ctx context.Context, orgID, userID int64, role gardien.Role, e *gardien.Event) error
	RemoveMember(ctx context.Context, orgID, userID int64, e *gardien.Event) error
	SetRequireTwoFactor(ctx context.Context, orgID int64, on, phishingResistant, endSessions bool, deadline time.Time, e *gardien.Event) error
	RenameOrganization(ctx context.Context, orgID int64, name string, e *gardien.Event) error
	DeleteOrganization(ctx context.Context, orgID int64, e *gardien.Event) error
	CreateInvitation(ctx context.Context, inv *gardien.Invitation, emailKey string, tokenHash []byte, e *gardien.Event) error
	InvitationByToken(ctx context.Context, tokenHash []byte, now time.Time) (*gardien.Invitation, string, error)
	PendingInvitations(ctx context.Context, orgID int64, now time.Time) ([]gardien.Invitation, error)
	RevokeInvitation(ctx context.Context, orgID, invID int64, e *gardien.Event) error
	AcceptInvitation(ctx context.Context, invID, userID int64, e *gardien.Event) error
	PendingInvitationFor(ctx context.Context, orgID int64, emailKey string, now time.Time) (*gardien.Invitation, error)
}

// invitationTTL is how long an invitation link works.
const invitationTTL = 7 * 24 * time.Hour

// MembersPageSize is how many members a page lists.
const MembersPageSize = 50

func cleanOrgName(raw string) (string, error) {
	name := strings.Join(strings.FieldsFunc(raw, unicode.IsSpace), " ")
	switch {
	case name == "" || !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		return "", gardien.Invalid("name", "err.org_name_required")
	case utf8.RuneCountInString(name) > 100:
		return "", gardien.Invalid("name", "err.name_too_long")
	}
	return name, nil
}

// CreateOrganization makes an organization; its creator is its owner.
func (s *Service) CreateOrganization(ctx context.Context, u *gardien.User, rawName string, c gardien.Client) (*gardien.Organization, error) {
	name, err := cleanOrgName(rawName)
	if err != nil {
		return nil, err
	}
	o := &gardien.Organization{Name: name, CreatedAt: s.Now().UTC()}
	if err := s.Store.CreateOrganization(ctx, o, u.ID, s.newEvent(gardien.EventOrgCreated, u.ID, u.ID, c, gardien.EventData{"name": name})); err != nil {
		return nil, fmt.Errorf("auth: create organization: %w", err)
	}
	return o, nil
}

// Memberships lists a person's organizations.
func (s *Service) Memberships(ctx context.Context, userID int64) ([]gardien.Membership, error) {
	return s.Store.Memberships(ctx, userID)
}

// member returns actor's membership of an organization; one who is not a
// member is told it does not exist (nothing about it is theirs to know).
func (s *Service) member(ctx context.Context, orgID, actorID int64) (*gardien.Membership, error) {
	m, err := s.Store.Membership(ctx, orgID, actorID)
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, errOrgNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("auth: membership: %w", err)
	}
	return m, nil
}

// manager returns actor's membership if they are an owner or an admin.
func (s *Service) manager(ctx context.Context, orgID, actorID int64) (*gardien.Membership, error) {
	m, err := s.member(ctx, orgID, actorID)
	if err != nil {
		return nil, err
	}
	if !m.Role.Manages() {
		return nil, errForbidden
	}
	return m, nil
}

// Organization returns an organization as its member sees it.
func (s *Service) Organization(ctx context.Context, actor *gardien.User, orgID int64) (*gardien.Membership, error) {
	return s.member(ctx, orgID, actor.ID)
}

// maxOwnersShown bounds the owners an organization's page lists.
const maxOwnersShown = 20

// Owners lists an organization's owners (the first 20), for its members:
// whom to contact about the organization (a role, a lost phone).
func (s *Service) Owners(ctx context.Context, actor *gardien.User, orgID int64) ([]gardien.Member, error) {
	if _, err := s.member(ctx, orgID, actor.ID); err != nil {
		return nil, err
	}
	list, err := s.Store.Members(ctx, orgID, gardien.MemberFilter{Role: gardien.RoleOwner, Limit: maxOwnersShown})
	if err != nil {
		return nil, fmt.Errorf("auth: owners: %w", err)
	}
	return list, nil
}

// canManage says whether a manager with role actor may change the role of,
// remove, or invite with a role, a member with role target: owners manage
// everyone; admins manage admins and members, not owners.
func canManage(actor, target gardien.Role) bool {
	return actor == gardien.RoleOwner || (actor == gardien.RoleAdmin && target != gardien.RoleOwner)
}

// canReset says whether a manager with role actor may reset the 2FA of a
// member with role target: owners everyone's, admins members' only.
func canReset(actor, target gardien.Role) bool {
	return actor == gardien.RoleOwner || (actor == gardien.RoleAdmin && target == gardien.RoleMember)
}

// Powers is what a person may do to the members of an organization: the
// pages ask it what to offer, and never recompute the rules.
type Powers struct {
	role   gardien.Role
	userID int64
	// Roles are the roles the person may give, inviting or changing one.
	Roles []gardien.Role
}

func powersOf(m *gardien.Membership, userID int64) Powers {
	p := Powers{role: m.Role, userID: userID}
	if m.Role.Manages() {
		for _, r := range []gardien.Role{gardien.RoleMember, gardien.RoleAdmin, gardien.RoleOwner} {
			if canManage(m.Role, r) {
				p.Roles = append(p.Roles, r)
			}
		}
	}
	return p
}

// CanChangeRole says whether the person may change m's role.
func (p Powers) CanChangeRole(m gardien.Member) bool {
	return p.role.Manages() && canManage(p.role, m.Role)
}

// CanRemove says whether the person may remove m (oneself is not removed
// but leaves, elsewhere).
func (p Powers) CanRemove(m gardien.Member) bool {
	return m.UserID != p.userID && p.CanChangeRole(m)
}

// CanReset says whether the person may reset m's 2FA (never their own:
// that is Personal settings, with the password).
func (p Powers) CanReset(m gardien.Member) bool {
	return m.UserID != p.userID && p.role.Manages() && canReset(p.role, m.Role)
}

// Invite mails an invitation to join with a role. Owners may invite
// owners; admins, admins and members.
func (s *Service) Invite(ctx context.Context, actor *gardien.User, orgID int64, rawEmail string, role gardien.Role, c gardien.Client) (*gardien.Invitation, error) {
	m, err := s.manager(ctx, orgID, actor.ID)
	if err != nil {
		return nil, err
	}
	email, key, ok := NormalizeEmail(rawEmail)
	if !ok {
		return nil, gardien.Invalid("email", "err.email_invalid")
	}
	if !role.Valid() {
		return nil, gardien.Invalid("role", "err.role_invalid")
	}
	if !canManage(m.Role, role) {
		return nil, errForbidden
	}
	// Invitations are mails to strangers: only from a validated address,
	// and bounded per sender and per recipient.
	if !actor.EmailVerified {
		return nil, errNotVerified
	}
	if err := s.mailAllowed(ctx, inviteMailsBySender, strconv.FormatInt(actor.ID, 10)); err != nil {
		return nil, err
	}
	if err := s.mailAllowed(ctx, inviteMailsByRecipient, key); err != nil {
		return nil, err
	}
	tok, hash := newToken()
	now := s.Now().UTC()
	inv := &gardien.Invitation{OrgID: orgID, OrgName: m.Name, Email: email, Role: role, InvitedBy: actor.ID, CreatedAt: now, ExpiresAt: now.Add(invitationTTL)}
	if err := s.Store.CreateInvitation(ctx, inv, key, hash, s.orgEvent(gardien.EventOrgInvitationSent, orgID, 0, actor.ID, c, gardien.EventData{"email": email, "role": string(role)})); err != nil {
		// No mail goes: the tries counted for it are given back.
		s.mailNotSent(ctx, inviteMailsBySender, strconv.FormatInt(actor.ID, 10))
		s.mailNotSent(ctx, inviteMailsByRecipient, key)
		switch {
		case errors.Is(err, gardien.ErrAlreadyMember):
			return nil, &gardien.Error{Code: gardien.CodeConflict, Message: "err.already_member", Args: []any{email}}
		case errors.Is(err, gardien.ErrAlreadyInvited):
			return nil, &gardien.Error{Code: gardien.CodeConflict, Message: "err.already_invited", Args: []any{email}}
		}
		return nil, fmt.Errorf("auth: invite: %w", err)
	}
	// The invitee's language when they have an account; the inviter's
	// otherwise (the invitee has none yet, and the inviter knows them).
	lang := s.langOf(actor, "")
	if u, _, err := s.Store.UserByEmail(ctx, key); err == nil {
		lang = s.langOf(u, lang)
	}
	s.send(ctx, mail.Letter{Kind: "invitation", To: email, Lang: lang, Link: s.Links.AcceptInvitation(tok), Args: []any{actor.Name, m.Name}, Expires: inv.ExpiresAt})
	return inv, nil
}

func (s *Service) orgEvent(typ string, orgID, userID, actorID int64, c gardien.Client, data gardien.EventData) *gardien.Event {
	e := s.newEvent(typ, userID, actorID, c, data)
	e.OrgID = orgID
	return e
}

// Invitations lists an organization's pending invitations, for its managers.
func (s *Service) Invitations(ctx context.Context, actor *gardien.User, orgID int64) ([]gardien.Invitation, error) {
	if _, err := s.manager(ctx, orgID, actor.ID); err != nil {
		return nil, err
	}
	return s.Store.PendingInvitations(ctx, orgID, s.Now())
}

// RevokeInvitation voids a pending invitation.
func (s *Service) RevokeInvitation(ctx context.Context, actor *gardien.User, orgID, invID int64, c gardien.Client) error {
	if _, err := s.manager(ctx, orgID, actor.ID); err != nil {
		return err
	}
	err := s.Store.RevokeInvitation(ctx, orgID, invID, s.orgEvent(gardien.EventOrgInvitationRevoked, orgID, 0, actor.ID, c, gardien.EventData{"invitation": strconv.FormatInt(invID, 10)}))
	if errors.Is(err, gardien.ErrNotFound) {
		return gardien.Errorf(gardien.CodeNotFound, "err.not_found")
	}
	return err
}

// PeekInvitation returns a live invitation without using it (the page
// that shows it), or an invalid_token error.
func (s *Service) PeekInvitation(ctx context.Context, token string) (*gardien.Invitation, error) {
	inv, _, err := s.liveInvitation(ctx, token)
	return inv, err
}

// liveInvitation is the invitation of a token, and the address it is for,
// while it holds: pending, and its sender still may give the role it
// offers (a demoted or departed admin's invitations die with their
// authority). errInviteInvalid otherwise.
func (s *Service) liveInvitation(ctx context.Context, token string) (*gardien.Invitation, string, error) {
	inv, key, err := s.Store.InvitationByToken(ctx, hashToken(token), s.Now())
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, "", errInviteInvalid
	}
	if err != nil {
		return nil, "", fmt.Errorf("auth: invitation: %w", err)
	}
	if ok, err := s.senderMayOffer(ctx, inv); err != nil || !ok {
		if err == nil {
			err = errInviteInvalid
		}
		return nil, "", err
	}
	return inv, key, nil
}

// senderMayOffer says whether an invitation's sender may still give the
// role it offers: a member who manages, and may manage that role.
func (s *Service) senderMayOffer(ctx context.Context, inv *gardien.Invitation) (bool, error) {
	sender, err := s.Store.Membership(ctx, inv.OrgID, inv.InvitedBy)
	if errors.Is(err, gardien.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("auth: invitation's sender: %w", err)
	}
	return sender.Role.Manages() && canManage(sender.Role, inv.Role), nil
}

// Joined is an accepted invitation.
type Joined struct {
	Membership *gardien.Membership
	// Token is the session's new token when joining changed what it may
	// reach ("" otherwise), Status where it stands then: an organization that
	// requires 2FA holds a member without it at the set-up at once, not at
	// their next login.
	Token  string
	Status Status
}

// AcceptInvitation makes u a member, once. The invitation is for one
// address: u's email must be the one invited; and it holds only while its
// sender may still give the role it offers (a demoted or departed admin's
// invitations die with their authority). The link came to that mailbox,
// so the address is validated too.
func (s *Service) AcceptInvitation(ctx context.Context, sess *gardien.Session, u *gardien.User, token string, c gardien.Client) (*Joined, error) {
	if token == "" {
		return nil, gardien.Invalid("token", "err.field_required")
	}
	inv, key, err := s.liveInvitation(ctx, token)
	if err != nil {
		return nil, err
	}
	if _, ukey, _ := NormalizeEmail(u.Email); ukey != key {
		return nil, &gardien.Error{Code: gardien.CodeForbidden, Message: "err.invitation_other_email"}
	}
	err = s.Store.AcceptInvitation(ctx, inv.ID, u.ID, s.orgEvent(gardien.EventOrgMemberJoined, inv.OrgID, u.ID, u.ID, c, gardien.EventData{"role": string(inv.Role)}))
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, errInviteInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("auth: accept invitation: %w", err)
	}
	if !u.EmailVerified {
		if err := s.Store.SetEmailVerified(ctx, u.ID, s.Now()); err != nil {
			return nil, fmt.Errorf("auth: accept invitation: %w", err)
		}
		u.EmailVerified = true
	}
	m, err := s.member(ctx, inv.OrgID, u.ID)
	if err != nil {
		return nil, err
	}
	j := &Joined{Membership: m, Status: StatusOf(sess.Level)}
	if sess.Level == gardien.LevelFull {
		need, err := s.needsSetup(ctx, u)
		if err != nil {
			return nil, err
		}
		if need {
			if j.Token, err = s.Rotate(ctx, sess, gardien.LevelSetup); err != nil {
				return nil, err
			}
			j.Status = StatusSetupRequired
		}
	}
	return j, nil
}

// MembersPage is one page of an organization's members.
type MembersPage struct {
	// Powers says what the viewer may do to each.
	Powers  Powers
	Members []gardien.Member
	Counts  gardien.MemberCounts
	Page    int // from 1
	Pages   int // of the list as filtered
}

// Members lists an organization's members, 50 a page, for its managers.
func (s *Service) Members(ctx context.Context, actor *gardien.User, orgID int64, withoutTwoFactor bool, page int) (*MembersPage, error) {
	am, err := s.manager(ctx, orgID, actor.ID)
	if err != nil {
		return nil, err
	}
	if page < 1 {
		page = 1
	}
	counts, err := s.Store.MemberCounts(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("auth: members: %w", err)
	}
	total := counts.Total
	if withoutTwoFactor {
		total = counts.Total - counts.Protected
	}
	out := &MembersPage{Powers: powersOf(am, actor.ID), Members: []gardien.Member{}, Counts: counts, Page: page, Pages: max(1, (total+MembersPageSize-1)/MembersPageSize)}
	if page > out.Pages {
		// Past the last page there is nothing: no query, so no offset
		// (page × 50) can overflow whatever number was asked for.
		return out, nil
	}
	list, err := s.Store.Members(ctx, orgID, gardien.MemberFilter{WithoutTwoFactor: withoutTwoFactor, Limit: MembersPageSize, Offset: (page - 1) * MembersPageSize})
	if err != nil {
		return nil, fmt.Errorf("auth: members: %w", err)
	}
	out.Members = list
	return out, nil
}

// Member returns one member, for the organization's managers.
func (s *Service) Member(ctx context.Context, actor *gardien.User, orgID, userID int64) (*gardien.Member, error) {
	if _, err := s.manager(ctx, orgID, actor.ID); err != nil {
		return nil, err
	}
	m, err := s.Store.Member(ctx, orgID, userID)
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, errMemberNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("auth: member: %w", err)
	}
	return m, nil
}

// target returns the membership of a member an actor wants to change, and
// checks the actor may.
func (s *Service) target(ctx context.Context, actor *gardien.User, orgID, userID int64) (*gardien.Membership, *gardien.Membership, error) {
	am, err := s.manager(ctx, orgID, actor.ID)
	if err != nil {
		return nil, nil, err
	}
	tm, err := s.Store.Membership(ctx, orgID, userID)
	if errors.Is(err, gardien.ErrNotFound) {
		return nil, nil, errMemberNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("auth: member: %w", err)
	}
	if !canManage(am.Role, tm.Role) {
		return nil, nil, errForbidden
	}
	return am, tm, nil
}

// actOnMember checks what an action on a member's account (a 2FA reset, a
// sign-out) needs: another person (self: the refusal when it is the
// actor), owners for anyone, admins for members. It returns the actor's
// membership and the member's account, for the mail that tells them.
func (s *Service) actOnMember(ctx context.Context, actor *gardien.User, orgID, userID int64, self error) (*gardien.Membership, *gardien.User, error) {
	if userID == actor.ID {
		return nil, nil, self
	}
	am, tm, err := s.target(ctx, actor, orgID, userID)
	if err != nil {
		return nil, nil, err
	}
	if !canReset(am.Role, tm.Role) {
		return nil, nil, errForbidden
	}
	u, err := s.Store.UserByID(ctx, userID)
	if err != nil {
		return nil, nil, fmt.Errorf("auth: member's account: %w", err)
	}
	return am, u, nil
}

// SetRole changes a member's role. The last owner keeps theirs.
func (s *Service) SetRole(ctx context.Context, actor *gardien.User, orgID, userID int64, role gardien.Role, c gardien.Client) error {
	if !role.Valid() {
		return gardien.Invalid("role", "err.role_invalid")
	}
	am, tm, err := s.target(ctx, actor, orgID, userID)
	if err != nil {
		return err
	}
	if !canManage(am.Role, role) {
		return errForbidden
	}
	err = s.Store.SetRole(ctx, orgID, userID, role, s.orgEvent(gardien.EventOrgRoleChanged, orgID, userID, actor.ID, c, gardien.EventData{"from_role": string(tm.Role), "role": string(role)}))
	return s.memberChange(err)
}

func (s *Service) memberChange(err error) error {
	switch {
	case errors.Is(err, gardien.ErrLastOwner):
		return errLastOwner
	case errors.Is(err, gardien.ErrNotFound):
		return errMemberNotFound
	case err != nil:
		return fmt.Errorf("auth: member: %w", err)
	}
	return nil
}

// RemoveMember takes a member out; anyone may leave. The last owner stays.
func (s *Service) RemoveMember(ctx context.Context, actor *gardien.User, orgID, userID int64, c gardien.Client) error {
	if userID != actor.ID {
		if _, _, err := s.target(ctx, actor, orgID, userID); err != nil {
			return err
		}
	} else if _, err := s.member(ctx, orgID, actor.ID); err != nil {
		return err
	}
	if err := s.memberChange(s.Store.RemoveMember(ctx, orgID, userID, s.orgEvent(gardien.EventOrgMemberRemoved, orgID, userID, actor.ID, c, nil))); err != nil {
		return err
	}
	// No app of the organization keeps them: their sign-ins end, and the
	// apps are told.
	return s.endAppSignIns(ctx, GrantFilter{UserID: userID, OrgID: orgID})
}

// MayLeave says, before the person asks, whether they may leave the
// organization: errLastOwner when they are its only owner (another must
// be made owner first, or the organization deleted).
func (s *Service) MayLeave(ctx context.Context, actor *gardien.User, orgID int64) error {
	m, err := s.member(ctx, orgID, actor.ID)
	if err != nil {
		return err
	}
	if m.Role != gardien.RoleOwner {
		return nil
	}
	n, err := s.Store.OwnerCount(ctx, orgID)
	if err != nil {
		return fmt.Errorf("auth: may leave: %w", err)
	}
	if n <= 1 {
		return errLastOwner
	}
	return nil
}

// Security is an organization's Security & SSO settings as its managers see them.
type Security struct {
	Membership       *gardien.Membership
	Counts           gardien.MemberCounts
	CanChange        bool // the actor may flip the switch now
	NeedOwnTwoFactor bool // … once their own account has 2FA
	WithoutTwoFactor int  // members who would be asked to set it up
	// WithoutKey members have no passkey or security key (nor SSO): asked
	// for one where the requirement asks for a phishing-resistant method.
	WithoutKey int
	// KeysOffered: the phishing-resistant option can be turned on here
	// (Gardien at a domain name), by this actor (CanRequireKeys: their
	// own account has a key, or is an SSO account).
	KeysOffered, CanRequireKeys bool
	// SSO is the organization's single sign-on, nil when none; only owners
	// change it (CanChangeSSO), admins see it.
	SSO             *gardien.SSOConnection
	CanChangeSSO    bool
	OIDCRedirectURI string
	// SAMLEntityID and SAMLACS are what a SAML identity provider needs of
	// Gardien for this organization.
	SAMLEntityID, SAMLACS string
	// IDP is what the saved SAML metadata says (nil when none).
	IDP *sso.IDPInfo
}

// OrgSecurity returns what the Security & SSO page shows.
func (s *Service) OrgSecurity(ctx context.Context, actor *gardien.User, orgID int64) (*Security, error) {
	m, err := s.manager(ctx, orgID, actor.ID)
	if err != nil {
		return nil, err
	}
	counts, err := s.Store.MemberCounts(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("auth: security: %w", err)
	}
	conn, err := s.Store.SSOConnection(ctx, orgID)
	if err != nil && !errors.Is(err, gardien.ErrNotFound) {
		return nil, fmt.Errorf("auth: security: %w", err)
	}
	sec := &Security{Membership: m, Counts: counts, CanChange: actor.TwoFactorEnabled || actor.SSO, NeedOwnTwoFactor: !actor.TwoFactorEnabled && !actor.SSO,
		WithoutTwoFactor: counts.Total - counts.Protected, WithoutKey: counts.Total - counts.Keyed,
		KeysOffered: s.Passkeys != nil, CanRequireKeys: actor.HasKeys || actor.SSO, SSO: conn, CanChangeSSO: m.Role == gardien.RoleOwner, OIDCRedirectURI: s.OIDCRedirectURI(),
		SAMLEntityID: s.Links.SAMLMetadata(orgID), SAMLACS: s.Links.SAMLACS(orgID)}
	if conn != nil && conn.Protocol == gardien.ProtocolSAML && conn.IDPMetadataXML != "" {
		sec.IDP, _ = sso.MetadataInfo(conn.IDPMetadataXML) // unreadable: the test says so
	}
	return sec, nil
}

// SetRequireTwoFactor turns the organization's requirement on or off: one
// write, whatever the number of members. Only owners and admins, and only
// once their own account has 2FA (or is an SSO account). Members feel it at
// their next login (levelAfterPassword); the sessions already open of
// members without 2FA run on until they end (the seed's "next login"), or,
// with endSessions, end now. The choice is in the audit line.
func (s *Service) SetRequireTwoFactor(ctx context.Context, actor *gardien.User, orgID int64, on bool, opt RequireOptions, c gardien.Client) error {
	m, err := s.manager(ctx, orgID, actor.ID)
	if err != nil {
		return err
	}
	endSessions := opt.EndSessions
	if !actor.TwoFactorEnabled && !actor.SSO {
		return errNeedOwnTwoFA
	}
	if on && opt.PhishingResistant {
		switch {
		case s.Passkeys == nil:
			return errPasskeysOff
		case !actor.HasKeys && !actor.SSO:
			// Asking members for a key one does not have oneself.
			return errNeedOwnKey
		}
	}
	deadline := opt.Deadline
	if !on {
		deadline = time.Time{}
	}
	if err := s.checkDeadline(deadline); err != nil {
		return err
	}
	if !deadline.IsZero() {
		endSessions = false // members have until the date: nothing ends now
	}
	typ := gardien.EventOrgRequireTwoFactorOff
	if on {
		typ = gardien.EventOrgRequireTwoFactorOn
	}
	var data gardien.EventData
	if on {
		data = gardien.EventData{"sessions": "kept"}
		if endSessions {
			data["sessions"] = "ended"
		}
		if opt.Notify {
			data["notified"] = "without_two_factor"
		}
		if !deadline.IsZero() {
			data["deadline"] = deadline.UTC().Format(time.RFC3339)
		}
		if opt.PhishingResistant {
			data["method"] = "phishing_resistant"
		}
	}
	if err := s.Store.SetRequireTwoFactor(ctx, orgID, on, opt.PhishingResistant, on && endSessions, deadline, s.orgEvent(typ, orgID, 0, actor.ID, c, data)); err != nil {
		return fmt.Errorf("auth: require two-factor: %w", err)
	}
	if on && opt.Notify {
		// Counted as the organization's reminder of the hour.
		if ok, err := s.allowMail(ctx, reminderMails, strconv.FormatInt(orgID, 10)); err != nil {
			return err
		} else if ok {
			s.later(ctx, "requirement mails", func(ctx context.Context) {
				if deadline.IsZero() {
					s.remind(ctx, orgID, "two_factor_required", m.Name, actor.Name)
				} else {
					s.remind(ctx, orgID, "two_factor_required_by", m.Name, actor.Name, deadline)
				}
			})
		}
	}
	return nil
}

// RequireOptions are the choices of the requirement's pop-up.
type RequireOptions struct {
	// PhishingResistant: only a passkey or a security key meets the
	// requirement; members whose only 2FA is an app add a key (same
	// deadline, banner and reminders).
	PhishingResistant bool
	// EndSessions ends the open sessions of members without 2FA now
	// (default: they run until they end).
	EndSessions bool
	// Notify mails the members without 2FA now, in their language, with
	// the set-up link and who asked.
	Notify bool
	// Deadline gives members until this time (banner and reminders until
	// then); zero: the requirement holds them at their next login.
	Deadline time.Time
}

// ResetMemberTwoFactor removes a member's 2FA (lost phone): owners and
// admins for members, owners only for admins and owners. Their sessions
// end; they are told by mail; where a requirement applies, they set 2FA up
// again at their next login.
func (s *Service) ResetMemberTwoFactor(ctx context.Context, actor *gardien.User, orgID, userID int64, c gardien.Client) error {
	// One's own 2FA is turned off in Personal settings, with the password,
	// and not while an organization requires it.
	am, u, err := s.actOnMember(ctx, actor, orgID, userID, errResetOwnTwoFactor)
	if err != nil {
		return err
	}
	e := s.orgEvent(gardien.EventOrgMemberTwoFactorReset, orgID, userID, actor.ID, c, nil)
	if err := s.Store.DisableSecondFactors(ctx, userID, 0, e); err != nil {
		if errors.Is(err, gardien.ErrNotFound) {
			return errTwoFactorMissing
		}
		return fmt.Errorf("auth: reset member 2fa: %w", err)
	}
	s.send(ctx, mail.Letter{Kind: "two_factor_reset_by_admin", To: u.Email, Name: u.Name, Lang: s.langOf(u, ""), Link: s.Links.Login(), Args: []any{actor.Name, am.Name}})
	return nil
}

// EachMember calls fn with every member of an organization, in pages, for
// its owners and admins (an export).
func (s *Service) EachMember(ctx context.Context, actor *gardien.User, orgID int64, fn func(gardien.Member) error) error {
	if _, err := s.manager(ctx, orgID, actor.ID); err != nil {
		return err
	}
	const pageSize = 500
	for after := int64(0); ; {
		page, err := s.Store.Members(ctx, orgID, gardien.MemberFilter{After: after, Limit: pageSize})
		if err != nil {
			return fmt.Errorf("auth: members: %w", err)
		}
		for _, m := range page {
			if err := fn(m); err != nil {
				return err
			}
		}
		if len(page) < pageSize {
			return nil
		}
		after = page[len(page)-1].UserID
	}
}

// SignOutMember ends every session of a member, on every device: owners
// for anyone, admins for members (as a 2FA reset). Audited in the
// organization's log, and the member told by mail. One's own sessions are
// ended in Personal settings → Sessions.
func (s *Service) SignOutMember(ctx context.Context, actor *gardien.User, orgID, userID int64, c gardien.Client) error {
	am, u, err := s.actOnMember(ctx, actor, orgID, userID, errSignOutSelf)
	if err != nil {
		return err
	}
	e := s.orgEvent(gardien.EventOrgMemberSignedOut, orgID, userID, actor.ID, c, nil)
	if _, err := s.Store.EndAllSessions(ctx, userID, e); err != nil {
		return fmt.Errorf("auth: sign member out: %w", err)
	}
	s.send(ctx, mail.Letter{Kind: "signed_out_by_admin", To: u.Email, Name: u.Name, Lang: s.langOf(u, ""), Link: s.Links.Login(), Args: []any{actor.Name, am.Name}})
	return nil
}

// Remind mails every member without 2FA (SSO members aside) a link to the
// set-up, each in their language, and says how many; once an hour per
// organization at most. The mails are queued in the background (tracked:
// shutdown waits for them), so a large organization's admin does not wait.
func (s *Service) Remind(ctx context.Context, actor *gardien.User, orgID int64, c gardien.Client) (int, error) {
	m, err := s.manager(ctx, orgID, actor.ID)
	if err != nil {
		return 0, err
	}
	if err := s.mailAllowed(ctx, reminderMails, strconv.FormatInt(orgID, 10)); err != nil {
		return 0, err
	}
	counts, err := s.Store.MemberCounts(ctx, orgID)
	if err != nil {
		return 0, fmt.Errorf("auth: remind: %w", err)
	}
	n := counts.Total - counts.Protected
	if err := s.Store.AddEvent(ctx, s.orgEvent(gardien.EventOrgReminderSent, orgID, 0, actor.ID, c, gardien.EventData{"reminded": strconv.Itoa(n)})); err != nil {
		return 0, fmt.Errorf("auth: remind: %w", err)
	}
	if !s.later(ctx, "reminders", func(ctx context.Context) { s.remind(ctx, orgID, "two_factor_reminder", m.Name, actor.Name) }) {
		return 0, &gardien.Error{Code: gardien.CodeRateLimited, Message: "err.rate_limited", RetryAfter: time.Minute}
	}
	return n, nil
}

// remind walks the members without 2FA, 500 at a time, and queues a mail
// of kind to each (its arguments: the organization, who asked, and any
// more), and notes it as their last reminder.
func (s *Service) remind(ctx context.Context, orgID int64, kind, orgName, actorName string, more ...any) {
	if err := s.Store.MarkReminded(ctx, orgID, s.Now()); err != nil {
		s.Log.ErrorContext(ctx, "reminders not noted", "org_id", orgID, "err", err)
	}
	args := append([]any{orgName, actorName}, more...)
	for after := int64(0); ; {
		list, err := s.Store.Members(ctx, orgID, gardien.MemberFilter{WithoutTwoFactor: true, After: after, Limit: 500})
		if err != nil {
			s.Log.ErrorContext(ctx, "reminders cut short", "org_id", orgID, "err", err)
			return
		}
		for _, mem := range list {
			s.send(ctx, mail.Letter{Kind: reminderKind(kind, mem), To: mem.Email, Name: mem.Name, Lang: s.langOf(&gardien.User{Locale: mem.Locale}, ""),
				Link: s.Links.TwoFactorSettings(), Args: args})
			after = mem.UserID
		}
		if len(list) < 500 {
			return
		}
	}
}

// AuditLog returns an organization's audit log, for its managers.
func (s *Service) AuditLog(ctx context.Context, actor *gardien.User, orgID int64, f gardien.EventFilter) ([]gardien.Event, error) {
	if _, err := s.manager(ctx, orgID, actor.ID); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 50
	}
	if f.Type != "" && !slices.Contains(gardien.EventTypes, f.Type) {
		return nil, gardien.Invalid("type", "err.event_type_invalid")
	}
	if f.Person != "" {
		// Whose events: looked for in this log only, so "no such account"
		// and "never in this organization" give the same answer (none).
		_, key, ok := NormalizeEmail(f.Person)
		if !ok {
			return nil, gardien.Invalid("person", "err.email_invalid")
		}
		f.Person = key
	}
	events, err := s.Store.OrgEvents(ctx, orgID, f)
	if err != nil {
		return nil, fmt.Errorf("auth: audit log: %w", err)
	}
	return events, nil
}
