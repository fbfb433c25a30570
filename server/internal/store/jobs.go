package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// RunRequest asks for a job to run now on a host.
type RunRequest struct {
	Kind         string
	RepositoryID string
	ScheduleID   string // when run from a schedule's settings
	ActorType    string
	ActorID      string
	Paths        []string
	Excludes     []string
	Tags         []string
	Retention    *protocol.Retention
	Options      *protocol.JobOptions
	PreHook      string
	PostHook     string
}

// EnqueueRun creates a queued job and its command.run, atomically.
func (s *Store) EnqueueRun(ctx context.Context, hostID string, in RunRequest) (Job, Command, error) {
	now := s.now()
	var (
		job Job
		cmd Command
	)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var r Repository
		if err := tx.Where("id = ? AND host_id = ?", in.RepositoryID, hostID).Take(&r).Error; err != nil {
			return notFound(err)
		}
		wr, err := s.WireRepository(r)
		if err != nil {
			return err
		}
		spec := protocol.RunSpec{
			JobID: uuid.NewString(), Kind: in.Kind, ScheduleID: in.ScheduleID, Repository: wr,
			Paths: in.Paths, Excludes: in.Excludes, Tags: in.Tags, Retention: in.Retention, Options: in.Options,
			PreHook: in.PreHook, PostHook: in.PostHook,
		}
		job = newJob(hostID, spec, in.ActorType, in.ActorID, now)
		if err := tx.Create(&job).Error; err != nil {
			return fmt.Errorf("store: create job: %w", err)
		}
		cmd, err = insertCommand(tx, hostID, protocol.CommandRun, job.ID, protocol.Command{Run: &spec}, now)
		return err
	})
	return job, cmd, err
}

func newJob(hostID string, spec protocol.RunSpec, actorType, actorID string, now time.Time) Job {
	j := Job{
		ID: spec.JobID, HostID: hostID, Kind: spec.Kind, ActorType: actorType, ActorID: actorID,
		Status: protocol.JobQueued, CreatedAt: now, UpdatedAt: now, ScheduledFor: spec.ScheduledFor,
	}
	if spec.Repository.ID != "" {
		id := spec.Repository.ID
		j.RepositoryID = &id
	}
	if spec.ScheduleID != "" {
		id := spec.ScheduleID
		j.ScheduleID = &id
	}
	// The stored spec never holds secrets: the command carries them, sealed at rest in the
	// repository row and re-opened when the command is built.
	spec.Repository = protocol.Repository{ID: spec.Repository.ID, Name: spec.Repository.Name, URL: spec.Repository.URL}
	j.Spec = spec
	return j
}

// CancelJob asks for a job to stop. A queued job is cancelled at once; a running one
// gets cancel_requested and a command.cancel. It returns the job and the command, if any.
func (s *Store) CancelJob(ctx context.Context, hostID, jobID, reason string) (Job, *Command, error) {
	now := s.now()
	var (
		job Job
		cmd *Command
	)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("id = ? AND host_id = ?", jobID, hostID).Take(&job).Error; err != nil {
			return notFound(err)
		}
		if protocol.IsTerminal(job.Status) {
			return ErrJobFinished
		}
		updates := map[string]any{"cancel_requested_at": now, "updated_at": now}
		if job.Status == protocol.JobQueued {
			updates["status"] = protocol.JobCancelled
			updates["finished_at"] = now
			updates["error"] = "cancelled before it started: " + reason
		}
		if err := tx.Model(&Job{}).Where("id = ?", jobID).Updates(updates).Error; err != nil {
			return fmt.Errorf("store: cancel job: %w", err)
		}
		c, err := insertCommand(tx, hostID, protocol.CommandCancel, jobID, protocol.Command{Cancel: &protocol.CancelArg{Reason: reason}}, now)
		if err != nil {
			return err
		}
		cmd = &c
		return tx.Where("id = ?", jobID).Take(&job).Error
	})
	return job, cmd, err
}

// Job loads a job of a host.
func (s *Store) Job(ctx context.Context, hostID, id string) (Job, error) {
	var j Job
	if err := s.db.WithContext(ctx).Where("id = ? AND host_id = ?", id, hostID).Take(&j).Error; err != nil {
		return Job{}, notFound(err)
	}
	return j, nil
}

// JobState is the agent's view of a job.
func (j Job) State() protocol.JobState {
	return protocol.JobState{JobID: j.ID, Status: j.Status, CancelRequested: j.CancelRequestedAt != nil}
}

// StartJob claims a queued job for its host with a conditional update. A repeat by the
// same host is harmless; a finished or cancelled job answers ErrJobFinished.
func (s *Store) StartJob(ctx context.Context, hostID, id string, startedAt time.Time) (Job, error) {
	now := s.now()
	if startedAt.IsZero() || startedAt.After(now.Add(time.Minute)) {
		startedAt = now
	}
	res := s.db.WithContext(ctx).Model(&Job{}).
		Where("id = ? AND host_id = ? AND status = ?", id, hostID, protocol.JobQueued).
		Updates(map[string]any{"status": protocol.JobRunning, "started_at": startedAt.UTC(), "updated_at": now})
	if res.Error != nil {
		return Job{}, fmt.Errorf("store: start job: %w", res.Error)
	}
	j, err := s.Job(ctx, hostID, id)
	if err != nil {
		return Job{}, err
	}
	if protocol.IsTerminal(j.Status) {
		return j, ErrJobFinished
	}
	return j, nil
}

// SaveProgress keeps the latest progress of a job (ignored once the job finished).
func (s *Store) SaveProgress(ctx context.Context, hostID, id string, p protocol.Progress) (Job, error) {
	r, err := s.ingestOne(ctx, JobReport{HostID: hostID, JobID: id, Progress: &p})
	return r.Job, err
}

