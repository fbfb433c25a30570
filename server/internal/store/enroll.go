package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/secrets"
)

// NewEnrollmentToken describes a token to create.
type NewEnrollmentToken struct {
	Description string
	CreatedBy   string
	TTL         time.Duration
	MaxUses     int
}

// CreateEnrollmentToken stores the hash of a new token and returns the token once.
func (s *Store) CreateEnrollmentToken(ctx context.Context, in NewEnrollmentToken) (string, EnrollmentToken, error) {
	if in.TTL <= 0 || in.MaxUses <= 0 {
		return "", EnrollmentToken{}, fmt.Errorf("%w: ttl and uses must be positive", ErrInvalidArgument)
	}
	plain, err := secrets.NewToken("rme")
	if err != nil {
		return "", EnrollmentToken{}, err
	}
	now := s.now()
	tok := EnrollmentToken{
		ID:          uuid.NewString(),
		TokenHash:   secrets.HashToken(plain),
		Description: in.Description,
		CreatedBy:   in.CreatedBy,
		ExpiresAt:   now.Add(in.TTL),
		MaxUses:     in.MaxUses,
		CreatedAt:   now,
	}
	if err := s.db.WithContext(ctx).Create(&tok).Error; err != nil {
		return "", EnrollmentToken{}, fmt.Errorf("store: create enrollment token: %w", err)
	}
	return plain, tok, nil
}

// Enroll consumes one use of an enrollment token and creates a host with a fresh
// credential, all or nothing. It returns the credential once.
func (s *Store) Enroll(ctx context.Context, token string, req protocol.EnrollRequest) (Host, string, error) {
	cred, err := secrets.NewToken("rmh")
	if err != nil {
		return Host{}, "", err
	}
	now := s.now()
	host := Host{
		ID:              uuid.NewString(),
		Name:            req.Hostname,
		Hostname:        req.Hostname,
		OS:              req.OS,
		Arch:            req.Arch,
		AgentVersion:    req.AgentVersion,
		Labels:          map[string]string{},
		ScheduleVersion: 1,
		ConfigVersion:   1,
		Config:          protocol.AgentConfig{Version: 1},
		CreatedAt:       now,
		UpdatedAt:       now,
	}
	err = s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&EnrollmentToken{}).
			Where("token_hash = ? AND revoked_at IS NULL AND expires_at > ? AND uses < max_uses", secrets.HashToken(token), now).
			Update("uses", gorm.Expr("uses + 1"))
		if res.Error != nil {
			return fmt.Errorf("store: consume enrollment token: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return ErrTokenInvalid
		}
		if err := tx.Create(&host).Error; err != nil {
			return fmt.Errorf("store: create host: %w", err)
		}
		c := AgentCredential{HostID: host.ID, TokenHash: secrets.HashToken(cred), CreatedAt: now}
		if err := tx.Create(&c).Error; err != nil {
			return fmt.Errorf("store: create credential: %w", err)
		}
		return nil
	})
	if err != nil {
		return Host{}, "", err
	}
	return host, cred, nil
}

// HostIDByCredential resolves a bearer credential to its host. Revoked credentials and
// decommissioned hosts answer ErrNotFound.
func (s *Store) HostIDByCredential(ctx context.Context, credential string) (string, error) {
	var c AgentCredential
	err := s.db.WithContext(ctx).
		Joins("JOIN hosts ON hosts.id = agent_credentials.host_id AND hosts.decommissioned_at IS NULL").
		Where("agent_credentials.token_hash = ? AND agent_credentials.revoked_at IS NULL", secrets.HashToken(credential)).
		Take(&c).Error
	if err != nil {
		return "", notFound(err)
	}
	return c.HostID, nil
}

// Host loads a host by id.
func (s *Store) Host(ctx context.Context, id string) (Host, error) {
	var h Host
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&h).Error; err != nil {
		return Host{}, notFound(err)
	}
	return h, nil
}

// HelloInfo is what an agent says about itself on hello.
type HelloInfo struct {
	Hostname, OS, Arch, AgentVersion, ResticVersion string
	ProtocolVersion                                 int
}

// RecordHello stores what the agent said about itself.
func (s *Store) RecordHello(ctx context.Context, hostID string, in HelloInfo) error {
	now := s.now()
	res := s.db.WithContext(ctx).Model(&Host{}).Where("id = ?", hostID).Updates(map[string]any{
		"hostname":         in.Hostname,
		"os":               in.OS,
		"arch":             in.Arch,
		"agent_version":    in.AgentVersion,
		"restic_version":   in.ResticVersion,
		"protocol_version": in.ProtocolVersion,
		"last_hello_at":    now,
		"last_seen_at":     now,
		"updated_at":       now,
	})
	if res.Error != nil {
		return fmt.Errorf("store: hello: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// TouchLastSeen writes many hosts' last-seen times in one statement.
func (s *Store) TouchLastSeen(ctx context.Context, seen map[string]time.Time) error {
	if len(seen) == 0 {
		return nil
	}
	type entry struct {
		ID string    `json:"id"`
		TS time.Time `json:"ts"`
	}
	rows := make([]entry, 0, len(seen))
	for id, t := range seen {
		rows = append(rows, entry{ID: id, TS: t.UTC()})
	}
	db := s.db.WithContext(ctx)
	if s.dialect == DialectPostgres {
		payload, err := json.Marshal(rows)
		if err != nil {
			return fmt.Errorf("store: touch last seen: %w", err)
		}
		err = db.Exec(`UPDATE hosts SET last_seen_at = v.ts
			FROM jsonb_to_recordset(?::jsonb) AS v(id text, ts timestamptz)
			WHERE hosts.id = v.id AND (hosts.last_seen_at IS NULL OR hosts.last_seen_at < v.ts)`, string(payload)).Error
		if err != nil {
			return fmt.Errorf("store: touch last seen: %w", err)
		}
		return nil
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		for _, r := range rows {
			if err := tx.Exec(`UPDATE hosts SET last_seen_at = ? WHERE id = ? AND (last_seen_at IS NULL OR last_seen_at < ?)`,
				r.TS, r.ID, r.TS).Error; err != nil {
				return fmt.Errorf("store: touch last seen: %w", err)
			}
		}
		return nil
	})
}
