package daemon

import (
	"time"

	"github.com/restic-manager/restic-manager/agent/internal/spool"
	"github.com/restic-manager/restic-manager/agent/internal/state"
	"github.com/restic-manager/restic-manager/common/protocol"
)

// Reasons reported for jobs an agent restart interrupted.
const (
	reasonRestartedRunning = "agent restarted while the job was running"
	reasonRestartedQueued  = "agent restarted before the job could run"
)

// recoverInterrupted reports, through the spool, every job whose marker survived a
// restart: it was running (or queued) when the agent stopped without finishing it.
func (d *Daemon) recoverInterrupted() {
	markers, err := d.store.Markers()
	if err != nil {
		d.log.Error("cannot read job markers", "error", err)
		return
	}
	if len(markers) == 0 {
		return
	}
	finished := map[string]bool{}
	if entries, err := d.spool.Entries(); err == nil {
		for _, e := range entries {
			if e.Kind == spool.KindJobFinish {
				finished[e.Key] = true
			}
		}
	}
	now := time.Now().UTC()
	for _, m := range markers {
		if err := d.commands.TakeJob(m.JobID); err != nil {
			d.log.Warn("cannot record job", "job_id", m.JobID, "error", err)
		}
		if finished[m.JobID] {
			_ = d.store.DeleteMarker(m.JobID)
			continue
		}
		reason, startedAt := reasonRestartedRunning, m.StartedAt
		if m.Phase != state.MarkerRunning || startedAt == nil {
			reason = reasonRestartedQueued
			startedAt = &now
			_ = d.spoolReport(report{kind: spool.KindJobStart, key: m.JobID, id: m.JobID, body: protocol.JobStart{StartedAt: now}})
		}
		fin := protocol.JobFinish{
			Status: protocol.JobFailed, ExitCode: -1, Error: reason,
			StartedAt: startedAt, FinishedAt: now, LogLines: m.LogLines,
		}
		if err := d.spoolReport(report{kind: spool.KindJobFinish, key: m.JobID, id: m.JobID, body: fin}); err != nil {
			continue // keep the marker: the next start tries again
		}
		_ = d.store.DeleteMarker(m.JobID)
		d.log.Warn("job interrupted by an agent restart reported as failed", "job_id", m.JobID, "kind", m.Kind,
			"phase", m.Phase)
	}
	d.kickFlush()
}
