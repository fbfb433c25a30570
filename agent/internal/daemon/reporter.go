package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/restic-manager/restic-manager/agent/internal/client"
	"github.com/restic-manager/restic-manager/agent/internal/spool"
	"github.com/restic-manager/restic-manager/agent/internal/state"
	"github.com/restic-manager/restic-manager/common/protocol"
)

// A report is sent directly only when the server was reachable lately and nothing
// with the same ordering key (the job id, or "repo:<id>") waits in the spool;
// otherwise, or when the direct send fails transiently, it is spooled and the
// flusher delivers it in order later.

// report describes one report for deliver.
type report struct {
	kind      string
	key       string // ordering key
	id        string // path parameter
	body      any
	budget    time.Duration
	droppable bool
	replaces  bool
}

// directOK reports whether a report with this key may skip the spool.
func (d *Daemon) directOK(key string) bool {
	return d.isOnline() && !d.spool.HasKey(key)
}

// jobID maps an agent-generated job id to the one the server answered with.
func (d *Daemon) jobID(id string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if v, ok := d.remap[id]; ok {
		return v
	}
	return id
}

// deliver sends r with send, or spools it. spooled says the report is durable in the
// spool; err is a permanent rejection (or the spool's own failure).
func (d *Daemon) deliver(r report, send func(ctx context.Context) error) (spooled bool, err error) {
	if !d.directOK(r.key) {
		return true, d.spoolReport(r)
	}
	ctx, cancel := context.WithTimeout(d.rctx, r.budget)
	defer cancel()
	err = send(ctx)
	switch {
	case err == nil:
		d.noteContact()
		return false, nil
	case d.handleFatal(err):
		return true, errors.Join(err, d.spoolReport(r))
	case client.IsTransient(err) || ctx.Err() != nil:
		d.noteFailure(r.kind, err)
		return true, d.spoolReport(r)
	}
	return false, err
}

func (d *Daemon) spoolReport(r report) error {
	_, err := d.spool.Append(spool.Entry{
		Kind: r.kind, Key: r.key, ID: r.id, Body: rawJSON(r.body), Droppable: r.droppable, Replaces: r.replaces,
	})
	if err != nil {
		d.log.Error("cannot spool report", "kind", r.kind, "id", r.id, "error", err)
		return fmt.Errorf("spool %s: %w", r.kind, err)
	}
	d.log.Debug("report spooled", "kind", r.kind, "id", r.id)
	d.status.kick()
	return nil
}

func (d *Daemon) reportStart(j *job, at time.Time) (protocol.JobState, error) {
	body := protocol.JobStart{StartedAt: at}
	var st protocol.JobState
	_, err := d.deliver(report{kind: spool.KindJobStart, key: j.spec.JobID, id: d.jobID(j.spec.JobID), body: body, budget: d.cfg.ReportBudget},
		func(ctx context.Context) error {
			var err error
			st, err = d.api.JobStart(ctx, d.jobID(j.spec.JobID), body)
			return err
		})
	return st, err
}

func (d *Daemon) reportLogs(j *job, b protocol.LogBatch) (protocol.JobState, error) {
	var st protocol.JobState
	_, err := d.deliver(report{kind: spool.KindJobLogs, key: j.spec.JobID, id: d.jobID(j.spec.JobID), body: b,
		budget: d.cfg.ReportBudget, droppable: true},
		func(ctx context.Context) error {
			res, err := d.api.JobLogs(ctx, d.jobID(j.spec.JobID), b)
			st = res.JobState
			return err
		})
	if errors.Is(err, spool.ErrFull) {
		d.log.Warn("spool full: log lines dropped", "job_id", j.spec.JobID, "lines", len(b.Lines))
	}
	return st, err
}

