package store

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// healthLockKey is the PostgreSQL advisory lock that lets one replica at a time run an
// evaluation round ("rmhealth"). It saves work; correctness does not depend on it: the
// unique index on open alerts and the unique delivery key guard against doubles.
const healthLockKey int64 = 0x726d6865616c7468

// How far back each round re-reads changed jobs, to catch a job whose finish committed
// after the previous round read past its timestamp. Deliveries are unique per event, so
// re-reading is harmless; metrics count only jobs past the watermark.
const (
	jobScanOverlap = 30 * time.Second
	jobScanLimit   = 20000
)

// HostFacts is what the evaluator knows of one host at the start of a round.
type HostFacts struct {
	Host            EventHost
	ResticVersion   string
	LastSeenAt      *time.Time
	CreatedAt       time.Time
	OverrideSeconds int64 // 0: no override
	OverrideAt      *time.Time
	LastBackupAt    *time.Time // last successful (or warning) backup
	LastCheckStatus string     // of the last check that finished (not cancelled); "" when none
	LockedRepos     int        // repositories whose latest stats sample says locked
	Schedules       []BackupSchedule
	Prev            *HostHealth // as last written; nil before the first evaluation
}

// BackupSchedule is an enabled, non-manual backup schedule of a host.
type BackupSchedule struct {
	ID        string
	Cron      string
	Timezone  string
	CreatedAt time.Time
}

// OpenAlert is an open alert with its host.
type OpenAlert struct {
	Alert
	Host EventHost
}

// JobChange is a job that started or finished since the previous round.
type JobChange struct {
	EventJob
	Host      EventHost
	UpdatedAt time.Time
	// Fresh: past the watermark, seen by no earlier round (metrics count only these).
	Fresh bool
}

// HealthRound is the input of one evaluation.
type HealthRound struct {
	Now        time.Time
	Hosts      []HostFacts
	OpenAlerts []OpenAlert
}

// AlertChange opens (HostID, Condition), escalates (ID, Severity) or resolves (ID) an alert.
type AlertChange struct {
	ID         string
	HostID     string
	Condition  string
	Severity   string
	Message    string
	Details    map[string]any
	Resolution string
}

// HealthPlan is what an evaluation decided.
type HealthPlan struct {
	Health   []HostHealth // the state of every host; only changed rows are written
	Open     []AlertChange
	Escalate []AlertChange
	Resolve  []AlertChange
}

// HealthOutcome is what a round changed.
type HealthOutcome struct {
	Skipped       bool // another replica holds the evaluation lock
	Hosts         int
	HealthWritten int
	Opened        []Alert
	Escalated     []Alert
	Resolved      []Alert
	Deliveries    int // notifications queued
	Jobs          []JobChange
}

// RunHealthRound runs one evaluation in one transaction: it loads every host's facts and
// the open alerts with a constant number of queries, lets plan decide, writes changed
// states, opens, escalates and resolves alerts, and queues the notifications that the
// rules route — for alert events, for jobs that finished since the previous round and
// for schedule pings. On PostgreSQL a round that finds another replica's round running
// is skipped.
func (s *Store) RunHealthRound(ctx context.Context, now time.Time, plan func(HealthRound) HealthPlan) (HealthOutcome, error) {
	now = now.UTC()
	var out HealthOutcome
	err := s.tx(ctx, func(tx *gorm.DB) error {
		out = HealthOutcome{}
		if s.dialect == DialectPostgres {
			var got bool
			if err := tx.Raw("SELECT pg_try_advisory_xact_lock(?)", healthLockKey).Scan(&got).Error; err != nil {
				return fmt.Errorf("store: health lock: %w", err)
			}
			if !got {
				out.Skipped = true
				return nil
			}
		}
		hosts, err := loadHostFacts(tx)
		if err != nil {
			return err
		}
		open, err := loadOpenAlerts(tx)
		if err != nil {
			return err
		}
		jobs, watermark, err := scanJobChanges(tx, now)
		if err != nil {
			return err
		}
		out.Hosts = len(hosts)
		p := plan(HealthRound{Now: now, Hosts: hosts, OpenAlerts: open})

		if out.HealthWritten, err = writeHealth(tx, hosts, p.Health); err != nil {
			return err
		}
		hostOf := make(map[string]EventHost, len(hosts))
		for _, h := range hosts {
			hostOf[h.Host.ID] = h.Host
		}
		openByID := make(map[string]OpenAlert, len(open))
		for _, a := range open {
			openByID[a.ID] = a
			if _, ok := hostOf[a.HostID]; !ok {
				hostOf[a.HostID] = a.Host
			}
		}
		var events []NotificationEvent
		if out.Opened, err = openAlerts(tx, now, p.Open); err != nil {
			return err
		}
		for _, a := range out.Opened {
			events = append(events, eventOfAlert(EventAlertOpened, now, hostOf[a.HostID], a))
		}
		if out.Escalated, err = escalateAlerts(tx, now, p.Escalate, openByID); err != nil {
			return err
		}
		for _, a := range out.Escalated {
			events = append(events, eventOfAlert(EventAlertEscalated, now, hostOf[a.HostID], a))
		}
		if out.Resolved, err = resolveAlerts(tx, now, p.Resolve, openByID); err != nil {
			return err
		}
		for _, a := range out.Resolved {
			events = append(events, eventOfAlert(EventAlertResolved, now, hostOf[a.HostID], a))
		}
		for _, j := range jobs {
			if j.Fresh {
				out.Jobs = append(out.Jobs, j)
			}
			if typ := jobEventType(j.Status); typ != "" {
				h, job := j.Host, j.EventJob
				events = append(events, NotificationEvent{Type: typ, At: j.UpdatedAt, Host: &h, Job: &job})
			}
		}
		n, err := s.enqueueEvents(tx, now, events)
		if err != nil {
			return err
		}
		out.Deliveries += n
		if n, err = enqueuePings(tx, now, jobs); err != nil {
			return err
		}
		out.Deliveries += n
		return setMeta(tx, map[string]time.Time{metaRound: now, metaJobs: watermark})
	})
	return out, err
}

