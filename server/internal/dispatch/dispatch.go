// Package dispatch performs the state changes that an agent must hear about (a job to
// run or cancel, new schedules or repositories) and publishes the wake-up that sends
// them to the host's long poll, on this server or any replica.
package dispatch

import (
	"context"
	"log/slog"

	"github.com/restic-manager/restic-manager/server/internal/notify"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// Dispatcher wraps the store operations that create news for an agent.
type Dispatcher struct {
	store  *store.Store
	bus    notify.Bus
	logger *slog.Logger
}

// New returns a Dispatcher.
func New(s *store.Store, bus notify.Bus, logger *slog.Logger) *Dispatcher {
	return &Dispatcher{store: s, bus: bus, logger: logger}
}

// publish sends a wake-up. A lost wake-up only delays delivery until the poll's hold
// ends or a later event, so failures are logged, not returned.
func (d *Dispatcher) publish(ctx context.Context, ev notify.Event) {
	if err := d.bus.Publish(context.WithoutCancel(ctx), ev); err != nil {
		d.logger.Warn("dispatch: wake-up not published", "host", ev.HostID, "err", err)
	}
}

// EnqueueRun creates a job and wakes the host's poll.
func (d *Dispatcher) EnqueueRun(ctx context.Context, hostID string, req store.RunRequest) (store.Job, error) {
	if err := ValidateRun(req); err != nil {
		return store.Job{}, err
	}
	job, cmd, err := d.store.EnqueueRun(ctx, hostID, req)
	if err != nil {
		return store.Job{}, err
	}
	d.publish(ctx, notify.Event{HostID: hostID, CommandID: cmd.ID})
	return job, nil
}

// CancelJob cancels a job and wakes the host's poll with the command.cancel.
func (d *Dispatcher) CancelJob(ctx context.Context, hostID, jobID, reason string) (store.Job, error) {
	job, cmd, err := d.store.CancelJob(ctx, hostID, jobID, reason)
	if err != nil {
		return store.Job{}, err
	}
	if cmd != nil {
		d.publish(ctx, notify.Event{HostID: hostID, CommandID: cmd.ID})
	}
	return job, nil
}

// CreateRepository adds a repository; the host's schedule set changes with it.
func (d *Dispatcher) CreateRepository(ctx context.Context, hostID string, in store.RepositoryInput) (store.Repository, error) {
	if err := ValidateRepository(in); err != nil {
		return store.Repository{}, err
	}
	r, err := d.store.CreateRepository(ctx, hostID, in)
	if err != nil {
		return store.Repository{}, err
	}
	d.schedulesChanged(ctx, hostID)
	return r, nil
}

// CreateSchedule validates and adds a schedule.
func (d *Dispatcher) CreateSchedule(ctx context.Context, hostID string, in store.ScheduleInput) (store.Schedule, error) {
	if err := ValidateSchedule(in); err != nil {
		return store.Schedule{}, err
	}
	sc, err := d.store.CreateSchedule(ctx, hostID, in)
	if err != nil {
		return store.Schedule{}, err
	}
	d.schedulesChanged(ctx, hostID)
	return sc, nil
}

// UpdateSchedule validates and replaces a schedule.
func (d *Dispatcher) UpdateSchedule(ctx context.Context, hostID, id string, in store.ScheduleInput) (store.Schedule, error) {
	if err := ValidateSchedule(in); err != nil {
		return store.Schedule{}, err
	}
	sc, err := d.store.UpdateSchedule(ctx, hostID, id, in)
	if err != nil {
		return store.Schedule{}, err
	}
	d.schedulesChanged(ctx, hostID)
	return sc, nil
}

// DeleteSchedule removes a schedule.
func (d *Dispatcher) DeleteSchedule(ctx context.Context, hostID, id string) error {
	if err := d.store.DeleteSchedule(ctx, hostID, id); err != nil {
		return err
	}
	d.schedulesChanged(ctx, hostID)
	return nil
}

func (d *Dispatcher) schedulesChanged(ctx context.Context, hostID string) {
	st, err := d.store.PollState(ctx, hostID)
	if err != nil {
		d.logger.Warn("dispatch: schedule version not read", "host", hostID, "err", err)
		return
	}
	d.publish(ctx, notify.Event{HostID: hostID, ScheduleVersion: st.ScheduleVersion})
}
