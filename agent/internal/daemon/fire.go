package daemon

import (
	"context"
	"errors"
	"time"

	"github.com/restic-manager/restic-manager/agent/internal/client"
	"github.com/restic-manager/restic-manager/agent/internal/schedule"
	"github.com/restic-manager/restic-manager/agent/internal/spool"
	"github.com/restic-manager/restic-manager/agent/internal/state"
	"github.com/restic-manager/restic-manager/common/protocol"
)

// applyScheduleSet reconciles the local schedules with a new set, caches it (it holds
// the repositories' secrets, mode 0600) and acknowledges its version.
func (d *Daemon) applyScheduleSet(_ context.Context, set *protocol.ScheduleSet) {
	applyErr := d.sched.Apply(set)
	if applyErr != nil {
		d.log.Warn("some schedules could not be applied", "version", set.Version, "error", applyErr)
	}
	if err := d.store.SaveScheduleSet(set); err != nil {
		d.log.Error("cannot cache the schedule set; offline runs will use the previous one", "error", err)
		applyErr = errors.Join(applyErr, err)
	}
	d.mu.Lock()
	d.schedSet = set
	d.mu.Unlock()
	d.baselineFires(set)
	d.log.Info("schedule set applied", "version", set.Version, "schedules", len(set.Schedules))
	d.status.kick()

	ack := protocol.ScheduleAck{Version: set.Version, AppliedAt: time.Now().UTC()}
	if applyErr != nil {
		ack.Error = applyErr.Error()
	}
	d.bg.Add(1)
	go func() {
		defer d.bg.Done()
		d.reportAck(ack)
	}()
}

// baselineFires starts the fire record of schedules never seen, so that a tick missed
// while the agent is down later is caught up, and forgets removed schedules.
func (d *Daemon) baselineFires(set *protocol.ScheduleSet) {
	now := time.Now().UTC()
	ids := map[string]bool{}
	for _, sc := range set.Schedules {
		ids[sc.ID] = true
		if _, ok := d.fires.Last(sc.ID); !ok {
			if err := d.fires.Set(sc.ID, now); err != nil {
				d.log.Warn("cannot record schedule", "error", err)
			}
		}
	}
	if err := d.fires.Keep(ids); err != nil {
		d.log.Warn("cannot record schedules", "error", err)
	}
}

// catchUp runs, once, each tick that passed while the agent was not running.
func (d *Daemon) catchUp(ctx context.Context) {
	set := d.currentSet()
	if set == nil {
		return
	}
	d.baselineFires(set)
	for _, t := range d.sched.Missed(d.fires.Last, time.Now()) {
		d.log.Info("running a schedule tick missed while the agent was not running",
			"schedule_id", t.Schedule.ID, "name", t.Schedule.Name, "scheduled_for", t.ScheduledFor)
		d.bg.Add(1)
		go func() {
			defer d.bg.Done()
			// Spread the catch-up fires of a fleet that restarts at once.
			if sleep(ctx, jitter(d.cfg.StartupJitter)) {
				d.handleTick(ctx, t)
			}
		}()
	}
}

// onTick is the scheduler's callback; the work happens on its own goroutine.
func (d *Daemon) onTick(ctx context.Context, t schedule.Tick) {
	d.bg.Add(1)
	go func() {
		defer d.bg.Done()
		d.handleTick(ctx, t)
	}()
}

// handleTick turns a tick into a job: through the server when it answers within the
// fire budget, else from the cached schedule set under an agent-generated job id.
func (d *Daemon) handleTick(ctx context.Context, t schedule.Tick) {
	sc := t.Schedule
	log := d.log.With("schedule_id", sc.ID, "schedule", sc.Name, "scheduled_for", t.ScheduledFor)
	jobID := d.newID()
	fire := protocol.ScheduleFire{JobID: jobID, ScheduledFor: t.ScheduledFor}
	fctx, cancel := context.WithTimeout(ctx, d.cfg.FireBudget)
	resp, err := d.api.ScheduleFire(fctx, sc.ID, fire)
	cancel()
	switch {
	case err == nil:
		d.noteContact()
		d.markFired(sc.ID, t.ScheduledFor)
		d.runFired(ctx, resp)
		return
	case d.handleFatal(err):
		return
	case ctx.Err() != nil:
		return // shutting down: the tick stays unrecorded and is caught up at start-up
	case !client.IsTransient(err):
		log.Warn("server refused the schedule fire; not running it", "error", err)
		d.markFired(sc.ID, t.ScheduledFor)
		return
	}
	d.noteFailure("schedule fire", err)
	log.Warn("server unreachable at schedule tick; running the job offline", "job_id", jobID, "error", err)
	d.runOffline(sc, jobID, t.ScheduledFor)
	d.markFired(sc.ID, t.ScheduledFor)
}

func (d *Daemon) markFired(scheduleID string, at time.Time) {
	if err := d.fires.Set(scheduleID, at); err != nil {
		d.log.Warn("cannot record schedule fire", "schedule_id", scheduleID, "error", err)
	}
	d.status.kick()
}

// runFired queues the command.run the server answered a fire with.
func (d *Daemon) runFired(ctx context.Context, resp protocol.ScheduleFireResponse) {
	cmd := resp.Command
	if cmd.Run == nil {
		d.log.Warn("schedule fire answered without a run spec", "job_id", resp.Job.JobID)
		return
	}
	if cmd.JobID == "" {
		cmd.JobID = resp.Job.JobID
	}
	if protocol.IsTerminal(resp.Job.Status) {
		d.log.Info("the job of this tick already ran", "job_id", cmd.JobID, "status", resp.Job.Status)
		return
	}
	if cmd.Type == "" {
		cmd.Type = protocol.CommandRun
	}
	d.handleCommand(ctx, cmd)
}

// runOffline runs a tick's job from the cached schedule set and spools the fire
// (ran_offline) ahead of the job's own reports.
func (d *Daemon) runOffline(sc protocol.Schedule, jobID string, at time.Time) {
	set := d.currentSet()
	var repo *protocol.Repository
	if set != nil {
		for i := range set.Repositories {
			if set.Repositories[i].ID == sc.RepositoryID {
				repo = &set.Repositories[i]
				break
			}
		}
	}
	if repo == nil {
		d.log.Error("cannot run offline: the schedule's repository is not in the cached schedule set",
			"schedule_id", sc.ID, "repository_id", sc.RepositoryID)
		return
	}
	spec := protocol.RunSpec{
		JobID: jobID, Kind: sc.Kind, ScheduleID: sc.ID, Repository: *repo,
		Paths: sc.Paths, Excludes: sc.Excludes, Tags: sc.Tags, Retention: sc.Retention, Options: sc.Options,
		PreHook: sc.PreHook, PostHook: sc.PostHook, ScheduledFor: &at,
	}
	fire := protocol.ScheduleFire{JobID: jobID, ScheduledFor: at, RanOffline: true}
	if err := d.spoolReport(report{kind: spool.KindScheduleFire, key: jobID, id: sc.ID, body: fire}); err != nil {
		d.log.Error("cannot spool the offline fire; running the job anyway", "error", err)
	}
	if err := d.commands.TakeJob(jobID); err != nil {
		d.log.Warn("cannot record job", "job_id", jobID, "error", err)
	}
	j := d.newJob(spec, true)
	if err := d.putMarker(j, state.MarkerQueued); err != nil {
		d.log.Warn("cannot write job marker", "job_id", jobID, "error", err)
	}
	d.queues.enqueue(j)
}