func jobEventType(status string) string {
	switch status {
	case protocol.JobSucceeded:
		return EventJobSucceeded
	case protocol.JobWarning:
		return EventJobWarning
	case protocol.JobFailed:
		return EventJobFailed
	}
	return ""
}

type hostFactRow struct {
	ID               string
	Name             string
	Hostname         string
	Labels           jsonText
	ResticVersion    string
	LastSeenAt       nullTime
	CreatedAt        nullTime
	OverrideSeconds  *int64
	OverrideAt       nullTime
	LastBackupAt     nullTime
	LastCheckStatus  *string
	LockedRepos      int64
	PrevState        *string
	PrevSeconds      *int64
	PrevSource       *string
	PrevLastBackupAt nullTime
	PrevStateSince   nullTime
	PrevUpdatedAt    nullTime
}

// hostFactsSQL reads every host that is not decommissioned with correlated subqueries
// that each probe one index (jobs_host_kind_finished_idx, repository_stats_repo_at_idx):
// one statement for the whole fleet, in both dialects.
const hostFactsSQL = `
SELECT h.id, h.name, h.hostname, h.labels, h.restic_version, h.last_seen_at, h.created_at,
  o.max_age_seconds AS override_seconds, o.updated_at AS override_at,
  (SELECT MAX(j.finished_at) FROM jobs j WHERE j.host_id = h.id AND j.kind = 'backup'
      AND j.finished_at IS NOT NULL AND j.status IN ('succeeded', 'warning')) AS last_backup_at,
  (SELECT j.status FROM jobs j WHERE j.host_id = h.id AND j.kind = 'check'
      AND j.finished_at IS NOT NULL AND j.status IN ('succeeded', 'warning', 'failed')
      ORDER BY j.finished_at DESC LIMIT 1) AS last_check_status,
  (SELECT COUNT(*) FROM repositories r WHERE r.host_id = h.id AND (SELECT s.locked FROM repository_stats s
      WHERE s.repository_id = r.id ORDER BY s.at DESC LIMIT 1) = ?) AS locked_repos,
  hh.objective_state AS prev_state, hh.objective_seconds AS prev_seconds, hh.objective_source AS prev_source,
  hh.last_backup_at AS prev_last_backup_at, hh.state_since AS prev_state_since, hh.updated_at AS prev_updated_at
FROM hosts h
LEFT JOIN host_objectives o ON o.host_id = h.id
LEFT JOIN host_health hh ON hh.host_id = h.id
WHERE h.decommissioned_at IS NULL
ORDER BY h.id`