// Progress returns the latest progress of a job, ErrNotFound when none was reported.
func (s *Store) Progress(ctx context.Context, jobID string) (JobProgress, error) {
	var p JobProgress
	if err := s.db.WithContext(ctx).Where("job_id = ?", jobID).Take(&p).Error; err != nil {
		return JobProgress{}, notFound(err)
	}
	return p, nil
}

// AppendLogs stores log lines, ignoring (job, seq) pairs already stored. It returns how
// many lines were new.
func (s *Store) AppendLogs(ctx context.Context, hostID, id string, lines []protocol.LogLine) (Job, int, error) {
	r, err := s.ingestOne(ctx, JobReport{HostID: hostID, JobID: id, Lines: lines})
	return r.Job, r.Accepted, err
}

func (s *Store) ingestOne(ctx context.Context, r JobReport) (JobReportResult, error) {
	res, err := s.IngestReports(ctx, []JobReport{r})
	if err != nil {
		return JobReportResult{}, err
	}
	return res[0], res[0].Err
}

// Logs returns a job's lines with after < seq, in order, at most limit.
func (s *Store) Logs(ctx context.Context, jobID string, after int64, limit int) ([]JobLog, error) {
	var out []JobLog
	if err := s.db.WithContext(ctx).Where("job_id = ? AND seq > ?", jobID, after).Order("seq").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: logs: %w", err)
	}
	return out, nil
}

// FinishJob records the end of a job. The first finish wins; a repeat returns the
// recorded job without changing it.
func (s *Store) FinishJob(ctx context.Context, hostID, id string, f protocol.JobFinish) (Job, error) {
	now := s.now()
	finished := f.FinishedAt.UTC()
	if finished.IsZero() || finished.After(now.Add(time.Minute)) {
		finished = now
	}
	updates := map[string]any{
		"status": f.Status, "exit_code": f.ExitCode, "error": f.Error, "finished_at": finished,
		"log_lines_reported": f.LogLines, "updated_at": now,
	}
	if len(f.Summary) > 0 && json.Valid(f.Summary) {
		updates["summary"] = string(f.Summary)
	}
	q := s.db.WithContext(ctx).Model(&Job{}).Where("id = ? AND host_id = ? AND status IN ?", id, hostID,
		[]string{protocol.JobQueued, protocol.JobRunning})
	if f.StartedAt != nil {
		updates["started_at"] = gorm.Expr("COALESCE(started_at, ?)", f.StartedAt.UTC())
	}
	if res := q.Updates(updates); res.Error != nil {
		return Job{}, fmt.Errorf("store: finish job: %w", res.Error)
	}
	j, err := s.Job(ctx, hostID, id)
	if err != nil {
		return Job{}, err
	}
	return j, nil
}

// FireSchedule turns a cron tick into a job, idempotent on (schedule, scheduled_for).
// It returns the job, the command.run to run it and whether it was created now.
func (s *Store) FireSchedule(ctx context.Context, hostID, scheduleID string, fire protocol.ScheduleFire) (Job, protocol.Command, bool, error) {
	job, cmd, created, err := s.fireSchedule(ctx, hostID, scheduleID, fire)
	if errors.Is(err, errRaceLost) {
		// A concurrent fire of the same tick won: the retry finds its job.
		job, cmd, created, err = s.fireSchedule(ctx, hostID, scheduleID, fire)
	}
	if errors.Is(err, errRaceLost) {
		err = fmt.Errorf("%w: job id %s exists", ErrConflict, fire.JobID)
	}
	return job, cmd, created, err
}

var errRaceLost = errors.New("insert lost a race")

func (s *Store) fireSchedule(ctx context.Context, hostID, scheduleID string, fire protocol.ScheduleFire) (Job, protocol.Command, bool, error) {
	now := s.now()
	tick := fire.ScheduledFor.UTC().Truncate(time.Second)
	var (
		job     Job
		spec    protocol.RunSpec
		created bool
	)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var sc Schedule
		if err := tx.Where("id = ? AND host_id = ?", scheduleID, hostID).Take(&sc).Error; err != nil {
			return notFound(err)
		}
		var r Repository
		if err := tx.Where("id = ? AND host_id = ?", sc.RepositoryID, hostID).Take(&r).Error; err != nil {
			return notFound(err)
		}
		wr, err := s.WireRepository(r)
		if err != nil {
			return err
		}
		err = tx.Where("schedule_id = ? AND scheduled_for = ?", scheduleID, tick).Take(&job).Error
		if err == nil {
			spec = job.Spec
			spec.Repository = wr
			return nil
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return fmt.Errorf("store: fire lookup: %w", err)
		}
		spec = protocol.RunSpec{
			JobID: fire.JobID, Kind: sc.Kind, ScheduleID: sc.ID, Repository: wr, Paths: sc.Paths, Excludes: sc.Excludes,
			Tags: sc.Tags, Retention: sc.Retention, Options: sc.Options, PreHook: sc.PreHook, PostHook: sc.PostHook,
			ScheduledFor: &tick,
		}
		job = newJob(hostID, spec, ActorSchedule, sc.ID, now)
		job.RanOffline = fire.RanOffline
		if err := tx.Create(&job).Error; err != nil {
			if isUniqueViolation(err) {
				return errRaceLost
			}
			return fmt.Errorf("store: create fired job: %w", err)
		}
		created = true
		return nil
	})
	if err != nil {
		return Job{}, protocol.Command{}, false, err
	}
	cmd := protocol.Command{Type: protocol.CommandRun, JobID: job.ID, CreatedAt: job.CreatedAt, Run: &spec}
	return job, cmd, created, nil
}
