package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/restic-manager/restic-manager/server/internal/secrets"
)

// Session is a server-side browser session. The cookie holds a random token; only its
// hash is stored, with the hash of the CSRF token bound to the session.
type Session struct {
	ID         string `gorm:"primaryKey"`
	UserID     string
	TokenHash  string
	CSRFHash   string `gorm:"column:csrf_hash"`
	RemoteAddr string
	UserAgent  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	RevokedAt  *time.Time
}

// NewSession describes a session to create.
type NewSession struct {
	UserID     string
	RemoteAddr string
	UserAgent  string
	TTL        time.Duration
}

// CreateSession stores a new session and returns it with its cookie token and CSRF
// token, both shown once.
func (s *Store) CreateSession(ctx context.Context, in NewSession) (Session, string, string, error) {
	if in.TTL <= 0 || in.UserID == "" {
		return Session{}, "", "", fmt.Errorf("%w: user and ttl are required", ErrInvalidArgument)
	}
	token, err := secrets.NewToken("rms")
	if err != nil {
		return Session{}, "", "", err
	}
	csrf, err := secrets.NewToken("rmc")
	if err != nil {
		return Session{}, "", "", err
	}
	now := s.now()
	sess := Session{
		ID: uuid.NewString(), UserID: in.UserID, TokenHash: secrets.HashToken(token), CSRFHash: secrets.HashToken(csrf),
		RemoteAddr: truncate(in.RemoteAddr, 100), UserAgent: truncate(in.UserAgent, 300),
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(in.TTL),
	}
	if err := s.db.WithContext(ctx).Create(&sess).Error; err != nil {
		return Session{}, "", "", fmt.Errorf("store: create session: %w", err)
	}
	return sess, token, csrf, nil
}

// SessionByToken resolves a cookie token to a live session and its enabled account.
// Unknown, revoked and expired sessions and disabled accounts answer ErrNotFound.
func (s *Store) SessionByToken(ctx context.Context, token string) (Session, User, error) {
	var sess Session
	now := s.now()
	err := s.db.WithContext(ctx).Where("token_hash = ? AND revoked_at IS NULL AND expires_at > ?", secrets.HashToken(token), now).
		Take(&sess).Error
	if err != nil {
		return Session{}, User{}, notFound(err)
	}
	u, err := s.UserByID(ctx, sess.UserID)
	if err != nil {
		return Session{}, User{}, err
	}
	if u.DisabledAt != nil {
		return Session{}, User{}, ErrNotFound
	}
	return sess, u, nil
}

// TouchSession records activity, writing only when the stored time is older than
// staleBefore: at most one write per session per interval, not one per request.
func (s *Store) TouchSession(ctx context.Context, id string, at, staleBefore time.Time) error {
	err := s.db.WithContext(ctx).Model(&Session{}).Where("id = ? AND last_seen_at < ?", id, staleBefore).
		Update("last_seen_at", at.UTC()).Error
	if err != nil {
		return fmt.Errorf("store: touch session: %w", err)
	}
	return nil
}

// ListSessions returns an account's live sessions, newest first.
func (s *Store) ListSessions(ctx context.Context, userID string) ([]Session, error) {
	var out []Session
	err := s.db.WithContext(ctx).Where("user_id = ? AND revoked_at IS NULL AND expires_at > ?", userID, s.now()).
		Order("created_at DESC, id").Limit(MaxPageLimit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: list sessions: %w", err)
	}
	return out, nil
}

// RevokeSession ends one session of an account. An unknown or already ended session
// answers ErrNotFound.
func (s *Store) RevokeSession(ctx context.Context, userID, id string) error {
	res := s.db.WithContext(ctx).Model(&Session{}).Where("id = ? AND user_id = ? AND revoked_at IS NULL", id, userID).
		Update("revoked_at", s.now())
	if res.Error != nil {
		return fmt.Errorf("store: revoke session: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// RevokeUserSessions ends every session of an account except one (exceptID, may be
// empty) and returns how many it ended.
func (s *Store) RevokeUserSessions(ctx context.Context, userID, exceptID string) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&Session{}).Where("user_id = ? AND revoked_at IS NULL AND id <> ?", userID, exceptID).
			Update("revoked_at", s.now())
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("store: revoke sessions: %w", err)
	}
	return n, nil
}

func revokeSessions(tx *gorm.DB, userID, exceptID string, now time.Time) error {
	if err := tx.Model(&Session{}).Where("user_id = ? AND revoked_at IS NULL AND id <> ?", userID, exceptID).
		Update("revoked_at", now).Error; err != nil {
		return fmt.Errorf("store: revoke sessions: %w", err)
	}
	return nil
}

// PurgeSessions deletes sessions that ended before a time (housekeeping).
func (s *Store) PurgeSessions(ctx context.Context, before time.Time) error {
	err := s.db.WithContext(ctx).Where("expires_at < ? OR (revoked_at IS NOT NULL AND revoked_at < ?)", before, before).
		Delete(&Session{}).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("store: purge sessions: %w", err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