func loadHostFacts(tx *gorm.DB) ([]HostFacts, error) {
	// Scanned by hand: GORM's reflection costs more than the query at 10,000 rows.
	rs, err := tx.Raw(hostFactsSQL, true).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: host facts: %w", err)
	}
	var rows []hostFactRow
	for rs.Next() {
		var r hostFactRow
		if err := rs.Scan(&r.ID, &r.Name, &r.Hostname, &r.Labels, &r.ResticVersion, &r.LastSeenAt, &r.CreatedAt, &r.OverrideSeconds,
			&r.OverrideAt, &r.LastBackupAt, &r.LastCheckStatus, &r.LockedRepos, &r.PrevState, &r.PrevSeconds, &r.PrevSource,
			&r.PrevLastBackupAt, &r.PrevStateSince, &r.PrevUpdatedAt); err != nil {
			_ = rs.Close()
			return nil, fmt.Errorf("store: host facts: %w", err)
		}
		rows = append(rows, r)
	}
	if err := rs.Close(); err != nil {
		return nil, fmt.Errorf("store: host facts: %w", err)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store: host facts: %w", err)
	}
	srs, err := tx.Raw(`SELECT s.host_id, s.id, s.cron, s.timezone, s.created_at FROM schedules s
		JOIN hosts h ON h.id = s.host_id
		WHERE h.decommissioned_at IS NULL AND s.kind = ? AND s.enabled = ? AND s.manual = ?
		ORDER BY s.host_id, s.id`, protocol.KindBackup, true, false).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: backup schedules: %w", err)
	}
	byHost := map[string][]BackupSchedule{}
	for srs.Next() {
		var (
			hostID  string
			sc      BackupSchedule
			created nullTime
		)
		if err := srs.Scan(&hostID, &sc.ID, &sc.Cron, &sc.Timezone, &created); err != nil {
			_ = srs.Close()
			return nil, fmt.Errorf("store: backup schedules: %w", err)
		}
		sc.CreatedAt = created.T
		byHost[hostID] = append(byHost[hostID], sc)
	}
	if err := srs.Close(); err != nil {
		return nil, fmt.Errorf("store: backup schedules: %w", err)
	}
	if err := srs.Err(); err != nil {
		return nil, fmt.Errorf("store: backup schedules: %w", err)
	}
	out := make([]HostFacts, len(rows))
	for i, r := range rows {
		f := HostFacts{
			Host:          EventHost{ID: r.ID, Name: r.Name, Hostname: r.Hostname, Labels: r.Labels.labels()},
			ResticVersion: r.ResticVersion, LastSeenAt: r.LastSeenAt.ptr(), CreatedAt: r.CreatedAt.T,
			OverrideAt: r.OverrideAt.ptr(), LastBackupAt: r.LastBackupAt.ptr(),
			LockedRepos: int(r.LockedRepos), Schedules: byHost[r.ID],
		}
		if r.OverrideSeconds != nil {
			f.OverrideSeconds = *r.OverrideSeconds
		}
		if r.LastCheckStatus != nil {
			f.LastCheckStatus = *r.LastCheckStatus
		}
		if r.PrevState != nil {
			f.Prev = &HostHealth{HostID: r.ID, ObjectiveState: *r.PrevState, LastBackupAt: r.PrevLastBackupAt.ptr(),
				StateSince: r.PrevStateSince.T, UpdatedAt: r.PrevUpdatedAt.T}
			if r.PrevSeconds != nil {
				f.Prev.ObjectiveSeconds = *r.PrevSeconds
			}
			if r.PrevSource != nil {
				f.Prev.ObjectiveSource = *r.PrevSource
			}
		}
		out[i] = f
	}
	return out, nil
}

type openAlertRow struct {
	Alert
	HostName     string
	HostHostname string
	HostLabels   jsonText
}

func loadOpenAlerts(tx *gorm.DB) ([]OpenAlert, error) {
	var rows []openAlertRow
	err := tx.Table("alerts a").Select("a.*, h.name AS host_name, h.hostname AS host_hostname, h.labels AS host_labels").
		Joins("JOIN hosts h ON h.id = a.host_id").Where("a.resolved_at IS NULL").Order("a.id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: open alerts: %w", err)
	}
	out := make([]OpenAlert, len(rows))
	for i, r := range rows {
		out[i] = OpenAlert{Alert: r.Alert, Host: EventHost{ID: r.HostID, Name: r.HostName, Hostname: r.HostHostname, Labels: r.HostLabels.labels()}}
	}
	return out, nil
}

