package agentapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/httpx"
)

const maxSnapshotsPerReport = 100_000

// scheduleAck records the schedule set version the agent applied.
//
//	@Summary		Acknowledge a schedule set
//	@Tags			agent
//	@Accept			json
//	@Produce		json
//	@Security		AgentCredential
//	@Param			body	body		protocol.ScheduleAck	true	"applied version"
//	@Success		200		{object}	protocol.Empty
//	@Failure		400		{object}	protocol.Error	"a version the server never issued"
//	@Router			/agent/schedules/ack [post]
func (a *API) scheduleAck(c *gin.Context) {
	var ack protocol.ScheduleAck
	if err := httpx.Decode(c, limitSmall, &ack); err != nil {
		httpx.Fail(c, err)
		return
	}
	if len(ack.Error) > maxErrorBytes {
		httpx.Fail(c, httpx.Validation("error: at most %d bytes", maxErrorBytes))
		return
	}
	if err := a.store.RecordScheduleAck(c.Request.Context(), hostID(c), ack); err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, protocol.Empty{OK: true})
}

// scheduleFire turns a local cron tick into a job.
//
//	@Summary		Fire a schedule
//	@Description	Idempotent on (schedule, scheduled_for): a repeat returns the same job, whose id may differ from the job_id sent. The answer carries the command.run (id 0: it is not queued and needs no acknowledgement).
//	@Tags			agent
//	@Accept			json
//	@Produce		json
//	@Security		AgentCredential
//	@Param			id		path		string					true	"schedule id"
//	@Param			body	body		protocol.ScheduleFire	true	"tick"
//	@Success		200		{object}	protocol.ScheduleFireResponse
//	@Failure		400		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Failure		409		{object}	protocol.Error	"job_id already used by another job"
//	@Router			/agent/schedules/{id}/fire [post]
func (a *API) scheduleFire(c *gin.Context) {
	if _, err := uuid.Parse(c.Param("id")); err != nil {
		httpx.Fail(c, httpx.ErrNotFound)
		return
	}
	var f protocol.ScheduleFire
	if err := httpx.Decode(c, limitSmall, &f); err != nil {
		httpx.Fail(c, err)
		return
	}
	if _, err := uuid.Parse(f.JobID); err != nil {
		httpx.Fail(c, httpx.Validation("job_id: must be a UUID"))
		return
	}
	if f.ScheduledFor.IsZero() || !notTooFarAhead(f.ScheduledFor) {
		httpx.Fail(c, httpx.Validation("scheduled_for: required and not more than a day ahead"))
		return
	}
	job, cmd, created, err := a.store.FireSchedule(c.Request.Context(), hostID(c), c.Param("id"), f)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, protocol.ScheduleFireResponse{Job: job.State(), Command: cmd, Created: created})
}

func repoID(c *gin.Context) (string, bool) {
	id := c.Param("id")
	if _, err := uuid.Parse(id); err != nil {
		httpx.Fail(c, httpx.ErrNotFound)
		return "", false
	}
	return id, true
}

// repoSnapshots replaces the snapshot list of one repository.
//
//	@Summary		Report a repository's snapshots
//	@Description	Replaces the server's list of snapshots of this repository atomically.
//	@Tags			agent
//	@Accept			json
//	@Produce		json
//	@Security		AgentCredential
//	@Param			id		path		string					true	"repository id"
//	@Param			body	body		protocol.SnapshotReport	true	"all snapshots"
//	@Success		200		{object}	protocol.Empty
//	@Failure		400		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Failure		413		{object}	protocol.Error
//	@Router			/agent/repositories/{id}/snapshots [post]
func (a *API) repoSnapshots(c *gin.Context) {
	id, ok := repoID(c)
	if !ok {
		return
	}
	var rep protocol.SnapshotReport
	if err := httpx.Decode(c, limitSnapshots, &rep); err != nil {
		httpx.Fail(c, err)
		return
	}
	if len(rep.Snapshots) > maxSnapshotsPerReport {
		httpx.Fail(c, httpx.Validation("snapshots: at most %d", maxSnapshotsPerReport))
		return
	}
	for i, s := range rep.Snapshots {
		if !isHex(s.ID) || len(s.ID) < 8 || len(s.ID) > 64 || s.Time.IsZero() {
			httpx.Fail(c, httpx.Validation("snapshots[%d]: id must be 8 to 64 hex digits and time is required", i))
			return
		}
	}
	if err := a.store.ReplaceSnapshots(c.Request.Context(), hostID(c), id, rep); err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, protocol.Empty{OK: true})
}

func isHex(s string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// repoStats appends a sample to a repository's stats history.
//
//	@Summary		Report repository stats
//	@Tags			agent
//	@Accept			json
//	@Produce		json
//	@Security		AgentCredential
//	@Param			id		path		string				true	"repository id"
//	@Param			body	body		protocol.RepoStats	true	"sample"
//	@Success		200		{object}	protocol.Empty
//	@Failure		400		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Router			/agent/repositories/{id}/stats [post]
func (a *API) repoStats(c *gin.Context) {
	id, ok := repoID(c)
	if !ok {
		return
	}
	var st protocol.RepoStats
	if err := httpx.Decode(c, limitSmall, &st); err != nil {
		httpx.Fail(c, err)
		return
	}
	if st.TotalSize < 0 || st.TotalFileCount < 0 || st.SnapshotsCount < 0 || st.TotalBlobCount < 0 || st.TotalUncompressed < 0 {
		httpx.Fail(c, httpx.Validation("sizes and counts may not be negative"))
		return
	}
	if err := a.store.AddRepoStats(c.Request.Context(), hostID(c), id, st); err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, protocol.Empty{OK: true})
}
