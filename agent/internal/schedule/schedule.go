// Package schedule runs the host's schedule set locally with gocron: it reconciles
// gocron jobs with each new set (add, update, remove; disabled and manual schedules
// never fire) and calls back on every tick with the tick's scheduled time.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// Tick is one fire of a schedule.
type Tick struct {
	Schedule     protocol.Schedule
	ScheduledFor time.Time
	// CatchUp marks a tick that passed while the agent was not running.
	CatchUp bool
}

// FireFunc handles a tick. It is called on its own goroutine and may block.
type FireFunc func(ctx context.Context, t Tick)

type entry struct {
	schedule protocol.Schedule
	cron     *Cron
	jobID    uuid.UUID
}

// Scheduler owns a gocron scheduler.
type Scheduler struct {
	ctx    context.Context
	fire   FireFunc
	logger *slog.Logger
	gc     gocron.Scheduler

	mu      sync.Mutex
	entries map[string]*entry
}

// New starts a scheduler whose ticks call fire with ctx.
func New(ctx context.Context, fire FireFunc, logger *slog.Logger) (*Scheduler, error) {
	gc, err := gocron.NewScheduler()
	if err != nil {
		return nil, fmt.Errorf("create scheduler: %w", err)
	}
	gc.Start()
	return &Scheduler{ctx: ctx, fire: fire, logger: logger, gc: gc, entries: map[string]*entry{}}, nil
}

// Shutdown stops the scheduler; running tick handlers are not waited for.
func (s *Scheduler) Shutdown() error {
	return s.gc.Shutdown()
}

// Active reports whether a schedule fires on its own.
func Active(sc protocol.Schedule) bool { return sc.Enabled && !sc.Manual }

// Apply reconciles the gocron jobs with a schedule set. Schedules with a bad cron
// expression or time zone are skipped and reported in the error; the others apply.
func (s *Scheduler) Apply(set *protocol.ScheduleSet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	want := map[string]bool{}
	for _, sc := range set.Schedules {
		if !Active(sc) {
			continue
		}
		c, err := ParseCron(sc.Cron, sc.Timezone)
		if err != nil {
			errs = append(errs, fmt.Errorf("schedule %s (%s): %w", sc.Name, sc.ID, err))
			continue
		}
		want[sc.ID] = true
		old, ok := s.entries[sc.ID]
		if ok && old.schedule.Cron == sc.Cron && old.schedule.Timezone == sc.Timezone {
			old.schedule = sc // other fields are read at tick time
			continue
		}
		id := sc.ID
		// The crontab is parsed by c (WithCronImplementation); gocron only stores it.
		def := gocron.CronJob(sc.Cron, true)
		task := gocron.NewTask(func() { s.tick(id) })
		name := sc.Name
		if name == "" {
			name = sc.ID
		}
		opts := []gocron.JobOption{
			gocron.WithName(name),
			gocron.WithTags(sc.ID),
			gocron.WithCronImplementation(c),
			gocron.WithSingletonMode(gocron.LimitModeReschedule),
		}
		if ok {
			if _, err := s.gc.Update(old.jobID, def, task, opts...); err != nil {
				errs = append(errs, fmt.Errorf("schedule %s (%s): %w", sc.Name, sc.ID, err))
				continue
			}
			old.schedule, old.cron = sc, c
			s.logger.Info("schedule updated", "schedule_id", sc.ID, "name", sc.Name, "cron", sc.Cron, "timezone", sc.Timezone)
			continue
		}
		j, err := s.gc.NewJob(def, task, opts...)
		if err != nil {
			errs = append(errs, fmt.Errorf("schedule %s (%s): %w", sc.Name, sc.ID, err))
			continue
		}
		s.entries[sc.ID] = &entry{schedule: sc, cron: c, jobID: j.ID()}
		s.logger.Info("schedule added", "schedule_id", sc.ID, "name", sc.Name, "cron", sc.Cron, "timezone", sc.Timezone)
	}
	for id, e := range s.entries {
		if want[id] {
			continue
		}
		if err := s.gc.RemoveJob(e.jobID); err != nil && !errors.Is(err, gocron.ErrJobNotFound) {
			errs = append(errs, fmt.Errorf("remove schedule %s: %w", id, err))
		}
		delete(s.entries, id)
		s.logger.Info("schedule removed", "schedule_id", id, "name", e.schedule.Name)
	}
	return errors.Join(errs...)
}

// tick runs on gocron's goroutine when a schedule fires.
func (s *Scheduler) tick(id string) {
	now := time.Now()
	s.mu.Lock()
	e, ok := s.entries[id]
	var t Tick
	if ok {
		at, found := e.cron.Latest(now.Add(-time.Hour), now.Add(time.Second))
		if !found {
			at = now.Truncate(time.Second)
		}
		t = Tick{Schedule: e.schedule, ScheduledFor: at.UTC()}
	}
	s.mu.Unlock()
	if !ok || s.ctx.Err() != nil {
		return
	}
	s.fire(s.ctx, t)
}

// Missed returns, for each active schedule, the latest tick in (last, now] when the
// schedule has a recorded last tick and CatchUp is not false: the ticks that passed
// while the agent was not running, at most one per schedule.
func (s *Scheduler) Missed(last func(scheduleID string) (time.Time, bool), now time.Time) []Tick {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Tick
	for id, e := range s.entries {
		if o := e.schedule.Options; o != nil && o.CatchUp != nil && !*o.CatchUp {
			continue
		}
		l, ok := last(id)
		if !ok {
			continue
		}
		if at, found := e.cron.Latest(l, now); found {
			out = append(out, Tick{Schedule: e.schedule, ScheduledFor: at.UTC(), CatchUp: true})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ScheduledFor.Before(out[j].ScheduledFor) })
	return out
}

// Info is what the scheduler knows about one active schedule.
type Info struct {
	Schedule protocol.Schedule
	NextRun  time.Time
}

// Schedules lists the active schedules with their next run, by id.
func (s *Scheduler) Schedules() []Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Info, 0, len(s.entries))
	for _, e := range s.entries {
		out = append(out, Info{Schedule: e.schedule, NextRun: e.cron.Next(time.Now())})
	}
	slices.SortFunc(out, func(a, b Info) int { return strings.Compare(a.Schedule.ID, b.Schedule.ID) })
	return out
}

// JobCount is the number of gocron jobs (for tests).
func (s *Scheduler) JobCount() int { return len(s.gc.Jobs()) }