// reportFinish delivers a job's terminal report: directly within the finish budget,
// else through the spool, whose flusher retries it for as long as it takes.
func (d *Daemon) reportFinish(j *job, f protocol.JobFinish) (protocol.JobState, error) {
	var st protocol.JobState
	_, err := d.deliver(report{kind: spool.KindJobFinish, key: j.spec.JobID, id: d.jobID(j.spec.JobID), body: f, budget: d.cfg.FinishBudget},
		func(ctx context.Context) error {
			var err error
			st, err = d.api.JobFinish(ctx, d.jobID(j.spec.JobID), f)
			return err
		})
	if client.IsJobFinished(err) {
		return st, nil // already finished (e.g. cancelled on the server): nothing left to say
	}
	return st, err
}

// reportRepo delivers a snapshot report or a stats sample of a repository.
func (d *Daemon) reportRepo(_ context.Context, repoID string, body any) {
	r := report{key: "repo:" + repoID, id: repoID, body: body, budget: d.cfg.ReportBudget}
	var send func(ctx context.Context) error
	switch b := body.(type) {
	case protocol.SnapshotReport:
		r.kind, r.replaces = spool.KindSnapshots, true
		send = func(ctx context.Context) error { return d.api.RepoSnapshots(ctx, repoID, b) }
	case protocol.RepoStats:
		r.kind = spool.KindStats
		send = func(ctx context.Context) error { return d.api.RepoStats(ctx, repoID, b) }
	default:
		return
	}
	if _, err := d.deliver(r, send); err != nil {
		d.log.Warn("repository report not accepted", "kind", r.kind, "repository_id", repoID, "error", err)
	}
}

// reportAck acknowledges an applied schedule set.
func (d *Daemon) reportAck(a protocol.ScheduleAck) {
	r := report{kind: spool.KindScheduleAck, key: "schedule_ack", body: a, budget: d.cfg.ReportBudget, replaces: true}
	if _, err := d.deliver(r, func(ctx context.Context) error { return d.api.ScheduleAck(ctx, a) }); err != nil {
		d.log.Warn("schedule acknowledgement not accepted", "version", a.Version, "error", err)
	}
}

func (d *Daemon) kickFlush() {
	select {
	case d.flushKick <- struct{}{}:
	default:
	}
}

// flushLoop delivers the spool when kicked (on every contact) and every FlushInterval.
func (d *Daemon) flushLoop(ctx context.Context) {
	for {
		t := time.NewTimer(d.cfg.FlushInterval + jitter(d.cfg.FlushInterval/2))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-d.flushKick:
		case <-t.C:
		}
		t.Stop()
		d.flush(ctx)
	}
}

// flush sends spooled reports oldest first. It stops at the first transient failure
// (the order must hold) and drops reports the server rejects for good.
func (d *Daemon) flush(ctx context.Context) {
	n := 0
	defer func() {
		if n > 0 {
			d.log.Info("spooled reports delivered", "count", n, "left", d.spool.Len())
			d.status.kick()
		}
	}()
	for ctx.Err() == nil {
		e, ok, err := d.spool.First()
		if err != nil {
			d.log.Error("unreadable spool entry", "error", err)
			return
		}
		if !ok {
			return
		}
		sctx, cancel := context.WithTimeout(ctx, d.cfg.ReportBudget)
		err = d.sendEntry(sctx, e)
		cancel()
		switch {
		case err == nil:
		case d.handleFatal(err):
			return
		case client.IsTransient(err) || ctx.Err() != nil:
			d.noteFailure("flush "+e.Kind, err)
			return
		default:
			d.log.Warn("server rejected a spooled report; dropping it", "kind", e.Kind, "id", e.ID, "error", err)
		}
		if err := d.spool.Remove(e.Seq); err != nil {
			d.log.Error("cannot remove spool entry", "error", err)
			return
		}
		n++
		if err == nil {
			d.noteContact()
		}
	}
}