type jobChangeRow struct {
	ID             string
	HostID         string
	Kind           string
	Status         string
	Error          string
	ExitCode       *int
	ScheduleID     *string
	RepositoryID   *string
	RepositoryName *string
	StartedAt      nullTime
	FinishedAt     nullTime
	UpdatedAt      nullTime
	HostName       string
	HostHostname   string
	HostLabels     jsonText
}

// scanJobChanges reads the jobs that started or finished since the previous round's
// watermark (minus the overlap) and returns them with the new watermark.
func scanJobChanges(tx *gorm.DB, now time.Time) ([]JobChange, time.Time, error) {
	var meta HealthMeta
	err := tx.Where("name = ?", metaJobs).Take(&meta).Error
	if err != nil {
		if notFound(err) != ErrNotFound {
			return nil, time.Time{}, fmt.Errorf("store: job watermark: %w", err)
		}
		// The first round starts from now: no notifications for old jobs.
		meta.At = now
	}
	watermark := meta.At.UTC()
	var rows []jobChangeRow
	err = tx.Raw(`SELECT j.id, j.host_id, j.kind, j.status, j.error, j.exit_code, j.schedule_id, j.repository_id,
			r.name AS repository_name, j.started_at, j.finished_at, j.updated_at,
			h.name AS host_name, h.hostname AS host_hostname, h.labels AS host_labels
		FROM jobs j JOIN hosts h ON h.id = j.host_id LEFT JOIN repositories r ON r.id = j.repository_id
		WHERE j.updated_at > ? AND j.status IN ?
		ORDER BY j.updated_at, j.id LIMIT ?`, watermark.Add(-jobScanOverlap),
		[]string{protocol.JobRunning, protocol.JobSucceeded, protocol.JobWarning, protocol.JobFailed}, jobScanLimit).Scan(&rows).Error
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("store: job changes: %w", err)
	}
	out := make([]JobChange, 0, len(rows))
	next := watermark
	for _, r := range rows {
		j := JobChange{
			EventJob: EventJob{ID: r.ID, Kind: r.Kind, Status: r.Status, Error: r.Error, ExitCode: r.ExitCode,
				StartedAt: r.StartedAt.ptr(), FinishedAt: r.FinishedAt.ptr()},
			Host:      EventHost{ID: r.HostID, Name: r.HostName, Hostname: r.HostHostname, Labels: r.HostLabels.labels()},
			UpdatedAt: r.UpdatedAt.T, Fresh: r.UpdatedAt.T.After(watermark),
		}
		if r.ScheduleID != nil {
			j.ScheduleID = *r.ScheduleID
		}
		if r.RepositoryID != nil {
			j.RepositoryID = *r.RepositoryID
		}
		if r.RepositoryName != nil {
			j.RepositoryName = *r.RepositoryName
		}
		if j.StartedAt != nil && j.FinishedAt != nil && !j.FinishedAt.Before(*j.StartedAt) {
			j.DurationSeconds = j.FinishedAt.Sub(*j.StartedAt).Seconds()
		}
		if r.UpdatedAt.T.After(next) {
			next = r.UpdatedAt.T
		}
		out = append(out, j)
	}
	return out, next, nil
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

// writeHealth upserts the rows whose state differs from what was stored.
func writeHealth(tx *gorm.DB, hosts []HostFacts, rows []HostHealth) (int, error) {
	prev := make(map[string]*HostHealth, len(hosts))
	for _, h := range hosts {
		prev[h.Host.ID] = h.Prev
	}
	changed := make([]HostHealth, 0)
	for _, r := range rows {
		p, known := prev[r.HostID]
		if !known {
			continue
		}
		if p != nil && p.ObjectiveState == r.ObjectiveState && p.ObjectiveSeconds == r.ObjectiveSeconds &&
			p.ObjectiveSource == r.ObjectiveSource && sameTime(p.LastBackupAt, r.LastBackupAt) {
			continue
		}
		if p != nil && p.ObjectiveState == r.ObjectiveState {
			r.StateSince = p.StateSince
		}
		if r.LastBackupAt != nil {
			t := r.LastBackupAt.UTC()
			r.LastBackupAt = &t
		}
		r.StateSince, r.UpdatedAt = r.StateSince.UTC(), r.UpdatedAt.UTC()
		changed = append(changed, r)
	}
	if len(changed) == 0 {
		return 0, nil
	}
	err := tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "host_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"objective_state", "objective_seconds", "objective_source", "last_backup_at", "state_since", "updated_at"}),
	}).CreateInBatches(changed, 500).Error
	if err != nil {
		return 0, fmt.Errorf("store: write host health: %w", err)
	}
	return len(changed), nil
}

