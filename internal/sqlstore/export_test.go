package sqlstore

import (
	"context"

	"github.com/gardien/gardien"
)

// RecountMembers counts an organization's members and protected members
// by scanning them, as MemberCounts did before the kept counters: the
// tests hold the counters to it.
func (s *Store) RecountMembers(ctx context.Context, orgID int64) (total, protected, keyed int, err error) {
	err = s.reader.QueryRowContext(ctx, s.q(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN u.sso OR t.user_id IS NOT NULL
		OR EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = m.user_id) THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN u.sso OR EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = m.user_id) THEN 1 ELSE 0 END), 0)
		FROM memberships m JOIN users u ON u.id = m.user_id
		LEFT JOIN two_factor t ON t.user_id = m.user_id AND t.enabled_at IS NOT NULL
		WHERE m.org_id = ?`), orgID).Scan(&total, &protected, &keyed)
	return total, protected, keyed, err
}

// Queries returns the queries the store has prepared, as written (with ?).
func (s *Store) Queries() []string {
	var out []string
	s.stmts.Range(func(k, _ any) bool {
		out = append(out, k.(stmtKey).query)
		return true
	})
	return out
}

// CreateOldSession stores a session as the versions before session secrets
// did (and nodes still on them during an upgrade do): under the hash of its
// whole token, without a secret.
func (s *Store) CreateOldSession(ctx context.Context, sess *gardien.Session, tokenHash []byte) error {
	return s.writer.QueryRowContext(ctx, s.q(`INSERT INTO sessions (token_hash, user_id, level, created_at, last_seen_at, expires_at, ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		tokenHash, sess.UserID, string(sess.Level), sess.CreatedAt.Unix(), sess.LastSeenAt.Unix(), sess.ExpiresAt.Unix(), sess.IP, sess.UserAgent).Scan(&sess.ID)
}

// SecondFactorFailures is the count of a person's second-factor tries
// counted today and not given back.
func (s *Store) SecondFactorFailures(ctx context.Context, userID int64) (int, error) {
	var n int
	err := s.reader.QueryRowContext(ctx, s.q(`SELECT tfa_day_failures FROM users WHERE id = ?`), userID).Scan(&n)
	return n, err
}
