package store

import (
	"context"
	"fmt"
)

// EnrollmentTokenByID loads an enrollment token (never its secret: only the hash is stored).
func (s *Store) EnrollmentTokenByID(ctx context.Context, id string) (EnrollmentToken, error) {
	var t EnrollmentToken
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&t).Error; err != nil {
		return EnrollmentToken{}, notFound(err)
	}
	return t, nil
}

// ListEnrollmentTokens lists enrollment tokens, newest first, in every state.
func (s *Store) ListEnrollmentTokens(ctx context.Context, page PageRequest) ([]EnrollmentToken, string, error) {
	c, ok, err := decodeCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	q := s.db.WithContext(ctx).Model(&EnrollmentToken{})
	if ok {
		t, err := cursorTime(c)
		if err != nil {
			return nil, "", err
		}
		q = q.Where("(created_at, id) < (?, ?)", t, c.I)
	}
	limit := page.limit()
	var out []EnrollmentToken
	if err := q.Order("created_at DESC, id DESC").Limit(limit + 1).Find(&out).Error; err != nil {
		return nil, "", fmt.Errorf("store: list enrollment tokens: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = encodeCursor(timeKey(out[limit-1].CreatedAt), out[limit-1].ID)
	}
	return out, next, nil
}

// RevokeEnrollmentToken revokes a token so it enrols no more hosts. Repeating it is harmless.
func (s *Store) RevokeEnrollmentToken(ctx context.Context, id string) (EnrollmentToken, error) {
	if err := s.db.WithContext(ctx).Model(&EnrollmentToken{}).Where("id = ? AND revoked_at IS NULL", id).
		Update("revoked_at", s.now()).Error; err != nil {
		return EnrollmentToken{}, fmt.Errorf("store: revoke enrollment token: %w", err)
	}
	return s.EnrollmentTokenByID(ctx, id)
}
