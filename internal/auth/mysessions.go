package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/gardien/gardien"
)

// OpenSession is one of a person's sessions as they see it.
type OpenSession struct {
	gardien.Session
	Browser, System string // from its User-Agent; "" when unknown
	Current         bool   // the session asking
}

var errSessionNotFound = gardien.Errorf(gardien.CodeNotFound, "err.session_not_found")

// Sessions lists where a person is logged in, the session asking marked.
func (s *Service) Sessions(ctx context.Context, current *gardien.Session) ([]OpenSession, error) {
	list, err := s.Store.UserSessions(ctx, current.UserID)
	if err != nil {
		return nil, fmt.Errorf("auth: sessions: %w", err)
	}
	out := make([]OpenSession, 0, len(list))
	for _, sess := range list {
		b, sys := gardien.DescribeUserAgent(sess.UserAgent)
		o := OpenSession{Session: sess, Browser: b, System: sys, Current: sess.ID == current.ID}
		if o.Current { // the one in use first: "this browser"
			out = append([]OpenSession{o}, out...)
		} else {
			out = append(out, o)
		}
	}
	return out, nil
}

// EndSession ends one of the person's sessions (another device, say): it
// takes effect at that session's next request. Only their own: another's
// id is not found.
func (s *Service) EndSession(ctx context.Context, current *gardien.Session, id int64, c gardien.Client) error {
	e := s.newEvent(gardien.EventSessionEnded, current.UserID, current.UserID, c, gardien.EventData{"session": strconv.FormatInt(id, 10)})
	err := s.Store.EndUserSession(ctx, current.UserID, id, e)
	if errors.Is(err, gardien.ErrNotFound) {
		return errSessionNotFound
	}
	return err
}

// EndOtherSessions ends every session of the person but the one asking;
// it returns how many ended.
func (s *Service) EndOtherSessions(ctx context.Context, current *gardien.Session, c gardien.Client) (int64, error) {
	e := s.newEvent(gardien.EventSessionEnded, current.UserID, current.UserID, c, gardien.EventData{"sessions": "others"})
	return s.Store.EndOtherSessions(ctx, current.UserID, current.ID, e)
}