// openAlerts inserts new alerts; an alert already open for the same host and condition
// (opened by another replica meanwhile) is skipped by the unique index. It returns the
// alerts this round opened.
func openAlerts(tx *gorm.DB, now time.Time, changes []AlertChange) ([]Alert, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	sort.Slice(changes, func(i, j int) bool {
		if changes[i].HostID != changes[j].HostID {
			return changes[i].HostID < changes[j].HostID
		}
		return changes[i].Condition < changes[j].Condition
	})
	var opened []Alert
	for chunk := range slices.Chunk(changes, 500) {
		rows := make([]Alert, len(chunk))
		ids := make([]string, len(chunk))
		for i, c := range chunk {
			rows[i] = Alert{ID: uuid.NewString(), HostID: c.HostID, Condition: c.Condition, Severity: c.Severity, Message: c.Message,
				Details: c.Details, OpenedAt: now, UpdatedAt: now}
			ids[i] = rows[i].ID
		}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error; err != nil {
			return nil, fmt.Errorf("store: open alerts: %w", err)
		}
		var got []Alert
		if err := tx.Where("id IN ?", ids).Order("host_id, condition").Find(&got).Error; err != nil {
			return nil, fmt.Errorf("store: opened alerts: %w", err)
		}
		opened = append(opened, got...)
	}
	return opened, nil
}

func escalateAlerts(tx *gorm.DB, now time.Time, changes []AlertChange, open map[string]OpenAlert) ([]Alert, error) {
	var out []Alert
	for _, c := range changes {
		cur, ok := open[c.ID]
		if !ok || SeverityRank(c.Severity) <= SeverityRank(cur.Severity) {
			continue
		}
		res := tx.Model(&Alert{}).Where("id = ? AND resolved_at IS NULL AND severity = ?", c.ID, cur.Severity).
			Updates(map[string]any{"severity": c.Severity, "message": c.Message, "details": jsonValue(c.Details), "updated_at": now})
		if res.Error != nil {
			return nil, fmt.Errorf("store: escalate alert: %w", res.Error)
		}
		if res.RowsAffected == 1 {
			a := cur.Alert
			a.Severity, a.Message, a.Details, a.UpdatedAt = c.Severity, c.Message, c.Details, now
			out = append(out, a)
		}
	}
	return out, nil
}

func resolveAlerts(tx *gorm.DB, now time.Time, changes []AlertChange, open map[string]OpenAlert) ([]Alert, error) {
	byReason := map[string][]string{}
	for _, c := range changes {
		if _, ok := open[c.ID]; ok {
			byReason[c.Resolution] = append(byReason[c.Resolution], c.ID)
		}
	}
	reasons := make([]string, 0, len(byReason))
	for r := range byReason {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	var out []Alert
	for _, reason := range reasons {
		ids := byReason[reason]
		sort.Strings(ids)
		for chunk := range slices.Chunk(ids, 500) {
			var done []string
			err := tx.Raw(`UPDATE alerts SET resolved_at = ?, resolution = ?, updated_at = ? WHERE id IN ? AND resolved_at IS NULL RETURNING id`,
				now, reason, now, chunk).Scan(&done).Error
			if err != nil {
				return nil, fmt.Errorf("store: resolve alerts: %w", err)
			}
			sort.Strings(done)
			for _, id := range done {
				a := open[id].Alert
				t := now
				a.ResolvedAt, a.Resolution, a.UpdatedAt = &t, reason, now
				out = append(out, a)
			}
		}
	}
	return out, nil
}

func setMeta(tx *gorm.DB, marks map[string]time.Time) error {
	rows := make([]HealthMeta, 0, len(marks))
	for name, at := range marks {
		rows = append(rows, HealthMeta{Name: name, At: at.UTC()})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "name"}}, DoUpdates: clause.AssignmentColumns([]string{"at"})}).
		Create(&rows).Error
	if err != nil {
		return fmt.Errorf("store: health marks: %w", err)
	}
	return nil
}

// LastHealthRound returns when the last evaluation round ran (zero: never).
func (s *Store) LastHealthRound(ctx context.Context) (time.Time, error) {
	var m HealthMeta
	if err := s.db.WithContext(ctx).Where("name = ?", metaRound).Take(&m).Error; err != nil {
		if notFound(err) == ErrNotFound {
			return time.Time{}, nil
		}
		return time.Time{}, fmt.Errorf("store: last health round: %w", err)
	}
	return m.At, nil
}
