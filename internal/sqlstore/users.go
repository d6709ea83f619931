package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gardien/gardien"
)

// The second factors of a person (the users row u), as SQL: an activated
// authenticator app; a passkey or security key; either (2FA on). The one
// place these are written.
const (
	appOn       = `EXISTS (SELECT 1 FROM two_factor t WHERE t.user_id = u.id AND t.enabled_at IS NOT NULL)`
	keysOn      = `EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = u.id)`
	secondOn    = `(` + appOn + ` OR ` + keysOn + `)`
	userColumns = `u.id, u.email, u.name, u.email_verified_at IS NOT NULL, u.locale, u.sso, u.created_at,
	` + appOn + `, ` + keysOn + `, u.disabled_at <> 0`
)

type scanner interface{ Scan(...any) error }

func scanUser(row scanner, extra ...any) (*gardien.User, error) {
	var u gardien.User
	var created int64
	dest := append([]any{&u.ID, &u.Email, &u.Name, &u.EmailVerified, &u.Locale, &u.SSO, &created, &u.AppEnabled, &u.HasKeys, &u.Disabled}, extra...)
	if err := row.Scan(dest...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, gardien.ErrNotFound
		}
		return nil, err
	}
	u.TwoFactorEnabled = u.AppEnabled || u.HasKeys
	u.CreatedAt = time.Unix(created, 0).UTC()
	return &u, nil
}

// CreateUser inserts u and sets its ID; gardien.ErrDuplicate when the email
// key is taken.
func (s *Store) CreateUser(ctx context.Context, u *gardien.User, emailKey, passwordHash string) error {
	now := u.CreatedAt.Unix()
	err := s.queryRow(ctx, s.writer, `INSERT INTO users (email, email_key, name, password_hash, locale, sso, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.Email, emailKey, u.Name, passwordHash, u.Locale, u.SSO, now, now).Scan(&u.ID)
	if isUnique(err) {
		return fmt.Errorf("sqlstore: create user: %w", gardien.ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create user: %w", err)
	}
	return nil
}

// UserByID returns a user, or gardien.ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id int64) (*gardien.User, error) {
	u, err := scanUser(s.queryRow(ctx, s.reader, `SELECT `+userColumns+` FROM users u WHERE u.id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: user %d: %w", id, err)
	}
	return u, nil
}

// UserByEmail returns the user with this email key and their password hash.
func (s *Store) UserByEmail(ctx context.Context, emailKey string) (*gardien.User, string, error) {
	var hash string
	u, err := scanUser(s.queryRow(ctx, s.reader, `SELECT `+userColumns+`, u.password_hash FROM users u WHERE u.email_key = ?`, emailKey), &hash)
	if err != nil {
		return nil, "", fmt.Errorf("sqlstore: user by email: %w", err)
	}
	return u, hash, nil
}

// PasswordHash returns a user's password hash.
func (s *Store) PasswordHash(ctx context.Context, userID int64) (string, error) {
	var hash string
	err := s.queryRow(ctx, s.reader, `SELECT password_hash FROM users WHERE id = ?`, userID).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		err = gardien.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("sqlstore: password hash: %w", err)
	}
	return hash, nil
}

// UpdateProfile sets a user's name and saved language.
func (s *Store) UpdateProfile(ctx context.Context, userID int64, name, locale string, at time.Time) error {
	return s.exec1(ctx, "update profile", `UPDATE users SET name = ?, locale = ?, updated_at = ? WHERE id = ?`, name, locale, at.Unix(), userID)
}

// SetEmailVerified marks a user's email validated (once; later calls keep the first time).
func (s *Store) SetEmailVerified(ctx context.Context, userID int64, at time.Time) error {
	return s.exec1(ctx, "verify email", `UPDATE users SET email_verified_at = COALESCE(email_verified_at, ?), updated_at = ? WHERE id = ?`, at.Unix(), at.Unix(), userID)
}

// SetPassword stores a new password hash and ends the user's sessions but
// keepSession (0 ends them all), in one transaction.
func (s *Store) SetPassword(ctx context.Context, userID int64, hash string, keepSession int64, at time.Time) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.txExec1(ctx, tx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, hash, at.Unix(), userID); err != nil {
			return err
		}
		if _, err := s.txExec(ctx, tx, `DELETE FROM sessions WHERE user_id = ? AND id <> ?`, userID, keepSession); err != nil {
			return err
		}
		// Links to reset the password stop working once it is changed.
		_, err := s.txExec(ctx, tx, `UPDATE tokens SET used_at = ? WHERE user_id = ? AND kind = 'reset_password' AND used_at IS NULL`, at.Unix(), userID)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: set password: %w", err)
	}
	return nil
}

