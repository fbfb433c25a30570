package operatorapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/httpx"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

const (
	defaultLogLimit = 1000
	maxLogLimit     = 5000
	maxReasonLen    = 1000
)

var jobStatuses = []string{protocol.JobQueued, protocol.JobRunning, protocol.JobSucceeded, protocol.JobWarning, protocol.JobFailed, protocol.JobCancelled}

// jobActor is who a job is started by: a user, or an API token.
func (a *API) jobActor(c *gin.Context) (string, string) {
	p := principal(c)
	if p.TokenID != "" {
		return store.ActorAPI, p.TokenID
	}
	return store.ActorUser, p.User.ID
}

func sortedStrings(v []string) []string {
	slices.Sort(v)
	return v
}

// listJobs lists jobs.
//
//	@Summary		List jobs
//	@Description	Role: viewer. Newest first, keyset-paginated; filters combine.
//	@Tags			jobs
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			host_id			query		string	false	"host id"
//	@Param			kind			query		string	false	"job kind"	Enums(init, backup, forget, prune, check, unlock, snapshots, stats, restore)
//	@Param			status			query		string	false	"status, or several separated by commas"
//	@Param			schedule_id		query		string	false	"schedule id"
//	@Param			repository_id	query		string	false	"repository id"
//	@Param			since			query		string	false	"created at or after (RFC 3339)"
//	@Param			until			query		string	false	"created before (RFC 3339)"
//	@Param			limit			query		int		false	"page size (1-500, default 50)"
//	@Param			cursor			query		string	false	"next_cursor of the previous page"
//	@Success		200				{object}	JobPage
//	@Failure		400				{object}	protocol.Error
//	@Failure		401				{object}	protocol.Error
//	@Router			/jobs [get]
func (a *API) listJobs(c *gin.Context) {
	pg, ok := page(c)
	if !ok {
		return
	}
	f := store.JobFilter{HostID: c.Query("host_id"), Kind: c.Query("kind"), ScheduleID: c.Query("schedule_id"), RepositoryID: c.Query("repository_id")}
	for name, v := range map[string]string{"host_id": f.HostID, "schedule_id": f.ScheduleID, "repository_id": f.RepositoryID} {
		if len(v) > 64 {
			httpx.Fail(c, fieldError(name, "is not an id"))
			return
		}
	}
	if f.Kind != "" && !slices.Contains(protocol.JobKinds, f.Kind) {
		httpx.Fail(c, fieldError("kind", "must be one of %s", strings.Join(protocol.JobKinds, ", ")))
		return
	}
	if raw := c.Query("status"); raw != "" {
		for _, s := range strings.Split(raw, ",") {
			if !slices.Contains(jobStatuses, s) {
				httpx.Fail(c, fieldError("status", "must be one or more of %s, separated by commas", strings.Join(jobStatuses, ", ")))
				return
			}
			f.Statuses = append(f.Statuses, s)
		}
	}
	if f.Since, ok = queryTime(c, "since"); !ok {
		return
	}
	if f.Until, ok = queryTime(c, "until"); !ok {
		return
	}
	js, next, err := a.store.ListJobs(c.Request.Context(), f, pg)
	if err != nil {
		fail(c, err)
		return
	}
	ids := make([]string, 0, len(js))
	for _, j := range js {
		if !slices.Contains(ids, j.HostID) {
			ids = append(ids, j.HostID)
		}
	}
	names, err := a.store.HostNames(c.Request.Context(), ids)
	if err != nil {
		fail(c, err)
		return
	}
	out := JobPage{Items: make([]Job, len(js)), NextCursor: next}
	for i, j := range js {
		out.Items[i] = toJob(j)
		out.Items[i].HostName = names[j.HostID]
	}
	c.JSON(http.StatusOK, out)
}

