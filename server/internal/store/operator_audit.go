package store

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// Actor types of audit entries.
const (
	AuditActorUser      = "user"
	AuditActorToken     = "token"
	AuditActorSystem    = "system"
	AuditActorAnonymous = "anonymous"
)

// AuditEntry records one state-changing operator action: who, what, when, from where.
// Details never hold secrets.
type AuditEntry struct {
	ID         int64 `gorm:"primaryKey"`
	At         time.Time
	ActorType  string
	ActorID    string
	ActorName  string
	Action     string
	TargetType string
	TargetID   string
	RemoteAddr string
	Details    map[string]any `gorm:"serializer:json"`
}

// TableName keeps the table name of the migration.
func (AuditEntry) TableName() string { return "audit_log" }

// AddAudit appends an entry; At defaults to now.
func (s *Store) AddAudit(ctx context.Context, e AuditEntry) error {
	if e.Action == "" || e.ActorType == "" {
		return fmt.Errorf("%w: audit entry needs an action and an actor type", ErrInvalidArgument)
	}
	e.ID = 0
	if e.At.IsZero() {
		e.At = s.now()
	}
	e.At = e.At.UTC()
	e.RemoteAddr = truncate(e.RemoteAddr, 100)
	if err := s.db.WithContext(ctx).Create(&e).Error; err != nil {
		return fmt.Errorf("store: add audit entry: %w", err)
	}
	return nil
}

// AuditFilter narrows an audit listing; zero fields match everything.
type AuditFilter struct {
	ActorID    string
	Action     string
	TargetType string
	TargetID   string
	Since      time.Time
	Until      time.Time
}

// ListAudit lists entries, newest first.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter, page PageRequest) ([]AuditEntry, string, error) {
	c, ok, err := decodeCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	q := s.db.WithContext(ctx).Model(&AuditEntry{})
	if f.ActorID != "" {
		q = q.Where("actor_id = ?", f.ActorID)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.TargetType != "" {
		q = q.Where("target_type = ?", f.TargetType)
	}
	if f.TargetID != "" {
		q = q.Where("target_id = ?", f.TargetID)
	}
	if !f.Since.IsZero() {
		q = q.Where("at >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		q = q.Where("at < ?", f.Until.UTC())
	}
	if ok {
		id, err := strconv.ParseInt(c.I, 10, 64)
		if err != nil {
			return nil, "", fmt.Errorf("%w: cursor is not one this server issued", ErrInvalidArgument)
		}
		q = q.Where("id < ?", id)
	}
	limit := page.limit()
	var out []AuditEntry
	if err := q.Order("id DESC").Limit(limit + 1).Find(&out).Error; err != nil {
		return nil, "", fmt.Errorf("store: list audit: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = encodeCursor("", strconv.FormatInt(out[limit-1].ID, 10))
	}
	return out, next, nil
}
