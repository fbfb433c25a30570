// Package daemon is the agent service: it says hello, long-polls the server for
// commands and desired state, runs restic jobs one at a time per repository, runs the
// schedules locally (also while the server is unreachable), and delivers every report,
// spooling on disk what cannot be delivered and flushing it in order later.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/restic-manager/restic-manager/agent/internal/client"
	"github.com/restic-manager/restic-manager/agent/internal/hooks"
	"github.com/restic-manager/restic-manager/agent/internal/restic"
	"github.com/restic-manager/restic-manager/agent/internal/schedule"
	"github.com/restic-manager/restic-manager/agent/internal/spool"
	"github.com/restic-manager/restic-manager/agent/internal/state"
	"github.com/restic-manager/restic-manager/common/protocol"
)

// ErrRevoked means the server rejected the credential: the host must be enrolled again.
var ErrRevoked = errors.New("the server rejected the agent's credential (revoked or unknown host): re-enrol with 'agent enroll'")

// ErrProtocol means the server and the agent share no protocol version.
var ErrProtocol = errors.New("the server does not speak this agent's protocol version: upgrade the agent or the server")

// Runner runs restic; *restic.Runner satisfies it.
type Runner interface {
	Version(ctx context.Context) (restic.Version, error)
	Run(ctx context.Context, spec protocol.RunSpec, ev restic.Events) (restic.Result, error)
}

// API is the part of the server API the daemon uses; *client.Client satisfies it.
type API interface {
	Hello(ctx context.Context, req protocol.HelloRequest) (protocol.HelloResponse, error)
	Poll(ctx context.Context, q client.PollQuery) (protocol.PollResponse, error)
	CommandResult(ctx context.Context, commandID int64, r protocol.CommandResult) error
	JobStart(ctx context.Context, jobID string, r protocol.JobStart) (protocol.JobState, error)
	JobProgress(ctx context.Context, jobID string, p protocol.Progress) (protocol.JobState, error)
	JobLogs(ctx context.Context, jobID string, b protocol.LogBatch) (protocol.LogBatchResult, error)
	JobFinish(ctx context.Context, jobID string, f protocol.JobFinish) (protocol.JobState, error)
	ScheduleFire(ctx context.Context, scheduleID string, f protocol.ScheduleFire) (protocol.ScheduleFireResponse, error)
	ScheduleAck(ctx context.Context, a protocol.ScheduleAck) error
	RepoSnapshots(ctx context.Context, repoID string, r protocol.SnapshotReport) error
	RepoStats(ctx context.Context, repoID string, s protocol.RepoStats) error
}

// Hooks runs local hooks by name; *hooks.Runner satisfies it.
type Hooks interface {
	Has(name string) bool
	Names() []string
	Run(ctx context.Context, name string, env []string, out hooks.Output) error
}

// Config holds the daemon's identity and tunables. Zero durations take defaults.
type Config struct {
	HostID       string
	ServerURL    string // shown in the status file only
	Hostname     string
	OS, Arch     string
	AgentVersion string

	// StartupJitter is the largest random delay before the first hello (default 10 s).
	// A negative value disables it.
	StartupJitter time.Duration
	// FireBudget is how long a schedule tick tries to reach the server before the job
	// runs offline (default 15 s).
	FireBudget time.Duration
	// ReportBudget bounds one attempt to deliver a report before it is spooled
	// (default 20 s); FinishBudget does the same for a job's finish (default 2 min).
	ReportBudget, FinishBudget time.Duration
	// FlushInterval is how often the spool is retried while it is not empty (default 30 s).
	FlushInterval time.Duration
	// ReconnectMax caps the backoff between failed polls (default 60 s).
	ReconnectMax time.Duration
	// ShutdownGrace is how long running jobs get to stop and report on shutdown (default 60 s).
	ShutdownGrace time.Duration
	// StatusInterval is how often the status file is rewritten (default 5 s).
	StatusInterval time.Duration
	// SpoolMaxBytes bounds the spool (default 256 MiB).
	SpoolMaxBytes int64
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.StartupJitter, 10*time.Second)
	def(&c.FireBudget, 15*time.Second)
	def(&c.ReportBudget, 20*time.Second)
	def(&c.FinishBudget, 2*time.Minute)
	def(&c.FlushInterval, 30*time.Second)
	def(&c.ReconnectMax, 60*time.Second)
	def(&c.ShutdownGrace, 60*time.Second)
	def(&c.StatusInterval, 5*time.Second)
}

// Deps are the daemon's collaborators.
type Deps struct {
	API    API
	Runner Runner
	Hooks  Hooks
	// Validate checks a run spec before it is accepted (restic.ValidateSpec).
	Validate func(protocol.RunSpec) error
	Store    *state.Store
	Logger   *slog.Logger
	// Level, when set, follows the log level of the server-side agent config.
	Level *slog.LevelVar
	// NewID makes job ids for schedule fires (default: random UUIDs).
	NewID func() string
}