func (a *API) jobFor(c *gin.Context) (store.Job, bool) {
	id, ok := pathID(c, "id")
	if !ok {
		return store.Job{}, false
	}
	j, err := a.store.JobByID(c.Request.Context(), id)
	if err != nil {
		fail(c, err)
		return store.Job{}, false
	}
	return j, true
}

// jobWithProgress adds the latest progress to a job.
func (a *API) jobWithProgress(c *gin.Context, j store.Job) (Job, error) {
	out := toJob(j)
	names, err := a.store.HostNames(c.Request.Context(), []string{j.HostID})
	if err != nil {
		return Job{}, err
	}
	out.HostName = names[j.HostID]
	p, err := a.store.Progress(c.Request.Context(), j.ID)
	switch {
	case err == nil:
		out.Progress = &p.Data
	case !errors.Is(err, store.ErrNotFound):
		return Job{}, err
	}
	return out, nil
}

// getJob shows a job with its latest progress.
//
//	@Summary		Get a job
//	@Description	Role: viewer. With the latest progress the agent reported, if any.
//	@Tags			jobs
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"job id"
//	@Success		200	{object}	Job
//	@Failure		401	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/jobs/{id} [get]
func (a *API) getJob(c *gin.Context) {
	j, ok := a.jobFor(c)
	if !ok {
		return
	}
	out, err := a.jobWithProgress(c, j)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// runJob starts an ad-hoc job on a host.
//
//	@Summary		Run a job now
//	@Description	Role: operator. Queues an ad-hoc job on the host; the agent is woken at once. Validated like a schedule (absolute paths, keep rules for forget, hook names).
//	@Tags			jobs
//	@Accept			json
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id		path		string		true	"host id"
//	@Param			body	body		RunRequest	true	"what to run"
//	@Success		202		{object}	Job
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		403		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error	"host or repository"
//	@Failure		409		{object}	protocol.Error	"host_decommissioned"
//	@Router			/hosts/{id}/jobs [post]
func (a *API) runJob(c *gin.Context) {
	h, ok := a.hostFor(c, true)
	if !ok {
		return
	}
	var req RunRequest
	if !decode(c, &req) {
		return
	}
	for name, list := range map[string][]string{"paths": req.Paths, "excludes": req.Excludes, "tags": req.Tags} {
		if len(list) > maxListFields {
			httpx.Fail(c, fieldError(name, "at most %d entries", maxListFields))
			return
		}
	}
	if req.RepositoryID == "" {
		httpx.Fail(c, fieldError("repository_id", "required"))
		return
	}
	typ, id := a.jobActor(c)
	j, err := a.disp.EnqueueRun(c.Request.Context(), h.ID, store.RunRequest{Kind: req.Kind, RepositoryID: req.RepositoryID,
		ActorType: typ, ActorID: id, Paths: req.Paths, Excludes: req.Excludes, Tags: req.Tags, Retention: req.Retention,
		Options: req.Options, PreHook: req.PreHook, PostHook: req.PostHook})
	if err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "job.run", "job", j.ID, map[string]any{"host_id": h.ID, "kind": j.Kind, "repository_id": req.RepositoryID})
	c.JSON(http.StatusAccepted, toJob(j))
}

// runSchedule runs a schedule now.
//
//	@Summary		Run a schedule now
//	@Description	Role: operator. Queues a job with the schedule's settings, whether the schedule is enabled or not.
//	@Tags			jobs
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"host id"
//	@Param			sid	path		string	true	"schedule id"
//	@Success		202	{object}	Job
//	@Failure		401	{object}	protocol.Error
//	@Failure		403	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Failure		409	{object}	protocol.Error	"host_decommissioned"
//	@Router			/hosts/{id}/schedules/{sid}/run [post]
func (a *API) runSchedule(c *gin.Context) {
	h, sc, ok := a.scheduleFor(c, true)
	if !ok {
		return
	}
	typ, id := a.jobActor(c)
	j, err := a.disp.EnqueueRun(c.Request.Context(), h.ID, store.RunRequest{Kind: sc.Kind, RepositoryID: sc.RepositoryID, ScheduleID: sc.ID,
		ActorType: typ, ActorID: id, Paths: sc.Paths, Excludes: sc.Excludes, Tags: sc.Tags, Retention: sc.Retention,
		Options: sc.Options, PreHook: sc.PreHook, PostHook: sc.PostHook})
	if err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "schedule.run", "job", j.ID, map[string]any{"host_id": h.ID, "schedule_id": sc.ID, "kind": j.Kind})
	c.JSON(http.StatusAccepted, toJob(j))
}

