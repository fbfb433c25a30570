package daemon

import (
	"context"
	"fmt"

	"github.com/restic-manager/restic-manager/agent/internal/state"
	"github.com/restic-manager/restic-manager/common/protocol"
)

// handleCommand dedupes a delivered command by id, acts on it and acknowledges it.
// The answer is recorded durably before the agent acts, so a redelivery after a
// crash gets the same answer and is not acted on twice.
func (d *Daemon) handleCommand(ctx context.Context, cmd protocol.Command) {
	if rec, ok := d.commands.Seen(cmd.ID); ok && cmd.ID != 0 {
		d.log.Debug("duplicate command", "command_id", cmd.ID, "job_id", cmd.JobID)
		d.ack(cmd.ID, protocol.CommandResult{Status: rec.Status, Reason: rec.Reason})
		return
	}
	var res protocol.CommandResult
	switch cmd.Type {
	case protocol.CommandRun:
		res = d.acceptRun(cmd)
	case protocol.CommandCancel:
		res = d.cancelCommand(cmd)
	case protocol.CommandBrowse:
		res = d.acceptBrowse(cmd) // browse.go
	default:
		res = protocol.CommandResult{Status: protocol.CommandRejected, Reason: fmt.Sprintf("unknown command type %q", cmd.Type)}
	}
	d.log.Info("command", "command_id", cmd.ID, "type", cmd.Type, "job_id", cmd.JobID, "result", res.Status, "reason", res.Reason)
	d.ack(cmd.ID, res)
}

// acceptRun validates a command.run, records it and queues the job.
func (d *Daemon) acceptRun(cmd protocol.Command) protocol.CommandResult {
	reject := func(reason string) protocol.CommandResult {
		res := protocol.CommandResult{Status: protocol.CommandRejected, Reason: reason}
		d.recordCommand(cmd.ID, cmd.JobID, res, false)
		return res
	}
	if cmd.Run == nil {
		return reject("command.run carries no run spec")
	}
	spec := *cmd.Run
	if cmd.JobID != "" {
		spec.JobID = cmd.JobID
	}
	if spec.JobID == "" {
		return reject("command.run carries no job id")
	}
	if err := d.validate(spec); err != nil {
		return reject("invalid run spec: " + err.Error())
	}
	if d.commands.KnowsJob(spec.JobID) {
		res := protocol.CommandResult{Status: protocol.CommandAccepted, Reason: "job already taken by this agent"}
		d.recordCommand(cmd.ID, spec.JobID, res, false)
		return res
	}
	j := d.newJob(spec, false)
	if err := d.putMarker(j, state.MarkerQueued); err != nil {
		d.log.Warn("cannot write job marker", "job_id", spec.JobID, "error", err)
	}
	res := protocol.CommandResult{Status: protocol.CommandAccepted}
	d.recordCommand(cmd.ID, spec.JobID, res, true)
	d.queues.enqueue(j)
	return res
}

// cancelCommand cancels a running job or drops a queued one.
func (d *Daemon) cancelCommand(cmd protocol.Command) protocol.CommandResult {
	reason := "cancelled by the server"
	if cmd.Cancel != nil && cmd.Cancel.Reason != "" {
		reason = cmd.Cancel.Reason
	}
	what := d.cancelJob(cmd.JobID, reason)
	res := protocol.CommandResult{Status: protocol.CommandAccepted, Reason: what}
	d.recordCommand(cmd.ID, cmd.JobID, res, false)
	return res
}

// cancelJob cancels the job wherever it is and says what it did.
func (d *Daemon) cancelJob(jobID, reason string) string {
	switch running, queued := d.queues.cancel(jobID, reason); {
	case running:
		return "cancelling the running job"
	case queued != nil:
		d.finishUnstarted(queued, protocol.JobCancelled, reason)
		return "removed the queued job"
	}
	return "job is not queued or running on this agent"
}

func (d *Daemon) recordCommand(id int64, jobID string, res protocol.CommandResult, take bool) {
	if id == 0 { // a fire's answer may carry no command id: only the job is remembered
		if take && jobID != "" {
			if err := d.commands.TakeJob(jobID); err != nil {
				d.log.Warn("cannot record job", "job_id", jobID, "error", err)
			}
		}
		return
	}
	rec := state.CommandRecord{ID: id, JobID: jobID, Status: res.Status, Reason: res.Reason}
	if err := d.commands.Record(rec, take); err != nil {
		d.log.Warn("cannot record command", "command_id", id, "error", err)
	}
}

// ack sends a command result in the background. A lost ack is harmless: the server
// redelivers the command after its lease and the agent answers the same again.
func (d *Daemon) ack(id int64, res protocol.CommandResult) {
	if id == 0 {
		return
	}
	d.bg.Add(1)
	go func() {
		defer d.bg.Done()
		ctx, cancel := context.WithTimeout(d.rctx, d.cfg.ReportBudget)
		defer cancel()
		if err := d.api.CommandResult(ctx, id, res); err != nil {
			if d.handleFatal(err) {
				return
			}
			d.log.Warn("command acknowledgement not delivered; the server will redeliver", "command_id", id, "error", err)
		}
	}()
}
