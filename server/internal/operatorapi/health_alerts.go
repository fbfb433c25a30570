package operatorapi

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/restic-manager/restic-manager/server/internal/httpx"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// NotificationTester sends a channel's test message (implemented by
// *notifications.Notifier).
type NotificationTester interface {
	SendTest(ctx context.Context, channelID string) (store.NotificationDelivery, error)
}

const maxObjective = 366 * 24 * time.Hour

// registerHealth mounts the fleet-health routes: viewers read, operators manage.
func (a *API) registerHealth(view, op *gin.RouterGroup) {
	view.GET("/health/summary", a.healthSummary)
	view.GET("/health/hosts", a.listHostHealth)
	view.GET("/hosts/:id/health", a.getHostHealth)
	view.GET("/alerts", a.listAlerts)
	view.GET("/alerts/:id", a.getAlert)
	view.GET("/notification-channels", a.listChannels)
	view.GET("/notification-channels/:id", a.getChannel)
	view.GET("/notification-rules", a.listRules)
	view.GET("/notification-rules/:id", a.getRule)
	view.GET("/notification-deliveries", a.listDeliveries)
	view.GET("/notification-deliveries/:id", a.getDelivery)
	view.GET("/hosts/:id/schedules/:sid/ping", a.getSchedulePing)

	op.PUT("/hosts/:id/objective", a.setObjective)
	op.DELETE("/hosts/:id/objective", a.clearObjective)
	op.POST("/notification-channels", a.createChannel)
	op.PUT("/notification-channels/:id", a.replaceChannel)
	op.DELETE("/notification-channels/:id", a.deleteChannel)
	op.POST("/notification-channels/:id/test", a.testChannel)
	op.POST("/notification-rules", a.createRule)
	op.PUT("/notification-rules/:id", a.replaceRule)
	op.DELETE("/notification-rules/:id", a.deleteRule)
	op.PUT("/hosts/:id/schedules/:sid/ping", a.setSchedulePing)
	op.DELETE("/hosts/:id/schedules/:sid/ping", a.deleteSchedulePing)
}

// healthSummary counts hosts by objective state and the open alerts.
//
//	@Summary		Fleet health summary
//	@Description	Role: viewer. Hosts (not decommissioned) by backup objective state, open alerts by condition and severity, and when the fleet was last evaluated.
//	@Tags			health
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Success		200	{object}	HealthSummary
//	@Failure		401	{object}	protocol.Error
//	@Router			/health/summary [get]
func (a *API) healthSummary(c *gin.Context) {
	s, err := a.store.HealthSummary(c.Request.Context())
	if err != nil {
		fail(c, err)
		return
	}
	out := HealthSummary{Hosts: s.States, OpenAlertsByCond: map[string]int64{}, OpenAlertsBySeverity: map[string]int64{}}
	for _, sev := range store.Severities {
		out.OpenAlertsBySeverity[sev] = 0
	}
	for cond, bySev := range s.OpenAlerts {
		out.OpenAlertsByCond[cond] += 0
		for sev, n := range bySev {
			out.OpenAlerts += n
			out.OpenAlertsByCond[cond] += n
			out.OpenAlertsBySeverity[sev] += n
		}
	}
	if !s.LastRound.IsZero() {
		t := s.LastRound
		out.EvaluatedAt = &t
	}
	c.JSON(http.StatusOK, out)
}

// listHostHealth lists hosts with their health.
//
//	@Summary		List hosts with their backup objective state
//	@Description	Role: viewer. Hosts that are not decommissioned, by name, keyset-paginated, each with its objective, state and open alerts. Filter by objective state or by a condition with an open alert.
//	@Tags			health
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			state		query		string	false	"objective state"	Enums(ok, at_risk, violated, none, unknown)
//	@Param			condition	query		string	false	"hosts with an open alert of this condition"	Enums(backup_objective, agent_offline, repository_locked, check_failed, restic_outdated)
//	@Param			limit		query		int		false	"page size (1-500, default 50)"
//	@Param			cursor		query		string	false	"next_cursor of the previous page"
//	@Success		200			{object}	HostHealthPage
//	@Failure		400			{object}	protocol.Error
//	@Failure		401			{object}	protocol.Error
//	@Router			/health/hosts [get]
func (a *API) listHostHealth(c *gin.Context) {
	pg, ok := page(c)
	if !ok {
		return
	}
	f := store.HostHealthFilter{State: c.Query("state"), Condition: c.Query("condition")}
	if f.State != "" && !slices.Contains(store.ObjectiveStates, f.State) {
		httpx.Fail(c, fieldError("state", "must be one of %s", strings.Join(store.ObjectiveStates, ", ")))
		return
	}
	if f.Condition != "" && !slices.Contains(store.Conditions, f.Condition) {
		httpx.Fail(c, fieldError("condition", "must be one of %s", strings.Join(store.Conditions, ", ")))
		return
	}
	rows, next, err := a.store.ListHostHealth(c.Request.Context(), f, pg)
	if err != nil {
		fail(c, err)
		return
	}
	out := HostHealthPage{Items: make([]HostHealth, len(rows)), NextCursor: next}
	since := a.onlineSince()
	for i, r := range rows {
		out.Items[i] = toHostHealth(r, since)
	}
	c.JSON(http.StatusOK, out)
}

// getHostHealth shows a host's health.
//
//	@Summary		Get a host's backup objective and state
//	@Description	Role: viewer. The objective (derived from the host's backup schedules — twice the longest interval between runs plus slack — unless overridden), the state as last evaluated, the last successful backup and the open alerts.
//	@Tags			health
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"host id"
//	@Success		200	{object}	HostHealth
//	@Failure		401	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/hosts/{id}/health [get]
func (a *API) getHostHealth(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	a.answerHostHealth(c, id, http.StatusOK)
}