// cancelJob cancels a job.
//
//	@Summary		Cancel a job
//	@Description	Role: operator. A queued job is cancelled at once; a running one is asked to stop (cancel_requested_at is set and the agent is woken). A finished job answers 409 job_finished. The body is optional.
//	@Tags			jobs
//	@Accept			json
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id		path		string			true	"job id"
//	@Param			body	body		CancelRequest	false	"reason"
//	@Success		200		{object}	Job
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		403		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Failure		409		{object}	protocol.Error	"job_finished"
//	@Router			/jobs/{id}/cancel [post]
func (a *API) cancelJob(c *gin.Context) {
	j, ok := a.jobFor(c)
	if !ok {
		return
	}
	var req CancelRequest
	if !decodeOptional(c, &req) {
		return
	}
	if len(req.Reason) > maxReasonLen {
		httpx.Fail(c, fieldError("reason", "at most %d characters", maxReasonLen))
		return
	}
	_, _, who := principal(c).Actor()
	reason := "cancelled by " + who
	if req.Reason != "" {
		reason += ": " + req.Reason
	}
	j, err := a.disp.CancelJob(c.Request.Context(), j.HostID, j.ID, reason)
	if err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "job.cancel", "job", j.ID, map[string]any{"host_id": j.HostID, "reason": req.Reason})
	c.JSON(http.StatusOK, toJob(j))
}

// jobLogs returns a range of a job's log.
//
//	@Summary		Read a job's log
//	@Description	Role: viewer. Lines with after < seq <= until (until 0 or absent: no bound), in order, at most limit. When the page is full, next_cursor is the seq to pass as after for the next range.
//	@Tags			jobs
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id		path		string	true	"job id"
//	@Param			after	query		int		false	"seq after which to start (default 0)"
//	@Param			until	query		int		false	"last seq to include"
//	@Param			limit	query		int		false	"lines (1-5000, default 1000)"
//	@Success		200		{object}	LogPage
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Router			/jobs/{id}/logs [get]
func (a *API) jobLogs(c *gin.Context) {
	j, ok := a.jobFor(c)
	if !ok {
		return
	}
	var after, until int64
	limit := defaultLogLimit
	for _, q := range []struct {
		name string
		dst  *int64
	}{{"after", &after}, {"until", &until}} {
		if raw := c.Query(q.name); raw != "" {
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil || n < 0 {
				httpx.Fail(c, fieldError(q.name, "must be a non-negative integer"))
				return
			}
			*q.dst = n
		}
	}
	if raw := c.Query("cursor"); raw != "" && c.Query("after") == "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 {
			httpx.Fail(c, fieldError("cursor", "is not one this server issued"))
			return
		}
		after = n
	}
	if raw := c.Query("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxLogLimit {
			httpx.Fail(c, fieldError("limit", "must be an integer from 1 to %d", maxLogLimit))
			return
		}
		limit = n
	}
	ls, err := a.store.LogRange(c.Request.Context(), j.ID, after, until, limit)
	if err != nil {
		fail(c, err)
		return
	}
	out := LogPage{Items: toLogLines(ls)}
	if len(ls) == limit {
		out.NextCursor = strconv.FormatInt(ls[len(ls)-1].Seq, 10)
	}
	c.JSON(http.StatusOK, out)
}

