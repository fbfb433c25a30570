package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// ScheduleInput is a validated schedule to create or replace.
type ScheduleInput struct {
	RepositoryID string
	Name         string
	Kind         string
	Cron         string
	Timezone     string
	Paths        []string
	Excludes     []string
	Tags         []string
	Retention    *protocol.Retention
	Options      *protocol.JobOptions
	PreHook      string
	PostHook     string
	Enabled      bool
	Manual       bool
}

// CreateSchedule adds a schedule to a host and bumps its schedule version. The
// repository must belong to the same host.
func (s *Store) CreateSchedule(ctx context.Context, hostID string, in ScheduleInput) (Schedule, error) {
	now := s.now()
	sc := Schedule{ID: uuid.NewString(), HostID: hostID, CreatedAt: now}
	applyScheduleInput(&sc, in, now)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := requireRepoOfHost(tx, hostID, in.RepositoryID); err != nil {
			return err
		}
		if err := tx.Create(&sc).Error; err != nil {
			return fmt.Errorf("store: create schedule: %w", err)
		}
		return bumpScheduleVersion(tx, hostID)
	})
	return sc, err
}

// UpdateSchedule replaces a schedule's settings and bumps the host's schedule version.
func (s *Store) UpdateSchedule(ctx context.Context, hostID, id string, in ScheduleInput) (Schedule, error) {
	var sc Schedule
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("id = ? AND host_id = ?", id, hostID).Take(&sc).Error; err != nil {
			return notFound(err)
		}
		if err := requireRepoOfHost(tx, hostID, in.RepositoryID); err != nil {
			return err
		}
		applyScheduleInput(&sc, in, s.now())
		if err := tx.Save(&sc).Error; err != nil {
			return fmt.Errorf("store: update schedule: %w", err)
		}
		return bumpScheduleVersion(tx, hostID)
	})
	return sc, err
}

// DeleteSchedule removes a schedule and bumps the host's schedule version.
func (s *Store) DeleteSchedule(ctx context.Context, hostID, id string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Where("id = ? AND host_id = ?", id, hostID).Delete(&Schedule{})
		if res.Error != nil {
			return fmt.Errorf("store: delete schedule: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return bumpScheduleVersion(tx, hostID)
	})
}

// Schedule loads one schedule of a host.
func (s *Store) Schedule(ctx context.Context, hostID, id string) (Schedule, error) {
	var sc Schedule
	if err := s.db.WithContext(ctx).Where("id = ? AND host_id = ?", id, hostID).Take(&sc).Error; err != nil {
		return Schedule{}, notFound(err)
	}
	return sc, nil
}

func requireRepoOfHost(tx *gorm.DB, hostID, repoID string) error {
	var n int64
	if err := tx.Model(&Repository{}).Where("id = ? AND host_id = ?", repoID, hostID).Count(&n).Error; err != nil {
		return fmt.Errorf("store: repository lookup: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("%w: repository %s not found on this host", ErrNotFound, repoID)
	}
	return nil
}

func applyScheduleInput(sc *Schedule, in ScheduleInput, now time.Time) {
	sc.RepositoryID = in.RepositoryID
	sc.Name = in.Name
	sc.Kind = in.Kind
	sc.Cron = in.Cron
	sc.Timezone = in.Timezone
	if sc.Timezone == "" {
		sc.Timezone = "UTC"
	}
	sc.Paths = nonNil(in.Paths)
	sc.Excludes = nonNil(in.Excludes)
	sc.Tags = nonNil(in.Tags)
	sc.Retention = in.Retention
	sc.Options = in.Options
	sc.PreHook = in.PreHook
	sc.PostHook = in.PostHook
	sc.Enabled = in.Enabled
	sc.Manual = in.Manual
	sc.UpdatedAt = now
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// ScheduleSet builds the desired schedule document of a host at its current version.
func (s *Store) ScheduleSet(ctx context.Context, hostID string) (protocol.ScheduleSet, error) {
	var set protocol.ScheduleSet
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var h Host
		if err := tx.Select("id", "schedule_version").Where("id = ?", hostID).Take(&h).Error; err != nil {
			return notFound(err)
		}
		var scs []Schedule
		if err := tx.Where("host_id = ?", hostID).Order("created_at, id").Find(&scs).Error; err != nil {
			return fmt.Errorf("store: schedules: %w", err)
		}
		var repos []Repository
		if err := tx.Where("host_id = ?", hostID).Order("name").Find(&repos).Error; err != nil {
			return fmt.Errorf("store: repositories: %w", err)
		}
		set.Version = h.ScheduleVersion
		set.Schedules = make([]protocol.Schedule, 0, len(scs))
		for _, sc := range scs {
			set.Schedules = append(set.Schedules, WireSchedule(sc))
		}
		set.Repositories = make([]protocol.Repository, 0, len(repos))
		for _, r := range repos {
			wr, err := s.WireRepository(r)
			if err != nil {
				return err
			}
			set.Repositories = append(set.Repositories, wr)
		}
		return nil
	}, readOnlyTx(s.dialect))
	return set, err
}

// WireSchedule converts a stored schedule to its wire form.
func WireSchedule(sc Schedule) protocol.Schedule {
	return protocol.Schedule{
		ID: sc.ID, Name: sc.Name, Kind: sc.Kind, RepositoryID: sc.RepositoryID, Cron: sc.Cron, Timezone: sc.Timezone,
		Paths: sc.Paths, Excludes: sc.Excludes, Tags: sc.Tags, Retention: sc.Retention, Options: sc.Options,
		PreHook: sc.PreHook, PostHook: sc.PostHook, Enabled: sc.Enabled, Manual: sc.Manual,
	}
}

// RecordScheduleAck stores an agent's acknowledgement of a schedule set version. A
// version the server never issued is refused.
func (s *Store) RecordScheduleAck(ctx context.Context, hostID string, ack protocol.ScheduleAck) error {
	now := s.now()
	return s.tx(ctx, func(tx *gorm.DB) error {
		var h Host
		if err := tx.Select("id", "schedule_version", "schedule_applied_version").Where("id = ?", hostID).Take(&h).Error; err != nil {
			return notFound(err)
		}
		if ack.Version > h.ScheduleVersion || ack.Version < 1 {
			return fmt.Errorf("%w: schedule version %d was never issued (current %d)", ErrInvalidArgument, ack.Version, h.ScheduleVersion)
		}
		rec := ScheduleAck{HostID: hostID, Version: ack.Version, AppliedAt: ack.AppliedAt.UTC(), Error: ack.Error, ReceivedAt: now}
		if err := tx.Create(&rec).Error; err != nil {
			return fmt.Errorf("store: schedule ack: %w", err)
		}
		if ack.Error == "" && ack.Version > h.ScheduleAppliedVersion {
			if err := tx.Model(&Host{}).Where("id = ?", hostID).Updates(map[string]any{
				"schedule_applied_version": ack.Version, "schedule_applied_at": now,
			}).Error; err != nil {
				return fmt.Errorf("store: schedule ack: %w", err)
			}
		}
		return nil
	})
}
