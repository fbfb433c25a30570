package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/restic-manager/restic-manager/server/internal/secrets"
)

// APIToken is a bearer token for automation, owned by an account. Only its hash is
// stored. Its effective role is the lower of its own and its owner's current role.
type APIToken struct {
	ID           string `gorm:"primaryKey"`
	UserID       string
	Name         string
	Role         string
	TokenHash    string
	CreatedAt    time.Time
	ExpiresAt    *time.Time
	LastUsedAt   *time.Time
	LastUsedAddr string
	RevokedAt    *time.Time
	// UserEmail is the owner's email, filled by listings.
	UserEmail string `gorm:"->;column:user_email"`
}

// NewAPIToken describes a token to create.
type NewAPIToken struct {
	UserID    string
	Name      string
	Role      string
	ExpiresAt *time.Time
}

// CreateAPIToken stores a new token and returns it once.
func (s *Store) CreateAPIToken(ctx context.Context, in NewAPIToken) (string, APIToken, error) {
	if in.UserID == "" || in.Name == "" || in.Role == "" {
		return "", APIToken{}, fmt.Errorf("%w: user, name and role are required", ErrInvalidArgument)
	}
	plain, err := secrets.NewToken("rmt")
	if err != nil {
		return "", APIToken{}, err
	}
	t := APIToken{ID: uuid.NewString(), UserID: in.UserID, Name: in.Name, Role: in.Role,
		TokenHash: secrets.HashToken(plain), CreatedAt: s.now()}
	if in.ExpiresAt != nil {
		e := in.ExpiresAt.UTC()
		t.ExpiresAt = &e
	}
	if err := s.db.WithContext(ctx).Omit("user_email").Create(&t).Error; err != nil {
		if isForeignKeyViolation(err) {
			return "", APIToken{}, ErrNotFound
		}
		return "", APIToken{}, fmt.Errorf("store: create api token: %w", err)
	}
	return plain, t, nil
}

// APITokenByToken resolves a bearer token to a live API token and its enabled owner.
// Unknown, revoked and expired tokens and disabled owners answer ErrNotFound.
func (s *Store) APITokenByToken(ctx context.Context, token string) (APIToken, User, error) {
	var t APIToken
	now := s.now()
	err := s.db.WithContext(ctx).
		Where("token_hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)", secrets.HashToken(token), now).
		Take(&t).Error
	if err != nil {
		return APIToken{}, User{}, notFound(err)
	}
	u, err := s.UserByID(ctx, t.UserID)
	if err != nil {
		return APIToken{}, User{}, err
	}
	if u.DisabledAt != nil {
		return APIToken{}, User{}, ErrNotFound
	}
	t.UserEmail = u.Email
	return t, u, nil
}

// TouchAPIToken records a use, writing only when the stored time is older than
// staleBefore: at most one write per token per interval, not one per request.
func (s *Store) TouchAPIToken(ctx context.Context, id, addr string, at, staleBefore time.Time) error {
	err := s.db.WithContext(ctx).Model(&APIToken{}).
		Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", id, staleBefore).
		Updates(map[string]any{"last_used_at": at.UTC(), "last_used_addr": truncate(addr, 100)}).Error
	if err != nil {
		return fmt.Errorf("store: touch api token: %w", err)
	}
	return nil
}

// APITokenByID loads a token (any state).
func (s *Store) APITokenByID(ctx context.Context, id string) (APIToken, error) {
	var t APIToken
	err := s.db.WithContext(ctx).Table("api_tokens").Select("api_tokens.*, users.email AS user_email").
		Joins("JOIN users ON users.id = api_tokens.user_id").Where("api_tokens.id = ?", id).Take(&t).Error
	if err != nil {
		return APIToken{}, notFound(err)
	}
	return t, nil
}

// ListAPITokens lists tokens, newest first: an account's own (userID set) or all.
// Revoked tokens are included; the caller shows their state.
func (s *Store) ListAPITokens(ctx context.Context, userID string, page PageRequest) ([]APIToken, string, error) {
	c, ok, err := decodeCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	q := s.db.WithContext(ctx).Table("api_tokens").Select("api_tokens.*, users.email AS user_email").
		Joins("JOIN users ON users.id = api_tokens.user_id")
	if userID != "" {
		q = q.Where("api_tokens.user_id = ?", userID)
	}
	if ok {
		t, err := cursorTime(c)
		if err != nil {
			return nil, "", err
		}
		q = q.Where("(api_tokens.created_at, api_tokens.id) < (?, ?)", t, c.I)
	}
	limit := page.limit()
	var out []APIToken
	if err := q.Order("api_tokens.created_at DESC, api_tokens.id DESC").Limit(limit + 1).Find(&out).Error; err != nil {
		return nil, "", fmt.Errorf("store: list api tokens: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = encodeCursor(timeKey(out[limit-1].CreatedAt), out[limit-1].ID)
	}
	return out, next, nil
}

// RevokeAPIToken revokes a token; with userID set, only one of that account's. Revoking
// a revoked token is harmless.
func (s *Store) RevokeAPIToken(ctx context.Context, userID, id string) (APIToken, error) {
	q := s.db.WithContext(ctx).Model(&APIToken{}).Where("id = ? AND revoked_at IS NULL", id)
	if userID != "" {
		q = q.Where("user_id = ?", userID)
	}
	if err := q.Update("revoked_at", s.now()).Error; err != nil {
		return APIToken{}, fmt.Errorf("store: revoke api token: %w", err)
	}
	t, err := s.APITokenByID(ctx, id)
	if err != nil {
		return APIToken{}, err
	}
	if userID != "" && t.UserID != userID {
		return APIToken{}, ErrNotFound
	}
	return t, nil
}
