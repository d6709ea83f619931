package auth

import (
	"context"
	"fmt"
	"strings"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/mail"
)

// RenameOrganization changes an organization's name: owners only.
func (s *Service) RenameOrganization(ctx context.Context, actor *gardien.User, orgID int64, rawName string, c gardien.Client) (string, error) {
	m, err := s.owner(ctx, orgID, actor.ID)
	if err != nil {
		return "", err
	}
	name, err := cleanOrgName(rawName)
	if err != nil {
		return "", err
	}
	if err := s.Store.RenameOrganization(ctx, orgID, name, s.orgEvent(gardien.EventOrgRenamed, orgID, 0, actor.ID, c, gardien.EventData{"old_name": m.Name, "name": name})); err != nil {
		return "", fmt.Errorf("auth: rename organization: %w", err)
	}
	return name, nil
}

// DeleteOrganization deletes an organization: owners only, typing its name
// to confirm (a deletion cannot be undone). Its members are told by mail,
// in their language; its memberships, invitations and single sign-on go.
func (s *Service) DeleteOrganization(ctx context.Context, actor *gardien.User, orgID int64, typedName string, c gardien.Client) error {
	m, err := s.owner(ctx, orgID, actor.ID)
	if err != nil {
		return err
	}
	if strings.TrimSpace(typedName) != m.Name {
		return gardien.Invalid("name", "err.org_name_mismatch")
	}
	var members []gardien.Member
	for after := int64(0); ; {
		page, err := s.Store.Members(ctx, orgID, gardien.MemberFilter{After: after, Limit: 500})
		if err != nil {
			return fmt.Errorf("auth: delete organization: %w", err)
		}
		members = append(members, page...)
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].UserID
	}
	if err := s.Store.DeleteOrganization(ctx, orgID, s.orgEvent(gardien.EventOrgDeleted, orgID, 0, actor.ID, c, gardien.EventData{"name": m.Name})); err != nil {
		return fmt.Errorf("auth: delete organization: %w", err)
	}
	s.later(ctx, "organization deleted", func(ctx context.Context) {
		for _, mem := range members {
			s.send(ctx, mail.Letter{Kind: "org_deleted", To: mem.Email, Name: mem.Name, Lang: s.langOf(&gardien.User{Locale: mem.Locale}, ""),
				Args: []any{m.Name, actor.Name}})
		}
	})
	return nil
}
