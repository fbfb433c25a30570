package agentapi

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/httpx"
	"github.com/restic-manager/restic-manager/server/internal/ingest"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

const (
	maxLogLinesPerBatch = 5000
	maxLogLineBytes     = 64 << 10
	maxErrorBytes       = 64 << 10
)

// jobID reads a job id from the path; anything that is not a UUID is unknown.
func jobID(c *gin.Context) (string, bool) {
	id := c.Param("id")
	if _, err := uuid.Parse(id); err != nil {
		httpx.Fail(c, httpx.ErrNotFound)
		return "", false
	}
	return id, true
}

// commandResult records the agent's acknowledgement of a command.
//
//	@Summary		Acknowledge a command
//	@Description	Accepted or rejected with a reason. Unacknowledged commands are delivered again after their lease. Repeating an acknowledgement is harmless. A rejected command.run fails its job.
//	@Tags			agent
//	@Accept			json
//	@Produce		json
//	@Security		AgentCredential
//	@Param			id		path		int						true	"command id"
//	@Param			body	body		protocol.CommandResult	true	"result"
//	@Success		200		{object}	protocol.Empty
//	@Failure		400		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Router			/agent/commands/{id}/result [post]
func (a *API) commandResult(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		httpx.Fail(c, httpx.ErrNotFound)
		return
	}
	var req protocol.CommandResult
	if err := httpx.Decode(c, limitSmall, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	if req.Status != protocol.CommandAccepted && req.Status != protocol.CommandRejected {
		httpx.Fail(c, httpx.Validation("status: must be accepted or rejected"))
		return
	}
	if len(req.Reason) > maxErrorBytes {
		httpx.Fail(c, httpx.Validation("reason: at most %d bytes", maxErrorBytes))
		return
	}
	if err := a.store.AckCommand(c.Request.Context(), hostID(c), id, req); err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, protocol.Empty{OK: true})
}

// jobStart claims a job for the agent's host.
//
//	@Summary		Start a job
//	@Description	Claims a queued job with a conditional update. A repeat by the same host answers 200; a finished or cancelled job answers 409 job_finished: do not run it.
//	@Tags			agent
//	@Accept			json
//	@Produce		json
//	@Security		AgentCredential
//	@Param			id		path		string				true	"job id"
//	@Param			body	body		protocol.JobStart	true	"start time"
//	@Success		200		{object}	protocol.JobState
//	@Failure		404		{object}	protocol.Error
//	@Failure		409		{object}	protocol.Error	"job_finished"
//	@Router			/agent/jobs/{id}/start [post]
func (a *API) jobStart(c *gin.Context) {
	id, ok := jobID(c)
	if !ok {
		return
	}
	var req protocol.JobStart
	if err := httpx.Decode(c, limitSmall, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	job, err := a.store.StartJob(c.Request.Context(), hostID(c), id, req.StartedAt)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, job.State())
}

// jobProgress keeps the latest progress of a job.
//
//	@Summary		Report job progress
//	@Description	Only the latest progress is kept. The answer says whether the job was cancelled.
//	@Tags			agent
//	@Accept			json
//	@Produce		json
//	@Security		AgentCredential
//	@Param			id		path		string				true	"job id"
//	@Param			body	body		protocol.Progress	true	"progress"
//	@Success		200		{object}	protocol.JobState
//	@Failure		400		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Router			/agent/jobs/{id}/progress [post]
func (a *API) jobProgress(c *gin.Context) {
	id, ok := jobID(c)
	if !ok {
		return
	}
	var p protocol.Progress
	if err := httpx.Decode(c, limitSmall, &p); err != nil {
		httpx.Fail(c, err)
		return
	}
	if err := validProgress(p); err != nil {
		httpx.Fail(c, err)
		return
	}
	res, err := a.reports.Submit(c.Request.Context(), store.JobReport{HostID: hostID(c), JobID: id, Progress: &p})
	if err != nil {
		failReport(c, err)
		return
	}
	c.JSON(http.StatusOK, res.Job.State())
}

func validProgress(p protocol.Progress) error {
	if math.IsNaN(p.PercentDone) || p.PercentDone < 0 || p.PercentDone > 1 {
		return httpx.Validation("percent_done: between 0 and 1")
	}
	for name, v := range map[string]int64{"files_done": p.FilesDone, "total_files": p.TotalFiles, "bytes_done": p.BytesDone,
		"total_bytes": p.TotalBytes, "seconds_elapsed": p.SecondsElapsed, "seconds_remaining": p.SecondsRemaining, "error_count": p.ErrorCount} {
		if v < 0 {
			return httpx.Validation("%s: may not be negative", name)
		}
	}
	if p.BytesPerSecond < 0 || math.IsNaN(p.BytesPerSecond) || math.IsInf(p.BytesPerSecond, 0) {
		return httpx.Validation("bytes_per_second: may not be negative")
	}
	if len(p.CurrentFiles) > 32 {
		return httpx.Validation("current_files: at most 32 entries")
	}
	return nil
}

