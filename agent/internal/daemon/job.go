package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/restic-manager/restic-manager/agent/internal/client"
	"github.com/restic-manager/restic-manager/agent/internal/hooks"
	"github.com/restic-manager/restic-manager/agent/internal/restic"
	"github.com/restic-manager/restic-manager/agent/internal/state"
	"github.com/restic-manager/restic-manager/common/protocol"
)

// runJob runs one job from start to finish report, then its follow-ups.
func (d *Daemon) runJob(j *job) {
	spec := j.spec
	log := d.log.With("job_id", spec.JobID, "kind", spec.Kind, "repository", spec.Repository.Name)
	if j.ctx.Err() != nil {
		d.finishUnstarted(j, protocol.JobCancelled, j.cancelCause())
		return
	}

	startedAt := time.Now().UTC()
	st, err := d.reportStart(j, startedAt)
	switch {
	case client.IsJobFinished(err):
		log.Info("job already finished or cancelled on the server; not running it")
		d.dropMarker(spec.JobID)
		return
	case client.HasStatus(err, 404):
		log.Warn("server does not know this job; not running it")
		d.dropMarker(spec.JobID)
		return
	case err != nil:
		log.Warn("job start not confirmed; running it anyway", "error", err)
	}
	j.mu.Lock()
	j.startedAt = &startedAt
	j.mu.Unlock()
	if err := d.putMarker(j, state.MarkerRunning); err != nil {
		log.Warn("cannot write job marker", "error", err)
	}
	d.status.kick()

	ev := d.newJobEvents(j)
	if st.CancelRequested {
		j.cancel(errors.New("cancel requested by the server"))
	}
	log.Info("job started", "offline", j.offline)
	res := d.execute(j, ev)
	ev.close()

	finishedAt := time.Now().UTC()
	fin := protocol.JobFinish{
		Status: res.Status, ExitCode: res.ExitCode, Error: res.Error, Summary: res.Summary,
		StartedAt: &startedAt, FinishedAt: finishedAt, LogLines: ev.total(),
	}
	if _, err := d.reportFinish(j, fin); err != nil {
		log.Warn("job finish not accepted", "error", err)
	}
	d.dropMarker(spec.JobID)
	log.Info("job finished", "status", res.Status, "exit_code", res.ExitCode, "error", res.Error,
		"took", finishedAt.Sub(startedAt).Round(time.Second))

	if followUpAfter(spec.Kind) && (res.Status == protocol.JobSucceeded || res.Status == protocol.JobWarning) {
		d.followUps(j)
	}
}

// execute runs pre-hook, restic and post-hook and decides the job's outcome.
func (d *Daemon) execute(j *job, ev *jobEvents) restic.Result {
	spec := j.spec
	preOK := true
	var res restic.Result
	if err := d.validate(spec); err != nil {
		msg := "invalid run spec: " + err.Error()
		ev.Log("agent", msg)
		return restic.Result{Status: protocol.JobFailed, ExitCode: -1, Error: msg}
	}
	if spec.PreHook != "" {
		if err := d.runHook(j.ctx, j, ev, "pre_hook", spec.PreHook, ""); err != nil {
			preOK = false
			res = restic.Result{Status: protocol.JobFailed, ExitCode: -1, Error: err.Error()}
			if j.ctx.Err() != nil {
				res.Status, res.Error = protocol.JobCancelled, j.cancelCause()
			}
		}
	}
	if preOK {
		var err error
		res, err = d.runner.Run(j.ctx, spec, ev)
		if err != nil {
			res = restic.Result{Status: protocol.JobFailed, ExitCode: -1, Error: err.Error()}
		}
		if j.ctx.Err() != nil && (res.Status == protocol.JobCancelled || res.Status == "") {
			res.Status = protocol.JobCancelled
			res.Error = joinText(j.cancelCause(), res.Error)
		}
		if !protocol.IsTerminal(res.Status) {
			res.Error = joinText(fmt.Sprintf("restic runner returned status %q", res.Status), res.Error)
			res.Status = protocol.JobFailed
		}
	}
	// The post-hook runs whenever the pre-hook succeeded, even after a failure or a
	// cancellation (it may have to undo what the pre-hook did), with a fresh context.
	if spec.PostHook != "" && preOK {
		if err := d.runHook(context.WithoutCancel(j.ctx), j, ev, "post_hook", spec.PostHook, res.Status); err != nil {
			if res.Status == protocol.JobSucceeded || res.Status == protocol.JobWarning {
				res.Status = protocol.JobFailed
			}
			res.Error = joinText(res.Error, err.Error())
		}
	}
	return res
}

func joinText(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "" || strings.Contains(a, b):
		return a
	}
	return a + "; " + b
}

