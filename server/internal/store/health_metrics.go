package store

import (
	"context"
	"fmt"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// FleetMetrics is the fleet-wide state exported as Prometheus metrics. Every replica
// reads the same values from the database.
type FleetMetrics struct {
	Hosts          []HostMetric
	Repositories   []RepositoryMetric
	HostCounts     HostCounts
	CommandsQueued int64
	// ActiveJobs counts queued and running jobs by kind and status.
	ActiveJobs map[[2]string]int64
	OpenAlerts map[string]map[string]int64
}

// HostMetric is one host's series.
type HostMetric struct {
	ID               string
	Name             string
	LastBackupAt     *time.Time
	ObjectiveSeconds int64
	ObjectiveState   string // unknown before the first evaluation
	Online           bool
}

// RepositoryMetric is one repository's latest stats sample.
type RepositoryMetric struct {
	ID             string
	Name           string
	HostID         string
	HostName       string
	TotalSize      int64
	RestoreSize    int64
	SnapshotsCount int64
	Locked         bool
	At             time.Time
}

// FleetMetrics reads the fleet's metrics with a handful of statements whatever its size.
func (s *Store) FleetMetrics(ctx context.Context, onlineSince time.Time) (FleetMetrics, error) {
	db := s.db.WithContext(ctx)
	var out FleetMetrics
	var hosts []struct {
		ID           string
		Name         string
		LastSeenAt   nullTime
		LastBackupAt nullTime
		State        *string
		Seconds      *int64
	}
	err := db.Raw(`SELECT h.id, h.name, h.last_seen_at,
		  (SELECT MAX(j.finished_at) FROM jobs j WHERE j.host_id = h.id AND j.kind = 'backup'
		      AND j.finished_at IS NOT NULL AND j.status IN ('succeeded', 'warning')) AS last_backup_at,
		  hh.objective_state AS state, hh.objective_seconds AS seconds
		FROM hosts h LEFT JOIN host_health hh ON hh.host_id = h.id
		WHERE h.decommissioned_at IS NULL ORDER BY h.id`).Scan(&hosts).Error
	if err != nil {
		return FleetMetrics{}, fmt.Errorf("store: host metrics: %w", err)
	}
	out.Hosts = make([]HostMetric, len(hosts))
	for i, h := range hosts {
		m := HostMetric{ID: h.ID, Name: h.Name, LastBackupAt: h.LastBackupAt.ptr(), ObjectiveState: ObjectiveUnknown,
			Online: h.LastSeenAt.Valid && !h.LastSeenAt.T.Before(onlineSince)}
		if h.State != nil {
			m.ObjectiveState = *h.State
		}
		if h.Seconds != nil {
			m.ObjectiveSeconds = *h.Seconds
		}
		out.Hosts[i] = m
	}
	var repos []struct {
		ID             string
		Name           string
		HostID         string
		HostName       string
		TotalSize      int64
		RestoreSize    int64
		SnapshotsCount int64
		Locked         bool
		At             nullTime
	}
	err = db.Raw(`SELECT r.id, r.name, r.host_id, h.name AS host_name, s.total_size, s.restore_size, s.snapshots_count, s.locked, s.at
		FROM repositories r JOIN hosts h ON h.id = r.host_id
		JOIN repository_stats s ON s.id = (SELECT s2.id FROM repository_stats s2 WHERE s2.repository_id = r.id ORDER BY s2.at DESC, s2.id DESC LIMIT 1)
		WHERE h.decommissioned_at IS NULL ORDER BY r.id`).Scan(&repos).Error
	if err != nil {
		return FleetMetrics{}, fmt.Errorf("store: repository metrics: %w", err)
	}
	out.Repositories = make([]RepositoryMetric, len(repos))
	for i, r := range repos {
		out.Repositories[i] = RepositoryMetric{ID: r.ID, Name: r.Name, HostID: r.HostID, HostName: r.HostName, TotalSize: r.TotalSize,
			RestoreSize: r.RestoreSize, SnapshotsCount: r.SnapshotsCount, Locked: r.Locked, At: r.At.T}
	}
	if out.HostCounts, err = s.CountHosts(ctx, onlineSince); err != nil {
		return FleetMetrics{}, err
	}
	if err := db.Raw(`SELECT COUNT(*) FROM commands c JOIN hosts h ON h.id = c.host_id
		WHERE c.acked_at IS NULL AND h.decommissioned_at IS NULL`).Scan(&out.CommandsQueued).Error; err != nil {
		return FleetMetrics{}, fmt.Errorf("store: queued commands: %w", err)
	}
	var active []struct {
		Kind   string
		Status string
		N      int64
	}
	if err := db.Raw(`SELECT kind, status, COUNT(*) AS n FROM jobs WHERE status IN ? GROUP BY kind, status`,
		[]string{protocol.JobQueued, protocol.JobRunning}).Scan(&active).Error; err != nil {
		return FleetMetrics{}, fmt.Errorf("store: active jobs: %w", err)
	}
	out.ActiveJobs = map[[2]string]int64{}
	for _, a := range active {
		out.ActiveJobs[[2]string{a.Kind, a.Status}] = a.N
	}
	if out.OpenAlerts, err = s.OpenAlertCounts(ctx); err != nil {
		return FleetMetrics{}, err
	}
	return out, nil
}
