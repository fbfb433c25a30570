// Package restic drives the restic command-line program for the agent: one code path per
// job kind, restic's --json output of 0.14 (Debian 12) and newer parsed as it streams,
// failures classified into sentences for operators, cancellation by SIGINT so that
// restic removes its lock.
//
// Secrets travel only in the child's environment (RESTIC_PASSWORD, RESTIC_REST_*; REST
// credentials inside RESTIC_REPOSITORY for restic < 0.16.1), never in argv, and every
// log line is scrubbed of them. No shell is involved: restic is exec'd with an argv and
// paths follow "--".
package restic

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// Defaults of the Runner's tunables.
const (
	DefaultGracePeriod      = 30 * time.Second
	DefaultProgressInterval = time.Second
	DefaultProgressFPS      = 1.0
)

// Runner runs restic jobs. It is safe for concurrent use; set its exported fields before
// the first call and leave them alone afterwards.
type Runner struct {
	// GracePeriod is how long a cancelled restic has, after SIGINT (CTRL_BREAK on
	// Windows), to remove its lock and exit before it is killed. Default 30s.
	GracePeriod time.Duration
	// ProgressInterval is the least time between two Progress events. Default 1s.
	ProgressInterval time.Duration
	// ProgressFPS is passed as RESTIC_PROGRESS_FPS: status lines per second restic prints.
	// Default 1.
	ProgressFPS float64
	// CacheDir, when set, is passed as --cache-dir.
	CacheDir string
	// Dir is restic's working directory (relative backup paths resolve against it).
	// Default: the agent's.
	Dir string

	binary string
	logger *slog.Logger

	mu      sync.Mutex
	version *cachedVersion
}

// New returns a Runner for the restic binary (a path, or a name looked up in PATH).
func New(binary string, logger *slog.Logger) *Runner {
	if binary == "" {
		binary = "restic"
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{binary: binary, logger: logger}
}

// Events receives what a running job produces. One Run never calls its methods
// concurrently; they should return quickly (restic's output waits meanwhile).
type Events interface {
	// Progress is throttled by the runner to at most one call per ProgressInterval, plus
	// the last one of each restic run.
	Progress(p protocol.Progress)
	// Log gets every stdout/stderr line that is not a status JSON line, and the agent's
	// own notes. stream is "stdout", "stderr" or "agent". Secrets are already removed.
	Log(stream, text string)
}

// Result is the outcome of one job.
type Result struct {
	Status   string // protocol.JobSucceeded / JobWarning / JobFailed / JobCancelled
	ExitCode int    // restic's exit code (of the step that decided the status); -1 if killed by a signal
	// Error is a sentence for operators ("wrong repository password", "no repository at
	// URL (not initialised?)", "repository is locked by host X (pid N) since T…").
	Error string
	// Summary is restic's summary line for backups and an object built by the runner for
	// the other kinds (see each kind's doc in kinds.go).
	Summary   json.RawMessage
	Snapshots []protocol.Snapshot // KindSnapshots
	Stats     *protocol.RepoStats // KindStats
}

// Run runs one job to its end. The error return is for setup problems only (invalid
// spec, no restic binary); restic's own failures are a Result with Status JobFailed.
// Cancelling ctx interrupts restic (see GracePeriod) and yields JobCancelled.
func (r *Runner) Run(ctx context.Context, spec protocol.RunSpec, ev Events) (Result, error) {
	if err := ValidateSpec(spec); err != nil {
		return Result{}, fmt.Errorf("restic: invalid run spec: %w", err)
	}
	if ev == nil {
		ev = nopEvents{}
	}
	if ctx.Err() != nil {
		return Result{Status: protocol.JobCancelled, ExitCode: -1, Error: "cancelled before restic started"}, nil
	}
	v, path, err := r.probe(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return Result{Status: protocol.JobCancelled, ExitCode: -1, Error: "cancelled before restic started"}, nil
		}
		return Result{}, fmt.Errorf("restic: %w", err)
	}
	j := r.newJob(spec, v, path, ev)
	defer j.sink.close()
	started := time.Now()
	j.sink.note("%s with restic %s", spec.Kind, v)

	var res Result
	switch spec.Kind {
	case protocol.KindInit:
		res, err = j.initRepo(ctx)
	case protocol.KindBackup:
		res, err = j.backup(ctx)
	case protocol.KindForget:
		res, err = j.forget(ctx)
	case protocol.KindPrune:
		res, err = j.prune(ctx)
	case protocol.KindCheck:
		res, err = j.check(ctx)
	case protocol.KindUnlock:
		res, err = j.unlock(ctx)
	case protocol.KindSnapshots:
		res, err = j.snapshots(ctx)
	case protocol.KindStats:
		res, err = j.stats(ctx)
	case protocol.KindRestore:
		res, err = j.restore(ctx)
	default:
		return Result{}, fmt.Errorf("restic: unknown job kind %q", spec.Kind) // ValidateSpec prevents this
	}
	if err != nil {
		return Result{}, fmt.Errorf("restic %s: %w", spec.Kind, err)
	}
	res.Error = j.sink.redact(res.Error)
	if res.Error != "" {
		j.sink.note("%s: %s", res.Status, res.Error)
	} else {
		j.sink.note("%s", res.Status)
	}
	r.logger.LogAttrs(ctx, slog.LevelInfo, "restic job finished",
		slog.String("job_id", spec.JobID), slog.String("kind", spec.Kind),
		slog.String("status", res.Status), slog.Int("exit_code", res.ExitCode),
		slog.String("error", res.Error), slog.Duration("took", time.Since(started)))
	return res, nil
}

// job is one Run: the spec, the restic version's features and the child environment.
type job struct {
	r      *Runner
	spec   protocol.RunSpec
	feat   features
	binary string
	env    []string
	sink   *sink
}

func (r *Runner) newJob(spec protocol.RunSpec, v Version, binary string, ev Events) *job {
	fps := r.ProgressFPS
	if fps <= 0 {
		fps = DefaultProgressFPS
	}
	interval := r.ProgressInterval
	if interval <= 0 {
		interval = DefaultProgressInterval
	}
	feat := featuresFor(v)
	return &job{
		r:      r,
		spec:   spec,
		feat:   feat,
		binary: binary,
		env:    childEnv(nil, spec.Repository, feat, fps),
		sink:   newSink(ev, interval, secretsOf(spec.Repository)),
	}
}

func (r *Runner) gracePeriod() time.Duration {
	if r.GracePeriod > 0 {
		return r.GracePeriod
	}
	return DefaultGracePeriod
}

// options returns the spec's options, never nil.
func (j *job) options() protocol.JobOptions {
	if j.spec.Options == nil {
		return protocol.JobOptions{}
	}
	return *j.spec.Options
}

type nopEvents struct{}

func (nopEvents) Progress(protocol.Progress) {}
func (nopEvents) Log(string, string)         {}
