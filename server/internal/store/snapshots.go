package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// ReplaceSnapshots replaces the snapshot projection of one repository of a host, atomically.
func (s *Store) ReplaceSnapshots(ctx context.Context, hostID, repoID string, rep protocol.SnapshotReport) error {
	now := s.now()
	rows := make([]Snapshot, 0, len(rep.Snapshots))
	seen := make(map[string]bool, len(rep.Snapshots))
	for _, sn := range rep.Snapshots {
		if seen[sn.ID] {
			return fmt.Errorf("%w: snapshot %s listed twice", ErrInvalidArgument, sn.ID)
		}
		seen[sn.ID] = true
		short := sn.ShortID
		if short == "" && len(sn.ID) >= 8 {
			short = sn.ID[:8]
		}
		rows = append(rows, Snapshot{
			RepositoryID: repoID, SnapshotID: sn.ID, HostID: hostID, ShortID: short, Time: sn.Time.UTC(),
			Hostname: sn.Hostname, Username: sn.Username, Paths: nonNil(sn.Paths), Tags: nonNil(sn.Tags),
			Parent: sn.Parent, Tree: sn.Tree, Summary: sn.Summary, ReportedAt: now,
		})
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := requireRepoOfHost(tx, hostID, repoID); err != nil {
			return err
		}
		if err := tx.Where("repository_id = ?", repoID).Delete(&Snapshot{}).Error; err != nil {
			return fmt.Errorf("store: clear snapshots: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		if err := tx.CreateInBatches(rows, 200).Error; err != nil {
			return fmt.Errorf("store: insert snapshots: %w", err)
		}
		return nil
	})
}

// Snapshots lists a repository's snapshots, newest first.
func (s *Store) Snapshots(ctx context.Context, hostID, repoID string) ([]Snapshot, error) {
	var out []Snapshot
	if err := s.db.WithContext(ctx).Where("host_id = ? AND repository_id = ?", hostID, repoID).Order("time DESC").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: snapshots: %w", err)
	}
	return out, nil
}

// AddRepoStats appends a sample to a repository's stats history.
func (s *Store) AddRepoStats(ctx context.Context, hostID, repoID string, st protocol.RepoStats) error {
	at := st.At.UTC()
	if at.IsZero() {
		at = s.now()
	}
	row := RepositoryStat{
		RepositoryID: repoID, HostID: hostID, At: at, TotalSize: st.TotalSize, TotalUncompressedSize: st.TotalUncompressed,
		TotalFileCount: st.TotalFileCount, TotalBlobCount: st.TotalBlobCount, SnapshotsCount: st.SnapshotsCount,
		CompressionRatio: st.CompressionRatio, Locked: st.Locked, LockDescription: st.LockDescription,
		RestoreSize: st.RestoreSize, RestoreSizeFileCount: st.RestoreSizeFileCount,
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := requireRepoOfHost(tx, hostID, repoID); err != nil {
			return err
		}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("store: repo stats: %w", err)
		}
		return nil
	})
}

// RepoStatsHistory returns a repository's samples since a time, oldest first.
func (s *Store) RepoStatsHistory(ctx context.Context, repoID string, since time.Time) ([]RepositoryStat, error) {
	var out []RepositoryStat
	if err := s.db.WithContext(ctx).Where("repository_id = ? AND at >= ?", repoID, since.UTC()).Order("at").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: repo stats history: %w", err)
	}
	return out, nil
}