// exec1 runs a statement that must change exactly one row.
func (s *Store) exec1(ctx context.Context, what, query string, args ...any) error {
	res, err := s.exec(ctx, s.writer, query, args...)
	if err != nil {
		return fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: %s: %w", what, err)
	} else if n != 1 {
		return fmt.Errorf("sqlstore: %s: %w", what, gardien.ErrNotFound)
	}
	return nil
}

// CreateToken stores the hash of a single-use token mailed to a user.
func (s *Store) CreateToken(ctx context.Context, kind string, tokenHash []byte, userID int64, expires, at time.Time) error {
	_, err := s.exec(ctx, s.writer, `INSERT INTO tokens (kind, token_hash, user_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?)`,
		kind, tokenHash, userID, expires.Unix(), at.Unix())
	if err != nil {
		return fmt.Errorf("sqlstore: create token: %w", err)
	}
	return nil
}

// ConsumeToken marks a live token used and returns its user, in one
// statement: of two requests racing with the same token, one wins.
// gardien.ErrNotFound for an unknown, used or expired token.
func (s *Store) ConsumeToken(ctx context.Context, kind string, tokenHash []byte, at time.Time) (int64, error) {
	var userID int64
	err := s.queryRow(ctx, s.writer, `UPDATE tokens SET used_at = ?
		WHERE token_hash = ? AND kind = ? AND used_at IS NULL AND expires_at > ? RETURNING user_id`,
		at.Unix(), tokenHash, kind, at.Unix()).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		err = gardien.ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("sqlstore: consume token: %w", err)
	}
	return userID, nil
}

// TokenUser returns the user of a live token without using it up.
func (s *Store) TokenUser(ctx context.Context, kind string, tokenHash []byte, at time.Time) (int64, error) {
	var userID int64
	err := s.queryRow(ctx, s.reader, `SELECT user_id FROM tokens WHERE token_hash = ? AND kind = ? AND used_at IS NULL AND expires_at > ?`,
		tokenHash, kind, at.Unix()).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		err = gardien.ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("sqlstore: token user: %w", err)
	}
	return userID, nil
}

// CreateEmailChange stores the link of a change of email, with the new
// address (as shown, and its key).
func (s *Store) CreateEmailChange(ctx context.Context, tokenHash []byte, userID int64, email, key string, expires, at time.Time) error {
	_, err := s.exec(ctx, s.writer, `INSERT INTO tokens (kind, token_hash, user_id, expires_at, created_at, data) VALUES (?, ?, ?, ?, ?, ?)`,
		"change_email", tokenHash, userID, expires.Unix(), at.Unix(), email+"\n"+key)
	if err != nil {
		return fmt.Errorf("sqlstore: email change: %w", err)
	}
	return nil
}

// ChangeEmail uses the link of a change of email, once, and sets the new
// address, validated, with its event; it returns the person as they were
// (their old address) and the new address. gardien.ErrNotFound when the
// link is unknown, used or expired; gardien.ErrDuplicate when another
// account took the address meanwhile.
func (s *Store) ChangeEmail(ctx context.Context, tokenHash []byte, at time.Time, e *gardien.Event) (*gardien.User, string, error) {
	var before *gardien.User
	var email string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var userID int64
		var data string
		err := s.txQueryRow(ctx, tx, `UPDATE tokens SET used_at = ? WHERE token_hash = ? AND kind = ? AND used_at IS NULL AND expires_at > ?
			RETURNING user_id, data`, at.Unix(), tokenHash, "change_email", at.Unix()).Scan(&userID, &data)
		if errors.Is(err, sql.ErrNoRows) {
			return gardien.ErrNotFound
		}
		if err != nil {
			return err
		}
		if before, err = scanUser(s.txQueryRow(ctx, tx, `SELECT `+userColumns+` FROM users u WHERE u.id = ?`, userID)); err != nil {
			return err
		}
		var key string
		email, key, _ = strings.Cut(data, "\n")
		if _, err := s.txExec(ctx, tx, `UPDATE users SET email = ?, email_key = ?, email_verified_at = ?, updated_at = ? WHERE id = ?`,
			email, key, at.Unix(), at.Unix(), userID); err != nil {
			return err
		}
		e.UserID, e.ActorID = userID, userID
		return s.insertEvent(ctx, tx, e)
	})
	switch {
	case errors.Is(err, gardien.ErrNotFound):
		return nil, "", err
	case isUnique(err):
		return nil, "", gardien.ErrDuplicate
	case err != nil:
		return nil, "", fmt.Errorf("sqlstore: change email: %w", err)
	}
	return before, email, nil
}

