package operatorapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/restic-manager/restic-manager/server/internal/dispatch"
	"github.com/restic-manager/restic-manager/server/internal/httpx"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

const (
	previewFires  = 5
	maxListFields = 1000
)

func (a *API) toSchedule(sc store.Schedule) Schedule {
	fires, err := dispatch.NextFires(sc.Cron, sc.Timezone, a.now(), previewFires)
	if err != nil {
		fires = []time.Time{}
	}
	return Schedule{ID: sc.ID, HostID: sc.HostID, RepositoryID: sc.RepositoryID, Name: sc.Name, Kind: sc.Kind, Cron: sc.Cron,
		Timezone: sc.Timezone, Paths: nonNil(sc.Paths), Excludes: nonNil(sc.Excludes), Tags: nonNil(sc.Tags), Retention: sc.Retention,
		Options: sc.Options, PreHook: sc.PreHook, PostHook: sc.PostHook, Enabled: sc.Enabled, Manual: sc.Manual, NextFires: fires,
		CreatedAt: sc.CreatedAt, UpdatedAt: sc.UpdatedAt}
}

func toScheduleInput(in ScheduleInput) (store.ScheduleInput, error) {
	for name, list := range map[string][]string{"paths": in.Paths, "excludes": in.Excludes, "tags": in.Tags} {
		if len(list) > maxListFields {
			return store.ScheduleInput{}, fieldError(name, "at most %d entries", maxListFields)
		}
	}
	if len(in.Cron) > 200 {
		return store.ScheduleInput{}, fieldError("cron", "at most 200 characters")
	}
	enabled := true
	if in.Enabled != nil {
		enabled = *in.Enabled
	}
	return store.ScheduleInput{RepositoryID: in.RepositoryID, Name: strings.TrimSpace(in.Name), Kind: in.Kind, Cron: strings.TrimSpace(in.Cron),
		Timezone: in.Timezone, Paths: in.Paths, Excludes: in.Excludes, Tags: in.Tags, Retention: in.Retention, Options: in.Options,
		PreHook: in.PreHook, PostHook: in.PostHook, Enabled: enabled, Manual: in.Manual}, nil
}

func scheduleInputOf(sc store.Schedule) store.ScheduleInput {
	return store.ScheduleInput{RepositoryID: sc.RepositoryID, Name: sc.Name, Kind: sc.Kind, Cron: sc.Cron, Timezone: sc.Timezone,
		Paths: sc.Paths, Excludes: sc.Excludes, Tags: sc.Tags, Retention: sc.Retention, Options: sc.Options,
		PreHook: sc.PreHook, PostHook: sc.PostHook, Enabled: sc.Enabled, Manual: sc.Manual}
}

// listSchedules lists a host's schedules.
//
//	@Summary		List a host's schedules
//	@Description	Role: viewer. Each with its next five fire times.
//	@Tags			schedules
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"host id"
//	@Success		200	{object}	ScheduleList
//	@Failure		401	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/hosts/{id}/schedules [get]
func (a *API) listSchedules(c *gin.Context) {
	h, ok := a.hostFor(c, false)
	if !ok {
		return
	}
	scs, err := a.store.Schedules(c.Request.Context(), h.ID)
	if err != nil {
		fail(c, err)
		return
	}
	out := ScheduleList{Items: make([]Schedule, len(scs))}
	for i, sc := range scs {
		out.Items[i] = a.toSchedule(sc)
	}
	c.JSON(http.StatusOK, out)
}

func (a *API) scheduleFor(c *gin.Context, writable bool) (store.Host, store.Schedule, bool) {
	h, ok := a.hostFor(c, writable)
	if !ok {
		return h, store.Schedule{}, false
	}
	sid, ok := pathID(c, "sid")
	if !ok {
		return h, store.Schedule{}, false
	}
	sc, err := a.store.Schedule(c.Request.Context(), h.ID, sid)
	if err != nil {
		fail(c, err)
		return h, store.Schedule{}, false
	}
	return h, sc, true
}

// getSchedule shows a schedule.
//
//	@Summary		Get a schedule
//	@Description	Role: viewer.
//	@Tags			schedules
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"host id"
//	@Param			sid	path		string	true	"schedule id"
//	@Success		200	{object}	Schedule
//	@Failure		401	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/hosts/{id}/schedules/{sid} [get]
func (a *API) getSchedule(c *gin.Context) {
	_, sc, ok := a.scheduleFor(c, false)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, a.toSchedule(sc))
}

// createSchedule adds a schedule to a host.
//
//	@Summary		Create a schedule
//	@Description	Role: operator. Validated: cron syntax and time zone, kind, absolute paths, at least one keep rule for forget, hook names. A validation error names the field in details.field. The agent receives the new schedule set on its next poll.
//	@Tags			schedules
//	@Accept			json
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id		path		string			true	"host id"
//	@Param			body	body		ScheduleInput	true	"the schedule"
//	@Success		201		{object}	Schedule
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		403		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error	"host or repository"
//	@Failure		409		{object}	protocol.Error	"host_decommissioned"
//	@Router			/hosts/{id}/schedules [post]
func (a *API) createSchedule(c *gin.Context) {
	h, ok := a.hostFor(c, true)
	if !ok {
		return
	}
	var req ScheduleInput
	if !decode(c, &req) {
		return
	}
	in, err := toScheduleInput(req)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	sc, err := a.disp.CreateSchedule(c.Request.Context(), h.ID, in)
	if err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "schedule.create", "schedule", sc.ID, map[string]any{"host_id": h.ID, "name": sc.Name, "kind": sc.Kind, "cron": sc.Cron})
	c.JSON(http.StatusCreated, a.toSchedule(sc))
}