// Daemon is the agent service. Create it with New and call Run once.
type Daemon struct {
	cfg      Config
	api      API
	runner   Runner
	hooks    Hooks
	validate func(protocol.RunSpec) error
	store    *state.Store
	log      *slog.Logger
	level    *slog.LevelVar
	newID    func() string

	commands *state.Commands
	fires    *state.Fires
	spool    *spool.Spool
	sched    *schedule.Scheduler
	queues   *queues
	browse   browseOps // browse operations (browse.go)
	pacing   *pacing
	status   *statusKeeper

	// rctx carries reports; it outlives the run context by the shutdown grace.
	rctx context.Context
	// jctx is the parent of every job's context; cancelled on shutdown.
	jctx context.Context

	mu          sync.Mutex
	online      bool
	schedSet    *protocol.ScheduleSet
	cfgVersion  int64
	fatal       error
	fatalCancel context.CancelFunc
	remap       map[string]string // agent job id -> server job id, learnt from fire answers

	flushKick chan struct{}
	bg        sync.WaitGroup // tick handlers and acks
}

// New checks the dependencies and opens the durable state.
func New(cfg Config, deps Deps) (*Daemon, error) {
	if deps.API == nil || deps.Runner == nil || deps.Store == nil {
		return nil, errors.New("daemon: API, Runner and Store are required")
	}
	cfg.defaults()
	d := &Daemon{
		cfg:       cfg,
		api:       deps.API,
		runner:    deps.Runner,
		hooks:     deps.Hooks,
		validate:  deps.Validate,
		store:     deps.Store,
		log:       deps.Logger,
		level:     deps.Level,
		newID:     deps.NewID,
		pacing:    newPacing(),
		online:    true,
		remap:     map[string]string{},
		flushKick: make(chan struct{}, 1),
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.hooks == nil {
		d.hooks = hooks.New(nil)
	}
	if d.validate == nil {
		d.validate = func(protocol.RunSpec) error { return nil }
	}
	if d.newID == nil {
		d.newID = uuid.NewString
	}
	var err error
	if d.commands, err = d.store.Commands(); err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	if d.fires, err = d.store.Fires(); err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	if d.spool, err = spool.Open(d.store.SpoolDir(), spool.Options{MaxBytes: cfg.SpoolMaxBytes}); err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	if d.schedSet, err = d.store.ScheduleSet(); err != nil {
		d.log.Warn("cached schedule set unreadable; waiting for the server's", "error", err)
		d.schedSet = nil
	}
	if ac, err := d.store.AgentConfig(); err == nil && ac != nil {
		d.applyAgentConfig(ac)
	}
	d.status = newStatusKeeper(d)
	return d, nil
}

// Run runs the service until ctx is cancelled (nil) or the server rejects the
// credential (ErrRevoked) or the protocol (ErrProtocol).
func (d *Daemon) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d.mu.Lock()
	d.fatalCancel = cancel
	d.mu.Unlock()

	rctx, stopReports := context.WithCancel(context.WithoutCancel(ctx))
	defer stopReports()
	jctx, stopJobs := context.WithCancelCause(context.WithoutCancel(ctx))
	defer stopJobs(nil)
	d.rctx, d.jctx = rctx, jctx
	d.queues = newQueues(d)

	d.status.set(func(s *state.Status) { s.State = state.StateStarting })
	d.recoverInterrupted()

	sched, err := schedule.New(ctx, d.onTick, d.log)
	if err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	d.sched = sched
	if set := d.currentSet(); set != nil {
		if err := sched.Apply(set); err != nil {
			d.log.Warn("some cached schedules are invalid", "error", err)
		}
		d.catchUp(ctx)
	}

	var loops sync.WaitGroup
	loops.Add(3)
	go func() { defer loops.Done(); d.status.loop(ctx) }()
	go func() { defer loops.Done(); d.flushLoop(ctx) }()
	go func() { defer loops.Done(); d.pollLoop(ctx) }()

	<-ctx.Done()
	d.log.Info("agent stopping")
	_ = sched.Shutdown()
	loops.Wait()
	d.queues.close() // a job accepted from now on is reported cancelled at once
	stopJobs(errShutdown)
	waitTimeout(d.queues.wait, d.cfg.ShutdownGrace)
	stopReports() // from here on, undelivered reports go straight to the spool
	d.bg.Wait()
	d.queues.wait()

	fatal := d.fatalErr()
	d.status.set(func(s *state.Status) {
		if fatal == nil {
			s.State = state.StateStopped
		}
	})
	d.status.write()
	return fatal
}

var errShutdown = errors.New("the agent is shutting down")

func waitTimeout(wait func(), d time.Duration) {
	done := make(chan struct{})
	go func() { wait(); close(done) }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

// setFatal records an error that stops the daemon.
func (d *Daemon) setFatal(err error) {
	d.mu.Lock()
	if d.fatal == nil {
		d.fatal = err
	}
	cancel := d.fatalCancel
	d.mu.Unlock()
	st := state.StateRevoked
	if errors.Is(err, ErrProtocol) {
		st = state.StateMismatch
	}
	d.status.set(func(s *state.Status) {
		s.State = st
		s.LastError = err.Error()
		now := time.Now().UTC()
		s.LastErrorAt = &now
	})
	d.log.Error("agent stops", "error", err)
	if cancel != nil {
		cancel()
	}
}

func (d *Daemon) fatalErr() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.fatal
}

func (d *Daemon) currentSet() *protocol.ScheduleSet {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.schedSet
}

// sleep waits d or until ctx is done; false when ctx is done.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// jitter returns a random duration in [0, d).
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}
