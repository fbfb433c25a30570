package store

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/restic-manager/restic-manager/migrations"
)

// Alert listing states.
const (
	AlertOpen     = "open"
	AlertResolved = "resolved"
)

// AlertFilter narrows an alert listing; zero fields match everything.
type AlertFilter struct {
	State     string // open, resolved or "" (both)
	HostID    string
	Condition string
	Severity  string
}

// ListAlerts lists alerts, most recently opened first.
func (s *Store) ListAlerts(ctx context.Context, f AlertFilter, page PageRequest) ([]Alert, string, error) {
	c, ok, err := decodeCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	q := s.db.WithContext(ctx).Model(&Alert{})
	switch f.State {
	case "":
	case AlertOpen:
		q = q.Where("resolved_at IS NULL")
	case AlertResolved:
		q = q.Where("resolved_at IS NOT NULL")
	default:
		return nil, "", fmt.Errorf("%w: state must be open or resolved", ErrInvalidArgument)
	}
	if f.HostID != "" {
		q = q.Where("host_id = ?", f.HostID)
	}
	if f.Condition != "" {
		q = q.Where("condition = ?", f.Condition)
	}
	if f.Severity != "" {
		q = q.Where("severity = ?", f.Severity)
	}
	if ok {
		t, err := cursorTime(c)
		if err != nil {
			return nil, "", err
		}
		q = q.Where("(opened_at, id) < (?, ?)", t, c.I)
	}
	limit := page.limit()
	var out []Alert
	if err := q.Order("opened_at DESC, id DESC").Limit(limit + 1).Find(&out).Error; err != nil {
		return nil, "", fmt.Errorf("store: list alerts: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = encodeCursor(timeKey(out[limit-1].OpenedAt), out[limit-1].ID)
	}
	return out, next, nil
}

// AlertByID loads an alert.
func (s *Store) AlertByID(ctx context.Context, id string) (Alert, error) {
	var a Alert
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&a).Error; err != nil {
		return Alert{}, notFound(err)
	}
	return a, nil
}

// OpenAlertsOf returns the open alerts of some hosts, by host.
func (s *Store) OpenAlertsOf(ctx context.Context, hostIDs []string) (map[string][]Alert, error) {
	out := map[string][]Alert{}
	for chunk := range slices.Chunk(hostIDs, 500) {
		var as []Alert
		if err := s.db.WithContext(ctx).Where("resolved_at IS NULL AND host_id IN ?", chunk).Order("opened_at, id").Find(&as).Error; err != nil {
			return nil, fmt.Errorf("store: open alerts: %w", err)
		}
		for _, a := range as {
			out[a.HostID] = append(out[a.HostID], a)
		}
	}
	return out, nil
}

// SetObjective sets an operator's override of a host's objective.
func (s *Store) SetObjective(ctx context.Context, hostID string, maxAge time.Duration, by string) (HostObjective, error) {
	if maxAge < time.Minute {
		return HostObjective{}, fmt.Errorf("%w: max_age_seconds must be at least 60", ErrInvalidArgument)
	}
	now := s.now()
	o := HostObjective{HostID: hostID, MaxAgeSeconds: int64(maxAge / time.Second), UpdatedBy: by, CreatedAt: now, UpdatedAt: now}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "host_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"max_age_seconds", "updated_by", "updated_at"})}).Create(&o).Error
	if err != nil {
		if isForeignKeyViolation(err) {
			return HostObjective{}, ErrNotFound
		}
		return HostObjective{}, fmt.Errorf("store: set objective: %w", err)
	}
	return s.Objective(ctx, hostID)
}

// Objective loads a host's override (ErrNotFound: none).
func (s *Store) Objective(ctx context.Context, hostID string) (HostObjective, error) {
	var o HostObjective
	if err := s.db.WithContext(ctx).Where("host_id = ?", hostID).Take(&o).Error; err != nil {
		return HostObjective{}, notFound(err)
	}
	return o, nil
}

