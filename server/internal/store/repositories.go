package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// RepositoryInput is a repository to create or update. Secrets are plain here and
// sealed before they reach the database; an empty secret on update keeps the old one.
type RepositoryInput struct {
	Name         string
	URL          string
	Password     string
	RestUsername string
	RestPassword string
	Env          map[string]string
}

// CreateRepository adds a repository to a host and bumps the host's schedule version,
// since the schedule set carries the repositories.
func (s *Store) CreateRepository(ctx context.Context, hostID string, in RepositoryInput) (Repository, error) {
	if in.Name == "" || in.URL == "" || in.Password == "" {
		return Repository{}, fmt.Errorf("%w: name, url and password are required", ErrInvalidArgument)
	}
	now := s.now()
	r := Repository{ID: uuid.NewString(), HostID: hostID, Name: in.Name, URL: in.URL, RestUsername: in.RestUsername, CreatedAt: now, UpdatedAt: now}
	if err := s.sealRepo(&r, in); err != nil {
		return Repository{}, err
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&r).Error; err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("%w: a repository named %q exists on this host", ErrConflict, in.Name)
			}
			if isForeignKeyViolation(err) {
				return ErrNotFound
			}
			return fmt.Errorf("store: create repository: %w", err)
		}
		return bumpScheduleVersion(tx, hostID)
	})
	return r, err
}

func (s *Store) sealRepo(r *Repository, in RepositoryInput) error {
	var err error
	if in.Password != "" {
		if r.PasswordEnc, err = s.box.Seal(in.Password); err != nil {
			return err
		}
	}
	if in.RestPassword != "" {
		if r.RestPasswordEnc, err = s.box.Seal(in.RestPassword); err != nil {
			return err
		}
	}
	if len(in.Env) > 0 {
		raw, err := json.Marshal(in.Env)
		if err != nil {
			return fmt.Errorf("store: env: %w", err)
		}
		if r.EnvEnc, err = s.box.Seal(string(raw)); err != nil {
			return err
		}
	}
	return nil
}

// Repository loads one repository of a host.
func (s *Store) Repository(ctx context.Context, hostID, id string) (Repository, error) {
	var r Repository
	if err := s.db.WithContext(ctx).Where("id = ? AND host_id = ?", id, hostID).Take(&r).Error; err != nil {
		return Repository{}, notFound(err)
	}
	return r, nil
}

// Repositories lists a host's repositories.
func (s *Store) Repositories(ctx context.Context, hostID string) ([]Repository, error) {
	var rs []Repository
	if err := s.db.WithContext(ctx).Where("host_id = ?", hostID).Order("name").Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("store: repositories: %w", err)
	}
	return rs, nil
}

// WireRepository opens a repository's secrets for the agent that owns it.
func (s *Store) WireRepository(r Repository) (protocol.Repository, error) {
	pw, err := s.box.Open(r.PasswordEnc)
	if err != nil {
		return protocol.Repository{}, fmt.Errorf("store: repository %s password: %w", r.ID, err)
	}
	restPW, err := s.box.Open(r.RestPasswordEnc)
	if err != nil {
		return protocol.Repository{}, fmt.Errorf("store: repository %s rest password: %w", r.ID, err)
	}
	out := protocol.Repository{ID: r.ID, Name: r.Name, URL: r.URL, Password: pw, RestUsername: r.RestUsername, RestPassword: restPW}
	if r.EnvEnc != "" {
		raw, err := s.box.Open(r.EnvEnc)
		if err != nil {
			return protocol.Repository{}, fmt.Errorf("store: repository %s env: %w", r.ID, err)
		}
		if err := json.Unmarshal([]byte(raw), &out.Env); err != nil {
			return protocol.Repository{}, fmt.Errorf("store: repository %s env: %w", r.ID, err)
		}
	}
	return out, nil
}

func bumpScheduleVersion(tx *gorm.DB, hostID string) error {
	res := tx.Model(&Host{}).Where("id = ?", hostID).UpdateColumn("schedule_version", gorm.Expr("schedule_version + 1"))
	if res.Error != nil {
		return fmt.Errorf("store: bump schedule version: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}
