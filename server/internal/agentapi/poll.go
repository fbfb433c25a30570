package agentapi

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/httpx"
	"github.com/restic-manager/restic-manager/server/internal/hub"
	"github.com/restic-manager/restic-manager/server/internal/notify"
)

const (
	maxCommandsPerPoll = 100
	defaultWait        = 30 * time.Second
	maxWait            = 5 * time.Minute
	// waitMargin keeps the hold below the agent's own timeout.
	waitMargin = 5 * time.Second
)

// poll is the long poll: it answers at once when the host has news, else holds.
//
//	@Summary		Long-poll for work
//	@Description	Held until the host has news (commands after the cursor or with an expired lease, a newer schedule set or config) or the hold ends. Idle polls read only server memory. The hold stays below `wait` minus 5 s.
//	@Tags			agent
//	@Produce		json
//	@Security		AgentCredential
//	@Param			cursor				query		int	false	"highest command id already received"
//	@Param			wait				query		int	false	"seconds the agent will wait for an answer (default 30)"
//	@Param			schedule_version	query		int	false	"schedule set version the agent applied"
//	@Param			config_version		query		int	false	"config version the agent applied"
//	@Success		200					{object}	protocol.PollResponse
//	@Failure		400					{object}	protocol.Error
//	@Failure		401					{object}	protocol.Error
//	@Router			/agent/poll [get]
func (a *API) poll(c *gin.Context) {
	// Authenticated here rather than by the group's middleware: the poll is the hottest
	// route, and needs the host id only in this function (no c.Set, no c.Next).
	id, ok := a.credential(c)
	if !ok {
		return
	}
	q, err := parsePollQuery(c)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	a.lastSeen.Touch(id, time.Now().UTC())

	holdEnd, release := a.holdEnd(q.wait)
	defer release()

	news, unsubscribe := a.hub.Subscribe(id) // before reading state: no change slips between
	defer unsubscribe()

	resp := protocol.PollResponse{Cursor: q.cursor, Commands: []protocol.Command{}, Pacing: a.pacing(a.cfg.PollHold)}
	for {
		st, err := a.hub.State(ctx, id)
		if err != nil {
			httpx.Fail(c, err)
			return
		}
		found, err := a.collect(c, id, st, &q, &resp)
		if err != nil {
			httpx.Fail(c, err)
			return
		}
		if found {
			break
		}
		if !a.wait(ctx, news, holdEnd, st.LeaseDeadline) {
			break
		}
	}
	update := a.cfg.RecommendedAgentVersion != "" && olderThan(a.versions.get(id), a.cfg.RecommendedAgentVersion)
	if len(resp.Commands) == 0 && resp.ScheduleSet == nil && resp.Config == nil && a.idle.ok() {
		c.Render(http.StatusOK, a.idle.render(resp.Cursor, update))
		return
	}
	if update {
		notice := a.updateNotice()
		resp.Update = &notice
	}
	c.JSON(http.StatusOK, resp)
}

// updateNotice is what agents older than the recommended version are told.
func (a *API) updateNotice() protocol.UpdateNotice {
	return protocol.UpdateNotice{LatestVersion: a.cfg.RecommendedAgentVersion,
		PackageSource: a.cfg.AgentPackageSource, Changelog: a.cfg.AgentChangelog}
}

// holdEnd returns a channel closed when an idle poll's hold is over, and a func to call
// when the poll is done. The hold is the configured one less up to 1/16 (jitter, so that
// polls a restart synchronised drift apart), capped by the agent's wait less the margin;
// within that window it ends on a tick of the hold clock (holdclock.go).
func (a *API) holdEnd(wait time.Duration) (<-chan struct{}, func()) {
	hi := min(a.cfg.PollHold, wait-waitMargin)
	if hi <= 0 {
		return a.noHold, func() {}
	}
	lo := min(a.cfg.PollHold-a.cfg.PollHold/16, hi)
	return a.holds.end(time.Now(), lo, min(jitter(a.cfg.PollHold), hi), hi)
}

// wait blocks until there may be news (true) or the hold ends, the server drains or
// the client goes away (false).
func (a *API) wait(ctx context.Context, news, holdEnd <-chan struct{}, lease time.Time) bool {
	var leaseC <-chan time.Time
	if !lease.IsZero() {
		t := time.NewTimer(time.Until(lease) + 10*time.Millisecond)
		defer t.Stop()
		leaseC = t.C
	}
	select {
	case <-news:
		return true
	case <-leaseC:
		return true
	case <-holdEnd:
	case <-a.draining:
	case <-ctx.Done():
	}
	return false
}

// collect gathers what the host should hear now. It touches the database only when the
// in-memory state says there is something to fetch.
func (a *API) collect(c *gin.Context, id string, st hub.State, q *pollQuery, resp *protocol.PollResponse) (bool, error) {
	ctx := c.Request.Context()
	now := time.Now()
	found := false
	leaseDue := !st.LeaseDeadline.IsZero() && !now.Before(st.LeaseDeadline)
	if st.CommandsDirty || st.LastCommandID > q.cursor || leaseDue {
		a.hub.BeginDelivery(id)
		d, err := a.store.DeliverCommands(ctx, id, q.cursor, a.cfg.Lease, maxCommandsPerPoll)
		if err != nil {
			return false, err
		}
		a.hub.SetLease(id, d.NextLease)
		// Everything up to the newest id known before the query is now either delivered,
		// leased or acknowledged: advance the cursor so the same ids do not trigger again.
		q.cursor = max(q.cursor, st.LastCommandID)
		for _, cmd := range d.Commands {
			q.cursor = max(q.cursor, cmd.ID)
		}
		resp.Cursor = q.cursor
		if len(d.Commands) > 0 {
			resp.Commands = append(resp.Commands, d.Commands...)
			found = true
			if len(d.Commands) == maxCommandsPerPoll {
				// More may wait: make the next poll query again at once.
				a.hub.Apply(notify.Event{HostID: id, CommandID: q.cursor})
			}
			// Other replicas must know when these leases expire.
			a.publish(ctx, notify.Event{HostID: id, LeaseUntil: d.NextLease.UnixMilli()})
		}
	}
	if st.ScheduleVersion > q.scheduleVersion {
		set, err := a.store.ScheduleSet(ctx, id)
		if err != nil {
			return false, err
		}
		resp.ScheduleSet = &set
		q.scheduleVersion = set.Version
		found = true
	}
	if st.ConfigVersion > q.configVersion {
		h, err := a.store.Host(ctx, id)
		if err != nil {
			return false, err
		}
		cfg := h.Config
		cfg.Version = h.ConfigVersion
		resp.Config = &cfg
		q.configVersion = h.ConfigVersion
		found = true
	}
	return found, nil
}
