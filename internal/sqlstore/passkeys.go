package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gardien/gardien"
)

func scanPasskey(row scanner) (gardien.Passkey, error) {
	var p gardien.Passkey
	var cred string
	var created, used int64
	err := row.Scan(&p.ID, &p.UserID, &p.Name, &p.CredentialID, &cred, &created, &used)
	p.Credential, p.CreatedAt, p.LastUsedAt = []byte(cred), time.Unix(created, 0).UTC(), unixOrZero(used)
	return p, err
}

const passkeyColumns = `id, user_id, name, credential_id, credential, created_at, last_used_at`

// Passkeys lists a person's keys, the oldest first.
func (s *Store) Passkeys(ctx context.Context, userID int64) ([]gardien.Passkey, error) {
	out, err := lookupAll(ctx, s, `SELECT `+passkeyColumns+` FROM passkeys WHERE user_id = ? ORDER BY id`, scanPasskey, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: passkeys: %w", err)
	}
	return out, nil
}

// AddPasskey saves a key (setting its ID) and e; gardien.ErrDuplicate when
// the key is registered already.
func (s *Store) AddPasskey(ctx context.Context, p *gardien.Passkey, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := s.txQueryRow(ctx, tx, `INSERT INTO passkeys (user_id, name, credential_id, credential, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			p.UserID, p.Name, p.CredentialID, string(p.Credential), p.CreatedAt.Unix()).Scan(&p.ID)
		if err != nil {
			if isUnique(err) {
				return gardien.ErrDuplicate
			}
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		if errors.Is(err, gardien.ErrDuplicate) {
			return err
		}
		return fmt.Errorf("sqlstore: add passkey: %w", err)
	}
	return nil
}

// RenamePasskey renames a person's key and saves e; gardien.ErrNotFound
// when they have none such.
func (s *Store) RenamePasskey(ctx context.Context, userID, id int64, name string, e *gardien.Event) error {
	return s.passkeyChange(ctx, e, `UPDATE passkeys SET name = ? WHERE id = ? AND user_id = ?`, name, id, userID)
}

// DeletePasskey deletes a person's key and saves e; gardien.ErrNotFound
// when they have none such.
func (s *Store) DeletePasskey(ctx context.Context, userID, id int64, e *gardien.Event) error {
	return s.passkeyChange(ctx, e, `DELETE FROM passkeys WHERE id = ? AND user_id = ?`, id, userID)
}

func (s *Store) passkeyChange(ctx context.Context, e *gardien.Event, query string, args ...any) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.txExec1(ctx, tx, query, args...); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		if errors.Is(err, gardien.ErrNotFound) {
			return err
		}
		return fmt.Errorf("sqlstore: passkey: %w", err)
	}
	return nil
}

// SaveCeremony keeps a WebAuthn ceremony's state for a session (one of a
// kind at a time: a new one replaces the last).
func (s *Store) SaveCeremony(ctx context.Context, sessionID int64, kind string, state []byte, expires time.Time) error {
	if _, err := s.exec(ctx, s.writer, `INSERT INTO webauthn_ceremonies (session_id, kind, state, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (session_id, kind) DO UPDATE SET state = excluded.state, expires_at = excluded.expires_at`,
		sessionID, kind, string(state), expires.Unix()); err != nil {
		return fmt.Errorf("sqlstore: save ceremony: %w", err)
	}
	return nil
}

// TakeCeremony returns a session's ceremony of a kind and deletes it (a
// challenge is answered once); gardien.ErrNotFound when none lives.
func (s *Store) TakeCeremony(ctx context.Context, sessionID int64, kind string, now time.Time) ([]byte, error) {
	var state string
	var live bool
	err := s.queryRow(ctx, s.writer, `DELETE FROM webauthn_ceremonies WHERE session_id = ? AND kind = ? RETURNING state, expires_at > ?`,
		sessionID, kind, now.Unix()).Scan(&state, &live)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !live {
		return nil, gardien.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: take ceremony: %w", err)
	}
	return []byte(state), nil
}