// sendEntry makes the API call a spool entry stands for.
func (d *Daemon) sendEntry(ctx context.Context, e spool.Entry) error {
	switch e.Kind {
	case spool.KindScheduleFire:
		var f protocol.ScheduleFire
		if err := json.Unmarshal(e.Body, &f); err != nil {
			return fmt.Errorf("decode spooled fire: %w", err)
		}
		resp, err := d.api.ScheduleFire(ctx, e.ID, f)
		if err == nil {
			d.afterSpooledFire(e, f, resp)
		}
		return err
	case spool.KindScheduleAck:
		var a protocol.ScheduleAck
		if err := json.Unmarshal(e.Body, &a); err != nil {
			return fmt.Errorf("decode spooled ack: %w", err)
		}
		return d.api.ScheduleAck(ctx, a)
	case spool.KindJobStart:
		var s protocol.JobStart
		if err := json.Unmarshal(e.Body, &s); err != nil {
			return fmt.Errorf("decode spooled start: %w", err)
		}
		_, err := d.api.JobStart(ctx, e.ID, s)
		return err
	case spool.KindJobLogs:
		var b protocol.LogBatch
		if err := json.Unmarshal(e.Body, &b); err != nil {
			return fmt.Errorf("decode spooled logs: %w", err)
		}
		_, err := d.api.JobLogs(ctx, e.ID, b)
		return err
	case spool.KindJobFinish:
		var f protocol.JobFinish
		if err := json.Unmarshal(e.Body, &f); err != nil {
			return fmt.Errorf("decode spooled finish: %w", err)
		}
		_, err := d.api.JobFinish(ctx, e.ID, f)
		return err
	case spool.KindSnapshots:
		var r protocol.SnapshotReport
		if err := json.Unmarshal(e.Body, &r); err != nil {
			return fmt.Errorf("decode spooled snapshots: %w", err)
		}
		return d.api.RepoSnapshots(ctx, e.ID, r)
	case spool.KindStats:
		var s protocol.RepoStats
		if err := json.Unmarshal(e.Body, &s); err != nil {
			return fmt.Errorf("decode spooled stats: %w", err)
		}
		return d.api.RepoStats(ctx, e.ID, s)
	}
	return fmt.Errorf("unknown spool entry kind %q", e.Kind)
}

// afterSpooledFire adopts the server's job id for an offline run when the server
// already had a job for the tick, and acknowledges the fire's command.
func (d *Daemon) afterSpooledFire(e spool.Entry, f protocol.ScheduleFire, resp protocol.ScheduleFireResponse) {
	serverID := resp.Job.JobID
	if serverID == "" {
		serverID = resp.Command.JobID
	}
	if serverID != "" && serverID != f.JobID {
		d.log.Info("server already had a job for the offline tick; reporting under its id",
			"agent_job_id", f.JobID, "job_id", serverID)
		d.mu.Lock()
		d.remap[f.JobID] = serverID
		d.mu.Unlock()
		if err := d.commands.TakeJob(serverID); err != nil {
			d.log.Warn("cannot record job", "error", err)
		}
		entries, err := d.spool.Entries()
		if err != nil {
			d.log.Warn("cannot read spool", "error", err)
		}
		for _, other := range entries {
			if other.Seq != e.Seq && other.Key == f.JobID && other.ID == f.JobID {
				other.ID = serverID
				if err := d.spool.Rewrite(other); err != nil {
					d.log.Warn("cannot rewrite spool entry", "error", err)
				}
			}
		}
	}
	if resp.Command.ID != 0 {
		res := protocol.CommandResult{Status: protocol.CommandAccepted, Reason: "ran offline"}
		d.recordCommand(resp.Command.ID, serverID, res, true)
		d.ack(resp.Command.ID, res)
	}
}

// statusSpool fills the spool figures of the status file.
func (d *Daemon) statusSpool(s *state.Status) {
	s.SpoolEntries, s.SpoolBytes = d.spool.Len(), d.spool.Bytes()
}