// runHook runs a locally configured hook by name. The server can only name hooks
// that the local config defines.
func (d *Daemon) runHook(ctx context.Context, j *job, ev *jobEvents, phase, name, status string) error {
	if !d.hooks.Has(name) {
		names := d.hooks.Names()
		defined := "none are defined"
		if len(names) > 0 {
			defined = "defined: " + strings.Join(names, ", ")
		}
		err := fmt.Errorf("%s %q is not defined in the agent's local config (%s)", phase, name, defined)
		ev.Log("agent", err.Error())
		return err
	}
	env := []string{
		"RM_HOOK_PHASE=" + strings.TrimSuffix(phase, "_hook"),
		"RM_JOB_ID=" + j.spec.JobID,
		"RM_JOB_KIND=" + j.spec.Kind,
		"RM_SCHEDULE_ID=" + j.spec.ScheduleID,
		"RM_REPOSITORY_ID=" + j.spec.Repository.ID,
		"RM_REPOSITORY_NAME=" + j.spec.Repository.Name,
	}
	if status != "" {
		env = append(env, "RM_JOB_STATUS="+status)
	}
	ev.Log("agent", fmt.Sprintf("running %s %q", phase, name))
	prefix := "[" + phase + " " + name + "] "
	err := d.hooks.Run(ctx, name, env, hooks.Output(func(stream, line string) {
		ev.Log(stream, prefix+line)
	}))
	if err != nil {
		err = fmt.Errorf("%s failed: %w", phase, err)
		ev.Log("agent", err.Error())
		return err
	}
	ev.Log("agent", fmt.Sprintf("%s %q succeeded", phase, name))
	return nil
}

// finishUnstarted reports a job that never ran (cancelled in the queue, or the agent
// stopped first).
func (d *Daemon) finishUnstarted(j *job, status, reason string) {
	now := time.Now().UTC()
	fin := protocol.JobFinish{Status: status, ExitCode: -1, Error: reason, FinishedAt: now}
	if _, err := d.reportFinish(j, fin); err != nil {
		d.log.Warn("job finish not accepted", "job_id", j.spec.JobID, "error", err)
	}
	d.dropMarker(j.spec.JobID)
	d.log.Info("job finished without running", "job_id", j.spec.JobID, "status", status, "reason", reason)
}

func followUpAfter(kind string) bool {
	return kind == protocol.KindBackup || kind == protocol.KindForget || kind == protocol.KindPrune
}

// followUps refreshes the server's snapshot list and statistics of the repository
// after a job that changed it. They are internal runs, not server jobs.
func (d *Daemon) followUps(j *job) {
	ctx := d.jctx
	base := j.spec
	base.Paths, base.Excludes, base.Tags, base.Retention = nil, nil, nil, nil
	base.PreHook, base.PostHook = "", ""
	log := d.log.With("job_id", base.JobID, "repository", base.Repository.Name)

	snap := base
	snap.Kind = protocol.KindSnapshots
	res, err := d.runner.Run(ctx, snap, discardEvents{})
	if err != nil || res.Status != protocol.JobSucceeded {
		log.Warn("listing snapshots after the job failed", "error", errText(err, res))
	} else {
		body := protocol.SnapshotReport{TakenAt: time.Now().UTC(), Snapshots: res.Snapshots}
		if body.Snapshots == nil {
			body.Snapshots = []protocol.Snapshot{}
		}
		d.reportRepo(ctx, base.Repository.ID, body)
	}
	if ctx.Err() != nil {
		return
	}
	stats := base
	stats.Kind = protocol.KindStats
	res, err = d.runner.Run(ctx, stats, discardEvents{})
	if err != nil || res.Status != protocol.JobSucceeded || res.Stats == nil {
		log.Warn("repository statistics after the job failed", "error", errText(err, res))
		return
	}
	st := *res.Stats
	if st.At.IsZero() {
		st.At = time.Now().UTC()
	}
	d.reportRepo(ctx, base.Repository.ID, st)
}

func errText(err error, res restic.Result) string {
	if err != nil {
		return err.Error()
	}
	if res.Error != "" {
		return res.Error
	}
	return "status " + res.Status
}

type discardEvents struct{}

func (discardEvents) Progress(protocol.Progress) {}
func (discardEvents) Log(string, string)         {}

// putMarker records that a job is accepted (queued) or running.
func (d *Daemon) putMarker(j *job, phase string) error {
	j.mu.Lock()
	m := state.Marker{
		JobID: j.spec.JobID, Kind: j.spec.Kind, RepositoryID: j.spec.Repository.ID, ScheduleID: j.spec.ScheduleID,
		Phase: phase, QueuedAt: j.queuedAt, StartedAt: j.startedAt,
	}
	j.mu.Unlock()
	return d.store.PutMarker(m)
}

func (d *Daemon) dropMarker(jobID string) {
	if err := d.store.DeleteMarker(jobID); err != nil {
		d.log.Warn("cannot remove job marker", "job_id", jobID, "error", err)
	}
	d.status.kick()
}

// rawJSON marshals v, for spool bodies.
func rawJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}