// replaceSchedule replaces a schedule's settings.
//
//	@Summary		Replace a schedule
//	@Description	Role: operator. The whole schedule is replaced (validated as on create).
//	@Tags			schedules
//	@Accept			json
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id		path		string			true	"host id"
//	@Param			sid		path		string			true	"schedule id"
//	@Param			body	body		ScheduleInput	true	"the schedule"
//	@Success		200		{object}	Schedule
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		403		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Failure		409		{object}	protocol.Error	"host_decommissioned"
//	@Router			/hosts/{id}/schedules/{sid} [put]
func (a *API) replaceSchedule(c *gin.Context) {
	h, sc, ok := a.scheduleFor(c, true)
	if !ok {
		return
	}
	var req ScheduleInput
	if !decode(c, &req) {
		return
	}
	in, err := toScheduleInput(req)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	sc, err = a.disp.UpdateSchedule(c.Request.Context(), h.ID, sc.ID, in)
	if err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "schedule.update", "schedule", sc.ID, map[string]any{"host_id": h.ID, "name": sc.Name, "kind": sc.Kind, "cron": sc.Cron, "enabled": sc.Enabled})
	c.JSON(http.StatusOK, a.toSchedule(sc))
}

// deleteSchedule removes a schedule.
//
//	@Summary		Delete a schedule
//	@Description	Role: operator. Past jobs of the schedule stay.
//	@Tags			schedules
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"host id"
//	@Param			sid	path		string	true	"schedule id"
//	@Success		200	{object}	OK
//	@Failure		401	{object}	protocol.Error
//	@Failure		403	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/hosts/{id}/schedules/{sid} [delete]
func (a *API) deleteSchedule(c *gin.Context) {
	h, sc, ok := a.scheduleFor(c, false)
	if !ok {
		return
	}
	if err := a.disp.DeleteSchedule(c.Request.Context(), h.ID, sc.ID); err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "schedule.delete", "schedule", sc.ID, map[string]any{"host_id": h.ID, "name": sc.Name})
	c.JSON(http.StatusOK, OK{OK: true})
}

// enableSchedule turns a schedule on.
//
//	@Summary		Enable a schedule
//	@Description	Role: operator.
//	@Tags			schedules
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"host id"
//	@Param			sid	path		string	true	"schedule id"
//	@Success		200	{object}	Schedule
//	@Failure		401	{object}	protocol.Error
//	@Failure		403	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/hosts/{id}/schedules/{sid}/enable [post]
func (a *API) enableSchedule(c *gin.Context) { a.setScheduleEnabled(c, true) }

// disableSchedule turns a schedule off.
//
//	@Summary		Disable a schedule
//	@Description	Role: operator. It stays, and can still be run by hand.
//	@Tags			schedules
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"host id"
//	@Param			sid	path		string	true	"schedule id"
//	@Success		200	{object}	Schedule
//	@Failure		401	{object}	protocol.Error
//	@Failure		403	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/hosts/{id}/schedules/{sid}/disable [post]
func (a *API) disableSchedule(c *gin.Context) { a.setScheduleEnabled(c, false) }

func (a *API) setScheduleEnabled(c *gin.Context, enabled bool) {
	h, sc, ok := a.scheduleFor(c, true)
	if !ok {
		return
	}
	if sc.Enabled != enabled {
		in := scheduleInputOf(sc)
		in.Enabled = enabled
		var err error
		if sc, err = a.disp.UpdateSchedule(c.Request.Context(), h.ID, sc.ID, in); err != nil {
			fail(c, err)
			return
		}
	}
	action := "schedule.disable"
	if enabled {
		action = "schedule.enable"
	}
	a.audit(c, action, "schedule", sc.ID, map[string]any{"host_id": h.ID, "name": sc.Name})
	c.JSON(http.StatusOK, a.toSchedule(sc))
}

// previewCron shows the next fire times of a cron expression.
//
//	@Summary		Preview a cron expression
//	@Description	Role: viewer. The next fire times (default 5, at most 50) in a time zone, or 400 validation_failed with details.field "cron" or "timezone".
//	@Tags			schedules
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			cron		query		string	true	"cron expression, e.g. 0 3 * * *"
//	@Param			timezone	query		string	false	"IANA time zone (default UTC)"
//	@Param			count		query		int		false	"how many fire times (1-50, default 5)"
//	@Success		200			{object}	CronPreview
//	@Failure		400			{object}	protocol.Error
//	@Failure		401			{object}	protocol.Error
//	@Router			/schedules/preview [get]
func (a *API) previewCron(c *gin.Context) {
	expr := strings.TrimSpace(c.Query("cron"))
	tz := c.Query("timezone")
	if expr == "" || len(expr) > 200 {
		httpx.Fail(c, fieldError("cron", "required, at most 200 characters"))
		return
	}
	n := previewFires
	if raw := c.Query("count"); raw != "" {
		v, err := strconv.Atoi(raw)
		if err != nil || v < 1 || v > 50 {
			httpx.Fail(c, fieldError("count", "must be an integer from 1 to 50"))
			return
		}
		n = v
	}
	fires, err := dispatch.NextFires(expr, tz, a.now(), n)
	if err != nil {
		field := "cron"
		if strings.HasPrefix(err.Error(), "unknown time zone") {
			field = "timezone"
		}
		httpx.Fail(c, fieldError(field, "%v", err))
		return
	}
	if tz == "" {
		tz = "UTC"
	}
	c.JSON(http.StatusOK, CronPreview{Cron: expr, Timezone: tz, Next: fires})
}