// DeleteUser removes a person: their account and, with it, their sessions,
// memberships, second factor, recovery codes and pending links. Events
// stay (the trail keeps its lines; the person shows as a deleted account).
// Refused with an error wrapping gardien.ErrLastOwner, naming the
// organizations, while they are the last owner of one — checked in the
// same transaction, the organizations' memberships locked on PostgreSQL.
func (s *Store) DeleteUser(ctx context.Context, userID int64, e *gardien.Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		names, err := s.txStrings(ctx, tx, `SELECT o.name FROM memberships m JOIN organizations o ON o.id = m.org_id
			WHERE m.user_id = ? AND m.role = 'owner'
			AND NOT EXISTS (SELECT 1 FROM memberships m2 WHERE m2.org_id = m.org_id AND m2.role = 'owner' AND m2.user_id <> m.user_id)
			ORDER BY o.name`+s.forUpdate(), userID)
		if err != nil {
			return err
		}
		if len(names) > 0 {
			return &gardien.LastOwnerError{Organizations: names}
		}
		if err := s.countLeavingAll(ctx, tx, userID); err != nil {
			return err
		}
		if err := s.txExec1(ctx, tx, `DELETE FROM users WHERE id = ?`, userID); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	var lo *gardien.LastOwnerError
	if errors.As(err, &lo) || errors.Is(err, gardien.ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("sqlstore: delete user: %w", err)
	}
	return nil
}

// keptBrowsers is how many browsers an account remembers: enough for a
// person's devices, few enough that a script logging in without cookies
// does not grow the table.
const keptBrowsers = 20

// SeeBrowser records that a login of userID completed in the browser whose
// cookie value hashes to hash, and says whether to tell the person: the
// browser is new to the account, the account had used others before (a
// first login, or the first since this record began, is not news), and
// the person has not turned the alerts off. Of two requests of one new
// browser at once, one tells.
func (s *Store) SeeBrowser(ctx context.Context, userID int64, hash []byte, at time.Time) (tell bool, err error) {
	// A browser seen today needs no write: a login stays one write.
	var last int64
	err = s.queryRow(ctx, s.reader, `SELECT last_seen FROM known_browsers WHERE user_id = ? AND browser_hash = ?`, userID, hash).Scan(&last)
	if err == nil && at.Unix()-last < 24*60*60 {
		return false, nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("sqlstore: see browser: %w", err)
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, `UPDATE known_browsers SET last_seen = ? WHERE user_id = ? AND browser_hash = ?`, at.Unix(), userID, hash)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		var others int64
		var alerts bool
		if err := s.txQueryRow(ctx, tx, `SELECT (SELECT COUNT(*) FROM known_browsers WHERE user_id = ?), sign_in_alerts FROM users WHERE id = ?`,
			userID, userID).Scan(&others, &alerts); err != nil {
			return err
		}
		res, err = s.txExec(ctx, tx, `INSERT INTO known_browsers (user_id, browser_hash, first_seen, last_seen) VALUES (?, ?, ?, ?)
			ON CONFLICT (user_id, browser_hash) DO NOTHING`, userID, hash, at.Unix(), at.Unix())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if others >= keptBrowsers {
			if _, err := s.txExec(ctx, tx, `DELETE FROM known_browsers WHERE user_id = ? AND browser_hash NOT IN
				(SELECT browser_hash FROM known_browsers WHERE user_id = ? ORDER BY last_seen DESC, first_seen DESC LIMIT ?)`,
				userID, userID, keptBrowsers); err != nil {
				return err
			}
		}
		tell = n == 1 && others > 0 && alerts
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("sqlstore: see browser: %w", err)
	}
	return tell, nil
}

// SignInAlerts says whether a person is mailed about sign-ins from new
// browsers.
func (s *Store) SignInAlerts(ctx context.Context, userID int64) (bool, error) {
	var on bool
	err := s.queryRow(ctx, s.reader, `SELECT sign_in_alerts FROM users WHERE id = ?`, userID).Scan(&on)
	if errors.Is(err, sql.ErrNoRows) {
		err = gardien.ErrNotFound
	}
	if err != nil {
		return false, fmt.Errorf("sqlstore: sign-in alerts: %w", err)
	}
	return on, nil
}

// SetSignInAlerts turns a person's sign-in alerts on or off.
func (s *Store) SetSignInAlerts(ctx context.Context, userID int64, on bool) error {
	if _, err := s.exec(ctx, s.writer, `UPDATE users SET sign_in_alerts = ? WHERE id = ?`, on, userID); err != nil {
		return fmt.Errorf("sqlstore: set sign-in alerts: %w", err)
	}
	return nil
}
