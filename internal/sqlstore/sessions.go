package sqlstore

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
)

// CreateSession stores a session under the hash of its secret and sets its
// ID. Its token_hash, which only sessions opened before secrets find by, is
// random: no cookie hashes to it.
func (s *Store) CreateSession(ctx context.Context, sess *gardien.Session, secretHash []byte) error {
	err := s.queryRow(ctx, s.writer, `INSERT INTO sessions (token_hash, secret_hash, user_id, level, created_at, last_seen_at, expires_at, ip, user_agent, sso_context, mfa, amr)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		unusedTokenHash(), secretHash, sess.UserID, string(sess.Level), sess.CreatedAt.Unix(), sess.LastSeenAt.Unix(), sess.ExpiresAt.Unix(), sess.IP, sess.UserAgent, sess.SSOContext,
		sess.MFA, sess.AMR).Scan(&sess.ID)
	if err != nil {
		return fmt.Errorf("sqlstore: create session: %w", err)
	}
	return nil
}

// unusedTokenHash fills token_hash (unique, not null) for a session that
// is found by its ID and secret: 32 random bytes, the hash of no token.
func unusedTokenHash() []byte {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return b
}

const sessionColumns = `s.id, s.user_id, s.level, s.created_at, s.last_seen_at, s.expires_at, s.ip, s.user_agent, s.sso_context, s.secret_hash, s.mfa, s.amr`

// sessionWhere is how a key finds its session: by ID (its secret checked
// after, in constant time), or by the hash of a whole token for a session
// opened before secrets.
func sessionWhere(key auth.SessionKey) (string, any) {
	if key.ID != 0 {
		return `s.id = ?`, key.ID
	}
	return `s.token_hash = ? AND s.secret_hash IS NULL`, key.Hash
}

// scanSession reads sessionColumns, and says gardien.ErrNotFound when the
// key's secret is not the session's.
func scanSession(key auth.SessionKey, sc func(dest ...any) error) (*gardien.Session, error) {
	var sess gardien.Session
	var level string
	var created, seen, expires int64
	var secretHash []byte
	err := sc(&sess.ID, &sess.UserID, &level, &created, &seen, &expires, &sess.IP, &sess.UserAgent, &sess.SSOContext, &secretHash, &sess.MFA, &sess.AMR)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gardien.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if key.ID != 0 && subtle.ConstantTimeCompare(secretHash, key.Hash) != 1 {
		return nil, gardien.ErrNotFound
	}
	sess.Level = gardien.SessionLevel(level)
	sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt = time.Unix(created, 0).UTC(), time.Unix(seen, 0).UTC(), time.Unix(expires, 0).UTC()
	return &sess, nil
}

// scanFunc is a scanner made of a function.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// SessionByKey returns the session a cookie's key names.
func (s *Store) SessionByKey(ctx context.Context, key auth.SessionKey) (*gardien.Session, error) {
	where, arg := sessionWhere(key)
	sess, err := scanSession(key, s.queryRow(ctx, s.reader, `SELECT `+sessionColumns+` FROM sessions s WHERE `+where, arg).Scan)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: session: %w", err)
	}
	return sess, nil
}

// SessionUser returns the session a cookie's key names and its person, in
// one query: it runs on every request.
func (s *Store) SessionUser(ctx context.Context, key auth.SessionKey) (*gardien.Session, *gardien.User, error) {
	where, arg := sessionWhere(key)
	sess, u, err := scanSessionUser(key, s.queryRow(ctx, s.reader, `SELECT `+userColumns+`, `+sessionColumns+`
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE `+where, arg))
	if err != nil {
		return nil, nil, fmt.Errorf("sqlstore: session: %w", err)
	}
	return sess, u, nil
}

// scanSessionUser reads userColumns, then sessionColumns, then extra;
// gardien.ErrNotFound when the key's secret is not the session's.
func scanSessionUser(key auth.SessionKey, row scanner, extra ...any) (*gardien.Session, *gardien.User, error) {
	var sess *gardien.Session
	u, err := scanUser(scanFunc(func(userDest ...any) (err error) {
		sess, err = scanSession(key, func(sessDest ...any) error { return row.Scan(append(append(userDest, sessDest...), extra...)...) })
		return err
	}))
	return sess, u, err
}

// RotateSession gives a session a new secret and level: the old cookie
// stops working at once. gardien.ErrNotFound if the session is gone.
func (s *Store) RotateSession(ctx context.Context, id int64, secretHash []byte, level gardien.SessionLevel, expires, at time.Time) error {
	if err := s.rotate(ctx, nil, id, nil, secretHash, level, expires, at); err != nil {
		return fmt.Errorf("sqlstore: rotate session: %w", err)
	}
	return nil
}

// rotate gives a session its new secret, level, end and last use, inside
// tx or on its own when tx is nil; when key is given, only while the key
// still opens the session (else gardien.ErrNotFound: another request
// rotated it first). A session opened before secrets has its token_hash
// replaced as well (a second statement, once in its life): the token it
// was found by must stop working too.
func (s *Store) rotate(ctx context.Context, tx *sql.Tx, id int64, key *auth.SessionKey, secretHash []byte, level gardien.SessionLevel, expires, at time.Time) error {
	exec := func(q string, args ...any) (int64, error) {
		var res sql.Result
		var err error
		if tx == nil {
			res, err = s.exec(ctx, s.writer, q, args...)
		} else {
			res, err = s.txExec(ctx, tx, q, args...)
		}
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
	set := []any{secretHash, string(level), expires.Unix(), at.Unix(), id}
	if key == nil || key.ID != 0 {
		q := `UPDATE sessions SET secret_hash = ?, level = ?, expires_at = ?, last_seen_at = ? WHERE id = ? AND secret_hash IS NOT NULL`
		args := set
		if key != nil {
			q, args = q+` AND secret_hash = ?`, append(args, key.Hash)
		}
		n, err := exec(q, args...)
		if err != nil || n == 1 {
			return err
		}
		if key != nil {
			return gardien.ErrNotFound
		}
	}
	q := `UPDATE sessions SET token_hash = ?, secret_hash = ?, level = ?, expires_at = ?, last_seen_at = ? WHERE id = ?`
	args := append([]any{unusedTokenHash()}, set...)
	if key != nil {
		q, args = q+` AND secret_hash IS NULL AND token_hash = ?`, append(args, key.Hash)
	}
	n, err := exec(q, args...)
	if err == nil && n != 1 {
		err = gardien.ErrNotFound
	}
	return err
}

// SetSessionAMR says how a session's person proved who they are (RFC 8176
// values), and so whether it passed a second factor ("mfa" among them).
func (s *Store) SetSessionAMR(ctx context.Context, id int64, amr string) error {
	if _, err := s.exec(ctx, s.writer, `UPDATE sessions SET mfa = ?, amr = ? WHERE id = ?`, gardien.AMRHasMFA(amr), amr, id); err != nil {
		return fmt.Errorf("sqlstore: session mfa: %w", err)
	}
	return nil
}

// TouchSession records that a session was used.
func (s *Store) TouchSession(ctx context.Context, id int64, at time.Time) error {
	if _, err := s.exec(ctx, s.writer, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, at.Unix(), id); err != nil {
		return fmt.Errorf("sqlstore: touch session: %w", err)
	}
	return nil
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, id int64) error {
	if _, err := s.exec(ctx, s.writer, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("sqlstore: delete session: %w", err)
	}
	return nil
}

// DeleteStaleTokens removes mailed tokens and invitations that expired
// before the given time: used or not, they can never work again.
func (s *Store) DeleteStaleTokens(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for _, q := range []string{`DELETE FROM tokens WHERE expires_at < ?`, `DELETE FROM invitations WHERE expires_at < ?`} {
		res, err := s.exec(ctx, s.writer, q, before.Unix())
		if err != nil {
			return total, fmt.Errorf("sqlstore: delete stale tokens: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}

// DeleteExpiredSessions removes sessions past their absolute expiry or idle
// since before idleSince, and returns how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now, idleSince time.Time) (int64, error) {
	res, err := s.exec(ctx, s.writer, `DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at < ?`, now.Unix(), idleSince.Unix())
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete expired sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// AddEvent appends an event to the audit trail.
func (s *Store) AddEvent(ctx context.Context, e *gardien.Event) error {
	if err := s.insertEvent(ctx, nil, e); err != nil {
		return fmt.Errorf("sqlstore: add event: %w", err)
	}
	return nil
}

const insertEventSQL = `INSERT INTO events (at, type, user_id, actor_id, org_id, ip, user_agent, detail)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`

// insertEvent writes an event inside tx, or on its own when tx is nil: a
// change and its audit line commit together.
// An event that webhooks may ask for is queued to them in its transaction.
func (s *Store) insertEvent(ctx context.Context, tx *sql.Tx, e *gardien.Event) error {
	args := []any{e.Time.Unix(), e.Type, nullID(e.UserID), nullID(e.ActorID), nullID(e.OrgID), e.IP, e.UserAgent, encodeEventData(e.Data)}
	hooked := webhookable(e)
	switch {
	case tx == nil && hooked:
		return s.tx(ctx, func(tx *sql.Tx) error { return s.insertEvent(ctx, tx, e) })
	case tx == nil:
		return s.queryRow(ctx, s.writer, insertEventSQL, args...).Scan(&e.ID)
	}
	if err := s.txQueryRow(ctx, tx, insertEventSQL, args...).Scan(&e.ID); err != nil {
		return err
	}
	if hooked {
		return s.queueWebhooks(ctx, tx, e)
	}
	return nil
}

// UserEvents returns a user's most recent events, newest first.
func (s *Store) UserEvents(ctx context.Context, userID int64, limit int) ([]gardien.Event, error) {
	out, err := queryAll(ctx, s, `SELECT `+eventColumns+` FROM events e WHERE e.user_id = ? ORDER BY e.id DESC LIMIT ?`, scanEvent, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: user events: %w", err)
	}
	return out, nil
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// UserSessions lists a person's sessions, the most recently used first.
func (s *Store) UserSessions(ctx context.Context, userID int64) ([]gardien.Session, error) {
	out, err := queryAll(ctx, s, `SELECT id, level, created_at, last_seen_at, expires_at, ip, user_agent, sso_context
		FROM sessions WHERE user_id = ? ORDER BY last_seen_at DESC, id DESC LIMIT 200`, func(row scanner) (gardien.Session, error) {
		var sess gardien.Session
		var level string
		var created, seen, expires int64
		err := row.Scan(&sess.ID, &level, &created, &seen, &expires, &sess.IP, &sess.UserAgent, &sess.SSOContext)
		sess.UserID, sess.Level = userID, gardien.SessionLevel(level)
		sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt = time.Unix(created, 0).UTC(), time.Unix(seen, 0).UTC(), time.Unix(expires, 0).UTC()
		return sess, err
	}, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: user sessions: %w", err)
	}
	return out, nil
}

// EndUserSession ends one session of a person; gardien.ErrNotFound when it
// is not theirs (or gone already).
func (s *Store) EndUserSession(ctx context.Context, userID, sessionID int64, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.txExec1(ctx, tx, `DELETE FROM sessions WHERE id = ? AND user_id = ?`, sessionID, userID); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if errors.Is(err, gardien.ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("sqlstore: end session: %w", err)
	}
	return nil
}

// EndOtherSessions ends every session of a person but keep; it returns how many.
func (s *Store) EndOtherSessions(ctx context.Context, userID, keep int64, e *gardien.Event) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, `DELETE FROM sessions WHERE user_id = ? AND id <> ?`, userID, keep)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlstore: end other sessions: %w", err)
	}
	return n, nil
}
