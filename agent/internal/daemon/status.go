package daemon

import (
	"context"
	"os"
	"sync"
	"time"

	"github.com/restic-manager/restic-manager/agent/internal/state"
)

// statusKeeper maintains the status file that "agent status" reads.
type statusKeeper struct {
	d    *Daemon
	mu   sync.Mutex
	st   state.Status
	wake chan struct{}
}

func newStatusKeeper(d *Daemon) *statusKeeper {
	now := time.Now().UTC()
	return &statusKeeper{
		d: d,
		st: state.Status{
			PID: os.Getpid(), AgentVersion: d.cfg.AgentVersion, ServerURL: d.cfg.ServerURL, HostID: d.cfg.HostID,
			StartedAt: now, State: state.StateStarting,
		},
		wake: make(chan struct{}, 1),
	}
}

// set changes the status; the file follows within a moment.
func (k *statusKeeper) set(f func(*state.Status)) {
	k.mu.Lock()
	f(&k.st)
	k.mu.Unlock()
	k.signal()
}

func (k *statusKeeper) signal() {
	select {
	case k.wake <- struct{}{}:
	default:
	}
}

// kick asks for a rewrite (jobs or spool changed).
func (k *statusKeeper) kick() { k.signal() }

func (k *statusKeeper) loop(ctx context.Context) {
	k.write()
	for {
		t := time.NewTimer(k.d.cfg.StatusInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-k.wake:
			// Coalesce bursts of changes.
			sleep(ctx, 200*time.Millisecond)
		case <-t.C:
		}
		t.Stop()
		k.write()
	}
}

// write refreshes the live parts and writes the file.
func (k *statusKeeper) write() {
	d := k.d
	var running, queued []state.JobStatus
	if d.queues != nil {
		running, queued = d.queues.snapshot()
	}
	var schedules []state.ScheduleStatus
	if d.sched != nil {
		for _, info := range d.sched.Schedules() {
			s := state.ScheduleStatus{ID: info.Schedule.ID, Name: info.Schedule.Name, Kind: info.Schedule.Kind,
				Cron: info.Schedule.Cron, Timezone: info.Schedule.Timezone}
			if !info.NextRun.IsZero() {
				n := info.NextRun.UTC()
				s.NextRun = &n
			}
			if l, ok := d.fires.Last(info.Schedule.ID); ok {
				s.LastFire = &l
			}
			schedules = append(schedules, s)
		}
	}
	k.mu.Lock()
	k.st.UpdatedAt = time.Now().UTC()
	k.st.Running, k.st.Queued, k.st.Schedules = running, queued, schedules
	k.st.ScheduleVersion = d.scheduleVersion()
	d.statusSpool(&k.st)
	snap := k.st
	k.mu.Unlock()
	if err := d.store.WriteStatus(&snap); err != nil {
		d.log.Debug("cannot write status file", "error", err)
	}
}
