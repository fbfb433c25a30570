package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"gorm.io/gorm"
)

// RepositoryUpdate changes a repository; nil fields stay as they are. Secrets are
// write-only: a non-nil Password replaces the password (it cannot be cleared), a
// non-nil RestPassword or Env replaces the old value, and an empty one clears it.
type RepositoryUpdate struct {
	Name         *string
	URL          *string
	Password     *string
	RestUsername *string
	RestPassword *string
	Env          *map[string]string
}

// UpdateRepository applies a change and bumps the host's schedule version, since the
// schedule set carries the repositories.
func (s *Store) UpdateRepository(ctx context.Context, hostID, id string, in RepositoryUpdate) (Repository, error) {
	var r Repository
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("id = ? AND host_id = ?", id, hostID).Take(&r).Error; err != nil {
			return notFound(err)
		}
		if in.Name != nil {
			r.Name = *in.Name
		}
		if in.URL != nil {
			r.URL = *in.URL
		}
		if in.RestUsername != nil {
			r.RestUsername = *in.RestUsername
		}
		var seal RepositoryInput
		if in.Password != nil {
			if *in.Password == "" {
				return fmt.Errorf("%w: password may be replaced, not cleared", ErrInvalidArgument)
			}
			seal.Password = *in.Password
		}
		if in.RestPassword != nil {
			r.RestPasswordEnc = ""
			seal.RestPassword = *in.RestPassword
		}
		if in.Env != nil {
			r.EnvEnc = ""
			seal.Env = *in.Env
		}
		if err := s.sealRepo(&r, seal); err != nil {
			return err
		}
		r.UpdatedAt = s.now()
		if err := tx.Save(&r).Error; err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("%w: a repository named %q exists on this host", ErrConflict, r.Name)
			}
			return fmt.Errorf("store: update repository: %w", err)
		}
		return bumpScheduleVersion(tx, hostID)
	})
	return r, err
}

// DeleteRepository removes a repository with its schedules, snapshots and stats, and
// bumps the host's schedule version. Jobs that used it stay in the history.
func (s *Store) DeleteRepository(ctx context.Context, hostID, id string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		// Children first: SQLite enforces the cascade only with foreign keys on.
		for _, m := range []any{&Schedule{}, &Snapshot{}, &RepositoryStat{}} {
			if err := tx.Where("repository_id = ? AND host_id = ?", id, hostID).Delete(m).Error; err != nil {
				return fmt.Errorf("store: delete repository: %w", err)
			}
		}
		res := tx.Where("id = ? AND host_id = ?", id, hostID).Delete(&Repository{})
		if res.Error != nil {
			return fmt.Errorf("store: delete repository: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return bumpScheduleVersion(tx, hostID)
	})
}

// RepositoryEnvKeys returns the names (never the values) of a repository's environment variables.
func (s *Store) RepositoryEnvKeys(r Repository) ([]string, error) {
	if r.EnvEnc == "" {
		return []string{}, nil
	}
	raw, err := s.box.Open(r.EnvEnc)
	if err != nil {
		return nil, fmt.Errorf("store: repository %s env: %w", r.ID, err)
	}
	var env map[string]string
	if err := json.Unmarshal([]byte(raw), &env); err != nil {
		return nil, fmt.Errorf("store: repository %s env: %w", r.ID, err)
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, nil
}
