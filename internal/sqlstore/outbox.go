package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/mail"
)

// EnqueueMail stores a sealed mail to send, due at once.
func (s *Store) EnqueueMail(ctx context.Context, m mail.Sealed, at time.Time) error {
	_, err := s.exec(ctx, s.writer, `INSERT INTO outbox (created_at, to_addr, subject, text_body, html_body, body, expires_at, next_attempt_at)
		VALUES (?, ?, '', '', '', ?, ?, ?)`, at.Unix(), m.To, m.Body, m.Expires.Unix(), at.Unix())
	if err != nil {
		return fmt.Errorf("sqlstore: enqueue mail: %w", err)
	}
	return nil
}

// NextMailDue says when the next mail is due (ok false: none waits). A
// read, so idle workers poll without taking SQLite's write lock.
func (s *Store) NextMailDue(ctx context.Context) (time.Time, bool, error) {
	var next sql.NullInt64
	if err := s.queryRow(ctx, s.reader, `SELECT MIN(next_attempt_at) FROM outbox`).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("sqlstore: next mail: %w", err)
	}
	return time.Unix(next.Int64, 0), next.Valid, nil
}

// ClaimMail takes the oldest due mail for a sender until leaseEnd: nobody
// else takes it meanwhile, and if the sender dies it is due again then.
// gardien.ErrNotFound when no mail is due (or another sender won it).
// Mails queued before bodies were sealed come with their clear parts.
func (s *Store) ClaimMail(ctx context.Context, now, leaseEnd time.Time) (*mail.Queued, error) {
	var q mail.Queued
	var expires int64
	err := s.queryRow(ctx, s.writer, `UPDATE outbox SET next_attempt_at = ?, attempts = attempts + 1
		WHERE id = (SELECT id FROM outbox WHERE next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 1) AND next_attempt_at <= ?
		RETURNING id, to_addr, COALESCE(body, ?), expires_at, subject, text_body, html_body, attempts`, leaseEnd.Unix(), now.Unix(), now.Unix(), []byte{}).
		Scan(&q.ID, &q.To, &q.Body, &expires, &q.Legacy.Subject, &q.Legacy.Text, &q.Legacy.HTML, &q.Attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gardien.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: claim mail: %w", err)
	}
	q.Expires = time.Unix(expires, 0)
	q.Legacy.To = q.To
	return &q, nil
}

// MailSent removes a sent mail.
func (s *Store) MailSent(ctx context.Context, id int64) error {
	if _, err := s.exec(ctx, s.writer, `DELETE FROM outbox WHERE id = ?`, id); err != nil {
		return fmt.Errorf("sqlstore: mail sent: %w", err)
	}
	return nil
}

// MailFailed records a failed try and when to try again.
func (s *Store) MailFailed(ctx context.Context, id int64, next time.Time, reason string) error {
	if _, err := s.exec(ctx, s.writer, `UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id = ?`, next.Unix(), gardien.Clip(reason, 500), id); err != nil {
		return fmt.Errorf("sqlstore: mail failed: %w", err)
	}
	return nil
}

// MailGivenUp stops trying a mail. Its trace stays for an operator (to
// whom, when, why) and so does its sealed body, for as long as its link
// lives, so that an operator can send it again (RetryMail) once the mail
// server is fixed; PurgeMail drops the body when the link expires.
func (s *Store) MailGivenUp(ctx context.Context, id int64, reason string) error {
	// The clear parts are those of a mail queued before bodies were
	// sealed: they go now, as they always did.
	if _, err := s.exec(ctx, s.writer, `UPDATE outbox SET next_attempt_at = ?, last_error = ?, subject = '', text_body = '', html_body = ''
		WHERE id = ?`, givenUpAt, gardien.Clip(reason, 500), id); err != nil {
		return fmt.Errorf("sqlstore: mail given up: %w", err)
	}
	return nil
}

// RetryMail makes a given-up mail due again at now, its tries counted
// anew. gardien.ErrNotFound when no given-up mail has that id;
// mail.ErrCannotRetry when its body is gone (its link expired, or it was
// given up before bodies were kept).
func (s *Store) RetryMail(ctx context.Context, id int64, now time.Time) error {
	res, err := s.exec(ctx, s.writer, `UPDATE outbox SET next_attempt_at = ?, attempts = 0 WHERE id = ? AND next_attempt_at >= ?
		AND body IS NOT NULL AND (expires_at = 0 OR expires_at > ?)`, now.Unix(), id, givenUpAt, now.Unix())
	if err != nil {
		return fmt.Errorf("sqlstore: retry mail: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var given int
	if err := s.queryRow(ctx, s.writer, `SELECT COUNT(*) FROM outbox WHERE id = ? AND next_attempt_at >= ?`, id, givenUpAt).Scan(&given); err != nil {
		return fmt.Errorf("sqlstore: retry mail: %w", err)
	}
	if given == 0 {
		return gardien.ErrNotFound
	}
	return mail.ErrCannotRetry
}

// PurgeMail deletes waiting mails whose link expired (sending them would
// help nobody), drops the bodies of given-up mails whose link expired (the
// trace stays), and deletes the traces given up before givenUpBefore.
func (s *Store) PurgeMail(ctx context.Context, now, givenUpBefore time.Time) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.txExec(ctx, tx, `UPDATE outbox SET body = NULL, subject = '', text_body = '', html_body = ''
			WHERE next_attempt_at >= ? AND expires_at > 0 AND expires_at <= ? AND body IS NOT NULL`, givenUpAt, now.Unix()); err != nil {
			return err
		}
		res, err := s.txExec(ctx, tx, `DELETE FROM outbox WHERE (next_attempt_at < ? AND expires_at > 0 AND expires_at <= ?)
			OR (next_attempt_at >= ? AND created_at < ?)`, givenUpAt, now.Unix(), givenUpAt, givenUpBefore.Unix())
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purge mail: %w", err)
	}
	return n, nil
}

// givenUpAt marks a mail given up (MailGivenUp): due never.
const givenUpAt = int64(1) << 40

// OutboxCounts counts the mails waiting to leave and the traces of mails
// given up, for metrics.
func (s *Store) OutboxCounts(ctx context.Context) (pending, givenUp int64, err error) {
	err = s.queryRow(ctx, s.reader, `SELECT COALESCE(SUM(CASE WHEN next_attempt_at < ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN next_attempt_at >= ? THEN 1 ELSE 0 END), 0) FROM outbox`, givenUpAt, givenUpAt).Scan(&pending, &givenUp)
	if err != nil {
		return 0, 0, fmt.Errorf("sqlstore: outbox counts: %w", err)
	}
	return pending, givenUp, nil
}

// PoolStats are the connection pools' numbers: the writer's and the
// reader's (the same pool on PostgreSQL).
func (s *Store) PoolStats() map[string]sql.DBStats {
	if s.reader == s.writer {
		return map[string]sql.DBStats{"shared": s.writer.Stats()}
	}
	return map[string]sql.DBStats{"writer": s.writer.Stats(), "reader": s.reader.Stats()}
}
