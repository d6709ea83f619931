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

// EnqueueMail stores a mail to send, due at once.
func (s *Store) EnqueueMail(ctx context.Context, m mail.Message, at time.Time) error {
	_, err := s.exec(ctx, s.writer, `INSERT INTO outbox (created_at, to_addr, subject, text_body, html_body, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)`,
		at.Unix(), m.To, m.Subject, m.Text, m.HTML, at.Unix())
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
func (s *Store) ClaimMail(ctx context.Context, now, leaseEnd time.Time) (*mail.Queued, error) {
	var q mail.Queued
	err := s.queryRow(ctx, s.writer, `UPDATE outbox SET next_attempt_at = ?, attempts = attempts + 1
		WHERE id = (SELECT id FROM outbox WHERE next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 1) AND next_attempt_at <= ?
		RETURNING id, to_addr, subject, text_body, html_body, attempts`, leaseEnd.Unix(), now.Unix(), now.Unix()).
		Scan(&q.ID, &q.To, &q.Subject, &q.Text, &q.HTML, &q.Attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gardien.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: claim mail: %w", err)
	}
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