// jobEvents follows a job live with Server-Sent Events.
//
//	@Summary		Follow a job live (Server-Sent Events)
//	@Description	Role: viewer. A text/event-stream of: "job" (the Job, at the start and whenever its status changes), "log" (a LogLine; the event id is its seq), "progress" (protocol.Progress), and finally "end" (the finished Job) once the job is finished and its log is drained. Resume with the Last-Event-ID header or ?after=seq. Comments are sent every 15 s to keep proxies from cutting the stream. Works with EventSource and the session cookie.
//	@Tags			jobs
//	@Produce		text/event-stream
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id				path		string	true	"job id"
//	@Param			after			query		int		false	"seq after which to start"
//	@Param			Last-Event-ID	header		string	false	"seq after which to resume"
//	@Success		200				{string}	string	"event stream"
//	@Failure		401				{object}	protocol.Error
//	@Failure		404				{object}	protocol.Error
//	@Router			/jobs/{id}/events [get]
func (a *API) jobEvents(c *gin.Context) {
	j, ok := a.jobFor(c)
	if !ok {
		return
	}
	var after int64
	for _, raw := range []string{c.GetHeader("Last-Event-ID"), c.Query("after")} {
		if raw == "" {
			continue
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 {
			httpx.Fail(c, fieldError("after", "must be a non-negative integer"))
			return
		}
		after = n
		break
	}
	ctx := c.Request.Context()
	rc := http.NewResponseController(c.Writer)
	w := c.Writer
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)

	send := func(event, id string, v any) error {
		// Each write gets its own deadline, so the stream outlives the server's write timeout.
		_ = rc.SetWriteDeadline(time.Now().Add(time.Minute))
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if id != "" {
			if _, err := fmt.Fprintf(w, "id: %s\n", id); err != nil {
				return err
			}
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data); err != nil {
			return err
		}
		return rc.Flush()
	}
	jobView, err := a.jobWithProgress(c, j)
	if err != nil {
		_ = send("error", "", map[string]string{"message": "internal error"})
		return
	}
	if err := send("job", "", jobView); err != nil {
		return
	}
	lastStatus, lastProgress := j.Status, time.Time{}
	if p, err := a.store.Progress(ctx, j.ID); err == nil {
		lastProgress = p.UpdatedAt
	}
	poll := time.NewTicker(a.cfg.StreamPoll)
	defer poll.Stop()
	beat := time.NewTicker(a.cfg.StreamHeartbeat)
	defer beat.Stop()
	for {
		// Read the job before the logs: a job seen finished has all its lines stored
		// (the agent sends them before its finish), so draining after it is complete.
		cur, err := a.store.JobByID(ctx, j.ID)
		if err != nil {
			return
		}
		for {
			ls, err := a.store.LogRange(ctx, j.ID, after, 0, defaultLogLimit)
			if err != nil {
				return
			}
			for _, l := range toLogLines(ls) {
				if err := send("log", strconv.FormatInt(l.Seq, 10), l); err != nil {
					return
				}
				after = l.Seq
			}
			if len(ls) < defaultLogLimit {
				break
			}
		}
		if p, err := a.store.Progress(ctx, j.ID); err == nil && p.UpdatedAt.After(lastProgress) && !protocol.IsTerminal(cur.Status) {
			lastProgress = p.UpdatedAt
			if err := send("progress", "", p.Data); err != nil {
				return
			}
		}
		if cur.Status != lastStatus {
			lastStatus = cur.Status
			view := toJob(cur)
			view.HostName = jobView.HostName
			if err := send("job", "", view); err != nil {
				return
			}
		}
		if protocol.IsTerminal(cur.Status) {
			view := toJob(cur)
			view.HostName = jobView.HostName
			_ = send("end", "", view)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			_ = rc.SetWriteDeadline(time.Now().Add(time.Minute))
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		case <-poll.C:
		}
	}
}
