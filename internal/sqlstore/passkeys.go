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

// AddPasskey saves a key (setting its ID) and e. When the key turns the
// person's 2FA on (they had no second factor), their recovery codes become
// codeHashes and on is saved too; turnedOn says so. gardien.ErrDuplicate
// when the key is registered already.
func (s *Store) AddPasskey(ctx context.Context, p *gardien.Passkey, codeHashes [][]byte, e, onEvent *gardien.Event) (turnedOn bool, _ error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		before, err := s.lockSecondFactors(ctx, tx, p.UserID)
		if err != nil {
			return err
		}
		err = s.txQueryRow(ctx, tx, `INSERT INTO passkeys (user_id, name, credential_id, credential, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			p.UserID, p.Name, p.CredentialID, string(p.Credential), p.CreatedAt.Unix()).Scan(&p.ID)
		if err != nil {
			if isUnique(err) {
				return gardien.ErrDuplicate
			}
			return err
		}
		if err := s.insertEvent(ctx, tx, e); err != nil {
			return err
		}
		if err := s.countProtection(ctx, tx, p.UserID, before); err != nil {
			return err
		}
		if turnedOn = !before.on; !turnedOn {
			return nil
		}
		if err := s.replaceCodes(ctx, tx, p.UserID, codeHashes); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, onEvent)
	})
	if err != nil {
		if errors.Is(err, gardien.ErrDuplicate) {
			return false, err
		}
		return false, fmt.Errorf("sqlstore: add passkey: %w", err)
	}
	return turnedOn, nil
}

// lockSecondFactors locks the person's row until the end of tx, so that
// changes to their second factors go one after the other (on PostgreSQL
// too, where two removals of two last keys would each see the other's key),
// and reads their protection as it is before the change.
func (s *Store) lockSecondFactors(ctx context.Context, tx *sql.Tx, userID int64) (protection, error) {
	if err := s.txExec1(ctx, tx, `UPDATE users SET updated_at = updated_at WHERE id = ?`, userID); err != nil {
		return protection{}, err
	}
	return s.protectionOf(ctx, tx, userID)
}

// RenamePasskey renames a person's key and saves e; gardien.ErrNotFound
// when they have none such.
func (s *Store) RenamePasskey(ctx context.Context, userID, id int64, name string, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.txExec1(ctx, tx, `UPDATE passkeys SET name = ? WHERE id = ? AND user_id = ?`, name, id, userID); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil && !errors.Is(err, gardien.ErrNotFound) {
		return fmt.Errorf("sqlstore: rename passkey: %w", err)
	}
	return err
}

// DeletePasskey deletes a person's key and saves e. When it was their last
// second factor, 2FA goes off as DisableSecondFactors turns it off (recovery
// codes, tries, their sessions but keep) and off is saved too — unless
// keepOne, when gardien.ErrLastFactor refuses it all; so does keepKey for
// their last key (an organization asks for one). gardien.ErrNotFound when
// they have no such key.
func (s *Store) DeletePasskey(ctx context.Context, userID, id, keep int64, keepOne, keepKey bool, e, off *gardien.Event) (turnedOff bool, _ error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		before, err := s.lockSecondFactors(ctx, tx, userID)
		if err != nil {
			return err
		}
		if err := s.txExec1(ctx, tx, `DELETE FROM passkeys WHERE id = ? AND user_id = ?`, id, userID); err != nil {
			return err
		}
		if err := s.insertEvent(ctx, tx, e); err != nil {
			return err
		}
		// Without the key; turning 2FA off below removes nothing more the
		// counters count (no app, no key is left then).
		after, err := s.protectionOf(ctx, tx, userID)
		if err != nil {
			return err
		}
		if keepKey && !after.keys {
			return gardien.ErrLastFactor
		}
		if !after.on {
			if keepOne {
				return gardien.ErrLastFactor
			}
			turnedOff = true
			if err := s.secondFactorsOff(ctx, tx, userID, keep, off); err != nil {
				return err
			}
		}
		return s.moveCounters(ctx, tx, userID, before, after)
	})
	if err != nil && !errors.Is(err, gardien.ErrNotFound) && !errors.Is(err, gardien.ErrLastFactor) {
		return false, fmt.Errorf("sqlstore: delete passkey: %w", err)
	}
	return turnedOff, err
}

const usePasskey = `UPDATE passkeys SET credential = ?, last_used_at = ? WHERE user_id = ? AND credential_id = ?`

// UsePasskey saves a key's credential after a login with it (its counter
// moved) and when it was used.
func (s *Store) UsePasskey(ctx context.Context, userID int64, credentialID, credential []byte, at time.Time) error {
	if _, err := s.exec(ctx, s.writer, usePasskey, string(credential), at.Unix(), userID, credentialID); err != nil {
		return fmt.Errorf("sqlstore: use passkey: %w", err)
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
	var state []byte
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		state, err = s.takeCeremony(ctx, tx, sessionID, kind, now)
		return err
	})
	if err != nil && !errors.Is(err, gardien.ErrNotFound) {
		return nil, fmt.Errorf("sqlstore: take ceremony: %w", err)
	}
	return state, err
}

func (s *Store) takeCeremony(ctx context.Context, tx *sql.Tx, sessionID int64, kind string, now time.Time) ([]byte, error) {
	var state string
	var live bool
	err := s.txQueryRow(ctx, tx, `DELETE FROM webauthn_ceremonies WHERE session_id = ? AND kind = ? RETURNING state, expires_at > ?`,
		sessionID, kind, now.Unix()).Scan(&state, &live)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !live {
		return nil, gardien.ErrNotFound
	}
	return []byte(state), err
}

// SaveLoginCeremony keeps the ceremony of a login with a passkey alone,
// found by the hash of the token its browser holds.
func (s *Store) SaveLoginCeremony(ctx context.Context, tokenHash, state []byte, expires time.Time) error {
	if _, err := s.exec(ctx, s.writer, `INSERT INTO webauthn_logins (token_hash, state, expires_at) VALUES (?, ?, ?)`,
		tokenHash, string(state), expires.Unix()); err != nil {
		return fmt.Errorf("sqlstore: save login ceremony: %w", err)
	}
	return nil
}

// TakeLoginCeremony returns a live login ceremony and deletes it (answered
// once); gardien.ErrNotFound when none lives.
func (s *Store) TakeLoginCeremony(ctx context.Context, tokenHash []byte, now time.Time) ([]byte, error) {
	var state string
	var live bool
	err := s.queryRow(ctx, s.writer, `DELETE FROM webauthn_logins WHERE token_hash = ? RETURNING state, expires_at > ?`,
		tokenHash, now.Unix()).Scan(&state, &live)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !live {
		return nil, gardien.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: take login ceremony: %w", err)
	}
	return []byte(state), nil
}