func (a *API) answerHostHealth(c *gin.Context, hostID string, status int) {
	r, err := a.store.HostHealthOf(c.Request.Context(), hostID)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(status, toHostHealth(r, a.onlineSince()))
}

// setObjective overrides a host's backup objective.
//
//	@Summary		Override a host's backup objective
//	@Description	Role: operator. The host's last successful backup may be at most max_age_seconds old; past 75% of it the host is at risk, past it the objective is violated. Applies from the next evaluation round.
//	@Tags			health
//	@Accept			json
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id		path		string			true	"host id"
//	@Param			body	body		ObjectiveInput	true	"the objective"
//	@Success		200		{object}	HostHealth
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		403		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Failure		409		{object}	protocol.Error	"host_decommissioned"
//	@Router			/hosts/{id}/objective [put]
func (a *API) setObjective(c *gin.Context) {
	h, ok := a.hostFor(c, true)
	if !ok {
		return
	}
	var req ObjectiveInput
	if !decode(c, &req) {
		return
	}
	d := time.Duration(req.MaxAgeSeconds) * time.Second
	if req.MaxAgeSeconds < 60 || d > maxObjective {
		httpx.Fail(c, fieldError("max_age_seconds", "must be from 60 to %d", int64(maxObjective/time.Second)))
		return
	}
	_, actorID, actorName := principal(c).Actor()
	if _, err := a.store.SetObjective(c.Request.Context(), h.ID, d, actorName+" ("+actorID+")"); err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "host.objective.set", "host", h.ID, map[string]any{"max_age_seconds": req.MaxAgeSeconds})
	a.answerHostHealth(c, h.ID, http.StatusOK)
}

// clearObjective removes a host's override.
//
//	@Summary		Remove a host's objective override
//	@Description	Role: operator. The objective is derived from the host's backup schedules again.
//	@Tags			health
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"host id"
//	@Success		200	{object}	HostHealth
//	@Failure		401	{object}	protocol.Error
//	@Failure		403	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error	"unknown host, or no override"
//	@Router			/hosts/{id}/objective [delete]
func (a *API) clearObjective(c *gin.Context) {
	h, ok := a.hostFor(c, false)
	if !ok {
		return
	}
	if err := a.store.DeleteObjective(c.Request.Context(), h.ID); err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "host.objective.clear", "host", h.ID, nil)
	a.answerHostHealth(c, h.ID, http.StatusOK)
}

// listAlerts lists alerts.
//
//	@Summary		List alerts
//	@Description	Role: viewer. Open and resolved alerts (the history), most recently opened first; filters combine. There is at most one open alert per host and condition.
//	@Tags			health
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			state		query		string	false	"open or resolved (default both)"	Enums(open, resolved)
//	@Param			host_id		query		string	false	"host id"
//	@Param			condition	query		string	false	"condition"	Enums(backup_objective, agent_offline, repository_locked, check_failed, restic_outdated)
//	@Param			severity	query		string	false	"severity"	Enums(info, warning, critical)
//	@Param			limit		query		int		false	"page size (1-500, default 50)"
//	@Param			cursor		query		string	false	"next_cursor of the previous page"
//	@Success		200			{object}	AlertPage
//	@Failure		400			{object}	protocol.Error
//	@Failure		401			{object}	protocol.Error
//	@Router			/alerts [get]
func (a *API) listAlerts(c *gin.Context) {
	pg, ok := page(c)
	if !ok {
		return
	}
	f := store.AlertFilter{State: c.Query("state"), HostID: c.Query("host_id"), Condition: c.Query("condition"), Severity: c.Query("severity")}
	switch {
	case f.State != "" && f.State != store.AlertOpen && f.State != store.AlertResolved:
		httpx.Fail(c, fieldError("state", "must be open or resolved"))
		return
	case f.Condition != "" && !slices.Contains(store.Conditions, f.Condition):
		httpx.Fail(c, fieldError("condition", "must be one of %s", strings.Join(store.Conditions, ", ")))
		return
	case f.Severity != "" && !slices.Contains(store.Severities, f.Severity):
		httpx.Fail(c, fieldError("severity", "must be one of %s", strings.Join(store.Severities, ", ")))
		return
	case len(f.HostID) > 64:
		httpx.Fail(c, fieldError("host_id", "is not an id"))
		return
	}
	as, next, err := a.store.ListAlerts(c.Request.Context(), f, pg)
	if err != nil {
		fail(c, err)
		return
	}
	ids := make([]string, 0, len(as))
	for _, al := range as {
		ids = append(ids, al.HostID)
	}
	names, err := a.store.HostNames(c.Request.Context(), ids)
	if err != nil {
		fail(c, err)
		return
	}
	out := AlertPage{Items: make([]Alert, len(as)), NextCursor: next}
	for i, al := range as {
		out.Items[i] = toAlert(al, names[al.HostID])
	}
	c.JSON(http.StatusOK, out)
}

// getAlert shows an alert.
//
//	@Summary		Get an alert
//	@Description	Role: viewer.
//	@Tags			health
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"alert id"
//	@Success		200	{object}	Alert
//	@Failure		401	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/alerts/{id} [get]
func (a *API) getAlert(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	al, err := a.store.AlertByID(c.Request.Context(), id)
	if err != nil {
		fail(c, err)
		return
	}
	names, err := a.store.HostNames(c.Request.Context(), []string{al.HostID})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toAlert(al, names[al.HostID]))
}