// jobLogs stores a batch of log lines, deduplicated by (job, seq).
//
//	@Summary		Send job log lines
//	@Description	Lines already stored (same job and seq) are ignored, so a batch may be resent whole or in part and out of order.
//	@Tags			agent
//	@Accept			json
//	@Produce		json
//	@Security		AgentCredential
//	@Param			id		path		string				true	"job id"
//	@Param			body	body		protocol.LogBatch	true	"lines"
//	@Success		200		{object}	protocol.LogBatchResult
//	@Failure		400		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Failure		413		{object}	protocol.Error
//	@Router			/agent/jobs/{id}/logs [post]
func (a *API) jobLogs(c *gin.Context) {
	id, ok := jobID(c)
	if !ok {
		return
	}
	var b protocol.LogBatch
	if err := httpx.Decode(c, limitLogs, &b); err != nil {
		httpx.Fail(c, err)
		return
	}
	if len(b.Lines) > maxLogLinesPerBatch {
		httpx.Fail(c, httpx.Validation("lines: at most %d per batch", maxLogLinesPerBatch))
		return
	}
	for i, l := range b.Lines {
		switch {
		case l.Seq < 1:
			httpx.Fail(c, httpx.Validation("lines[%d].seq: must be >= 1", i))
			return
		case l.Stream != "stdout" && l.Stream != "stderr" && l.Stream != "agent":
			httpx.Fail(c, httpx.Validation("lines[%d].stream: stdout, stderr or agent", i))
			return
		case len(l.Text) > maxLogLineBytes:
			httpx.Fail(c, httpx.Validation("lines[%d].text: at most %d bytes", i, maxLogLineBytes))
			return
		}
	}
	res, err := a.reports.Submit(c.Request.Context(), store.JobReport{HostID: hostID(c), JobID: id, Lines: b.Lines})
	if err != nil {
		failReport(c, err)
		return
	}
	c.JSON(http.StatusOK, protocol.LogBatchResult{JobState: res.Job.State(), Accepted: res.Accepted, Duplicates: len(b.Lines) - res.Accepted})
}

// failReport answers a report that was not stored; during a shutdown the agent is told
// to come back (to this server's successor or another replica).
func failReport(c *gin.Context, err error) {
	if errors.Is(err, ingest.ErrStopped) {
		c.Header("Retry-After", "5")
		httpx.Fail(c, httpx.Errorf(http.StatusServiceUnavailable, protocol.CodeUnavailable, "the server is shutting down; send the report again"))
		return
	}
	httpx.Fail(c, err)
}

var terminalStatuses = []string{protocol.JobSucceeded, protocol.JobWarning, protocol.JobFailed, protocol.JobCancelled}

// jobFinish ends a job; the first finish wins.
//
//	@Summary		Finish a job
//	@Description	Records status, exit code, error and restic's summary. Repeating a finish answers 200 with the recorded state and changes nothing.
//	@Tags			agent
//	@Accept			json
//	@Produce		json
//	@Security		AgentCredential
//	@Param			id		path		string				true	"job id"
//	@Param			body	body		protocol.JobFinish	true	"outcome"
//	@Success		200		{object}	protocol.JobState
//	@Failure		400		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Router			/agent/jobs/{id}/finish [post]
func (a *API) jobFinish(c *gin.Context) {
	id, ok := jobID(c)
	if !ok {
		return
	}
	var f protocol.JobFinish
	if err := httpx.Decode(c, limitFinish, &f); err != nil {
		httpx.Fail(c, err)
		return
	}
	switch {
	case !slices.Contains(terminalStatuses, f.Status):
		httpx.Fail(c, httpx.Validation("status: one of succeeded, warning, failed, cancelled"))
		return
	case f.ExitCode < -1 || f.ExitCode > 255:
		httpx.Fail(c, httpx.Validation("exit_code: between -1 and 255"))
		return
	case len(f.Error) > maxErrorBytes:
		httpx.Fail(c, httpx.Validation("error: at most %d bytes", maxErrorBytes))
		return
	case f.LogLines < 0:
		httpx.Fail(c, httpx.Validation("log_lines: may not be negative"))
		return
	case len(f.Summary) > 0 && !isJSONObjectOrNull(f.Summary):
		httpx.Fail(c, httpx.Validation("summary: must be a JSON object"))
		return
	}
	job, err := a.store.FinishJob(c.Request.Context(), hostID(c), id, f)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, job.State())
}

func isJSONObjectOrNull(raw json.RawMessage) bool {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return false
	}
	if v == nil {
		return true
	}
	_, ok := v.(map[string]any)
	return ok
}

// notTooFarAhead refuses client timestamps far in the future (clock skew is tolerated).
func notTooFarAhead(t time.Time) bool { return t.Before(time.Now().Add(24 * time.Hour)) }