// DeleteObjective removes a host's override: the objective is derived again.
func (s *Store) DeleteObjective(ctx context.Context, hostID string) error {
	res := s.db.WithContext(ctx).Where("host_id = ?", hostID).Delete(&HostObjective{})
	if res.Error != nil {
		return fmt.Errorf("store: delete objective: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// HostHealthRow is a host with its evaluated health.
type HostHealthRow struct {
	Host     Host
	Health   *HostHealth // nil: not evaluated yet
	Override *HostObjective
	Open     []Alert
}

// HostHealthFilter narrows the health listing.
type HostHealthFilter struct {
	State     string // one of ObjectiveStates; empty: all
	Condition string // hosts with an open alert of this condition
}

type hostHealthScan struct {
	Host
	HHState       *string
	HHSeconds     *int64
	HHSource      *string
	HHLastBackup  nullTime
	HHStateSince  nullTime
	HHUpdatedAt   nullTime
	OverrideSecs  *int64
	OverrideBy    *string
	OverrideSince nullTime
}

// ListHostHealth lists hosts that are not decommissioned with their health, by name.
func (s *Store) ListHostHealth(ctx context.Context, f HostHealthFilter, page PageRequest) ([]HostHealthRow, string, error) {
	c, ok, err := decodeCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	q := s.db.WithContext(ctx).Table("hosts").Select(`hosts.*, hh.objective_state AS hh_state, hh.objective_seconds AS hh_seconds,
		hh.objective_source AS hh_source, hh.last_backup_at AS hh_last_backup, hh.state_since AS hh_state_since, hh.updated_at AS hh_updated_at,
		o.max_age_seconds AS override_secs, o.updated_by AS override_by, o.updated_at AS override_since`).
		Joins("LEFT JOIN host_health hh ON hh.host_id = hosts.id").
		Joins("LEFT JOIN host_objectives o ON o.host_id = hosts.id").
		Where("hosts.decommissioned_at IS NULL")
	switch {
	case f.State == "":
	case f.State == ObjectiveUnknown:
		q = q.Where("hh.host_id IS NULL")
	case slices.Contains(ObjectiveStates, f.State):
		q = q.Where("hh.objective_state = ?", f.State)
	default:
		return nil, "", fmt.Errorf("%w: state must be one of %s", ErrInvalidArgument, strings.Join(ObjectiveStates, ", "))
	}
	if f.Condition != "" {
		q = q.Where("EXISTS (SELECT 1 FROM alerts a WHERE a.host_id = hosts.id AND a.condition = ? AND a.resolved_at IS NULL)", f.Condition)
	}
	return s.finishHostHealthPage(ctx, q, c, ok, page.limit())
}

func (s *Store) finishHostHealthPage(ctx context.Context, q *gorm.DB, c cursor, hasCursor bool, limit int) ([]HostHealthRow, string, error) {
	if hasCursor {
		q = q.Where("(hosts.name, hosts.id) > (?, ?)", c.V, c.I)
	}
	var rows []hostHealthScan
	if err := q.Order("hosts.name, hosts.id").Limit(limit + 1).Scan(&rows).Error; err != nil {
		return nil, "", fmt.Errorf("store: host health: %w", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = encodeCursor(rows[limit-1].Name, rows[limit-1].ID)
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	open, err := s.OpenAlertsOf(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	out := make([]HostHealthRow, len(rows))
	for i, r := range rows {
		out[i] = toHostHealthRow(r, open[r.ID])
	}
	return out, next, nil
}

func toHostHealthRow(r hostHealthScan, open []Alert) HostHealthRow {
	row := HostHealthRow{Host: r.Host, Open: open}
	if r.HHState != nil {
		row.Health = &HostHealth{HostID: r.ID, ObjectiveState: *r.HHState, LastBackupAt: r.HHLastBackup.ptr(),
			StateSince: r.HHStateSince.T, UpdatedAt: r.HHUpdatedAt.T}
		if r.HHSeconds != nil {
			row.Health.ObjectiveSeconds = *r.HHSeconds
		}
		if r.HHSource != nil {
			row.Health.ObjectiveSource = *r.HHSource
		}
	}
	if r.OverrideSecs != nil {
		row.Override = &HostObjective{HostID: r.ID, MaxAgeSeconds: *r.OverrideSecs, UpdatedAt: r.OverrideSince.T}
		if r.OverrideBy != nil {
			row.Override.UpdatedBy = *r.OverrideBy
		}
	}
	return row
}

// HostHealthOf loads one host (decommissioned or not) with its health.
func (s *Store) HostHealthOf(ctx context.Context, hostID string) (HostHealthRow, error) {
	var rows []hostHealthScan
	err := s.db.WithContext(ctx).Table("hosts").Select(`hosts.*, hh.objective_state AS hh_state, hh.objective_seconds AS hh_seconds,
		hh.objective_source AS hh_source, hh.last_backup_at AS hh_last_backup, hh.state_since AS hh_state_since, hh.updated_at AS hh_updated_at,
		o.max_age_seconds AS override_secs, o.updated_by AS override_by, o.updated_at AS override_since`).
		Joins("LEFT JOIN host_health hh ON hh.host_id = hosts.id").
		Joins("LEFT JOIN host_objectives o ON o.host_id = hosts.id").
		Where("hosts.id = ?", hostID).Scan(&rows).Error
	if err != nil {
		return HostHealthRow{}, fmt.Errorf("store: host health: %w", err)
	}
	if len(rows) == 0 {
		return HostHealthRow{}, ErrNotFound
	}
	open, err := s.OpenAlertsOf(ctx, []string{hostID})
	if err != nil {
		return HostHealthRow{}, err
	}
	return toHostHealthRow(rows[0], open[hostID]), nil
}

// HealthSummary counts hosts by objective state and open alerts by condition and severity.
type HealthSummary struct {
	States     map[string]int64            // objective state → hosts (not decommissioned)
	OpenAlerts map[string]map[string]int64 // condition → severity → open alerts
	LastRound  time.Time
}

// HealthSummary summarises the fleet's health.
func (s *Store) HealthSummary(ctx context.Context) (HealthSummary, error) {
	out := HealthSummary{States: map[string]int64{}, OpenAlerts: map[string]map[string]int64{}}
	for _, st := range ObjectiveStates {
		out.States[st] = 0
	}
	var states []struct {
		State string
		N     int64
	}
	err := s.db.WithContext(ctx).Raw(`SELECT COALESCE(hh.objective_state, '` + ObjectiveUnknown + `') AS state, COUNT(*) AS n FROM hosts h
		LEFT JOIN host_health hh ON hh.host_id = h.id WHERE h.decommissioned_at IS NULL GROUP BY 1`).Scan(&states).Error
	if err != nil {
		return HealthSummary{}, fmt.Errorf("store: health summary: %w", err)
	}
	for _, r := range states {
		out.States[r.State] = r.N
	}
	counts, err := s.OpenAlertCounts(ctx)
	if err != nil {
		return HealthSummary{}, err
	}
	out.OpenAlerts = counts
	out.LastRound, err = s.LastHealthRound(ctx)
	return out, err
}

// OpenAlertCounts counts open alerts by condition and severity.
func (s *Store) OpenAlertCounts(ctx context.Context) (map[string]map[string]int64, error) {
	var rows []struct {
		Condition string
		Severity  string
		N         int64
	}
	err := s.db.WithContext(ctx).Raw(`SELECT condition, severity, COUNT(*) AS n FROM alerts WHERE resolved_at IS NULL GROUP BY condition, severity`).
		Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: open alert counts: %w", err)
	}
	out := map[string]map[string]int64{}
	for _, c := range Conditions {
		out[c] = map[string]int64{}
	}
	for _, r := range rows {
		if out[r.Condition] == nil {
			out[r.Condition] = map[string]int64{}
		}
		out[r.Condition][r.Severity] = r.N
	}
	return out, nil
}

// SchemaVersion returns the highest migration applied to the database.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	var v *int64
	if err := s.db.WithContext(ctx).Raw("SELECT MAX(version_id) FROM goose_db_version WHERE is_applied = ?", true).Scan(&v).Error; err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}

// LatestSchemaVersion returns the highest migration this binary embeds for the store's
// dialect: a database below it has migrations pending.
func (s *Store) LatestSchemaVersion() (int64, error) {
	fsys, dir := fs.FS(migrations.Postgres), "postgres"
	if s.dialect == DialectSQLite {
		fsys, dir = migrations.SQLite, "sqlite"
	}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return 0, fmt.Errorf("store: migrations: %w", err)
	}
	var latest int64
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		if !ok || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		if v, err := strconv.ParseInt(num, 10, 64); err == nil && v > latest {
			latest = v
		}
	}
	return latest, nil
}

// HostNames returns the display names of some hosts, by id.
func (s *Store) HostNames(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for chunk := range slices.Chunk(ids, 500) {
		var hs []Host
		if err := s.db.WithContext(ctx).Select("id", "name").Where("id IN ?", chunk).Find(&hs).Error; err != nil {
			return nil, fmt.Errorf("store: host names: %w", err)
		}
		for _, h := range hs {
			out[h.ID] = h.Name
		}
	}
	return out, nil
}
