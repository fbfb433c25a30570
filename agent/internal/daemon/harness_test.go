package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/agent/internal/client"
	"github.com/restic-manager/restic-manager/agent/internal/fakeserver"
	"github.com/restic-manager/restic-manager/agent/internal/hooks"
	"github.com/restic-manager/restic-manager/agent/internal/restic"
	"github.com/restic-manager/restic-manager/agent/internal/state"
	"github.com/restic-manager/restic-manager/common/protocol"
)

// fakeRunner stands in for restic: every job logs a few lines, reports progress and
// takes Duration unless cancelled.
type fakeRunner struct {
	mu       sync.Mutex
	Duration time.Duration
	runs     []runRecord
	active   map[string]int
	peak     map[string]int
	// Outcome, when set, decides a job's result.
	Outcome func(spec protocol.RunSpec) restic.Result
}

type runRecord struct {
	Spec       protocol.RunSpec
	Start, End time.Time
	Status     string
}

func newFakeRunner() *fakeRunner {
	return &fakeRunner{Duration: 100 * time.Millisecond, active: map[string]int{}, peak: map[string]int{}}
}

func (f *fakeRunner) Version(context.Context) (restic.Version, error) {
	return restic.Version{Major: 0, Minor: 14, Raw: "restic 0.14.0 (fake)"}, nil
}

func (f *fakeRunner) Run(ctx context.Context, spec protocol.RunSpec, ev restic.Events) (restic.Result, error) {
	if err := restic.ValidateSpec(spec); err != nil {
		return restic.Result{}, err
	}
	repo := spec.Repository.ID
	f.mu.Lock()
	idx := len(f.runs)
	f.runs = append(f.runs, runRecord{Spec: spec, Start: time.Now()})
	f.active[repo]++
	f.peak[repo] = max(f.peak[repo], f.active[repo])
	dur := f.Duration
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.active[repo]--
		f.mu.Unlock()
	}()

	res := restic.Result{Status: protocol.JobSucceeded}
	switch spec.Kind {
	case protocol.KindSnapshots:
		res.Snapshots = []protocol.Snapshot{{ID: "abcdef0123456789", ShortID: "abcdef01", Time: time.Now().UTC(), Hostname: "h", Paths: []string{"/data"}}}
	case protocol.KindStats:
		res.Stats = &protocol.RepoStats{At: time.Now().UTC(), TotalSize: 1234, SnapshotsCount: 1}
	default:
		ev.Log("stdout", "starting "+spec.Kind)
		deadline := time.Now().Add(dur)
		for i := 0; time.Now().Before(deadline); i++ {
			ev.Progress(protocol.Progress{PercentDone: float64(i) / 100, BytesDone: int64(i)})
			ev.Log("stdout", fmt.Sprintf("line %d", i))
			select {
			case <-ctx.Done():
				res = restic.Result{Status: protocol.JobCancelled, ExitCode: 130, Error: "interrupted"}
				f.finish(idx, res.Status)
				return res, nil
			case <-time.After(20 * time.Millisecond):
			}
		}
		ev.Log("stdout", "done")
		res.Summary = json.RawMessage(`{"snapshot_id":"abcdef01"}`)
	}
	if f.Outcome != nil {
		res = f.Outcome(spec)
	}
	f.finish(idx, res.Status)
	return res, nil
}

func (f *fakeRunner) finish(idx int, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs[idx].End = time.Now()
	f.runs[idx].Status = status
}

func (f *fakeRunner) Runs(kind string) []runRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []runRecord
	for _, r := range f.runs {
		if kind == "" || r.Spec.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeRunner) Peak(repo string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.peak[repo]
}

type harness struct {
	t      *testing.T
	srv    *fakeserver.Server
	dir    string
	runner Runner
	fake   *fakeRunner
	hooks  map[string]hooks.Hook
	cfg    Config

	cancel context.CancelFunc
	done   chan error
	d      *Daemon
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	fr := newFakeRunner()
	return &harness{t: t, srv: fakeserver.New(t), dir: t.TempDir(), runner: fr, fake: fr,
		cfg: Config{
			HostID: "host-1", Hostname: "test", AgentVersion: "test",
			StartupJitter: -1, FireBudget: 300 * time.Millisecond, ReportBudget: 500 * time.Millisecond,
			FinishBudget: time.Second, FlushInterval: 300 * time.Millisecond, ReconnectMax: 200 * time.Millisecond,
			ShutdownGrace: 5 * time.Second, StatusInterval: 200 * time.Millisecond,
		}}
}

func (h *harness) start() {
	h.t.Helper()
	api, err := client.New(client.Options{BaseURL: h.srv.URL(), Credential: "test-credential",
		RetryWaitMin: 10 * time.Millisecond, RetryWaitMax: 50 * time.Millisecond, PollMargin: 3 * time.Second})
	if err != nil {
		h.t.Fatal(err)
	}
	store, err := state.Open(h.dir)
	if err != nil {
		h.t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(testWriter{h.t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if os.Getenv("AGENT_TEST_QUIET") != "" {
		logger = slog.New(slog.DiscardHandler)
	}
	h.d, err = New(h.cfg, Deps{API: api, Runner: h.runner, Hooks: hooks.New(h.hooks), Validate: restic.ValidateSpec,
		Store: store, Logger: logger})
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan error, 1)
	d := h.d
	go func() { h.done <- d.Run(ctx) }()
	h.t.Cleanup(func() { _ = h.stop() })
}

// stop stops the daemon and returns Run's error.
func (h *harness) stop() error {
	if h.cancel == nil {
		return nil
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		return err
	case <-time.After(20 * time.Second):
		h.t.Fatal("daemon did not stop")
		return nil
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

func repo(id string, dir string) protocol.Repository {
	return protocol.Repository{ID: id, Name: "repo-" + id, URL: dir, Password: "secret-pw-" + id}
}

func backupSpec(jobID, repoID string) protocol.RunSpec {
	return protocol.RunSpec{JobID: jobID, Kind: protocol.KindBackup, Repository: repo(repoID, "/srv/restic/"+repoID), Paths: []string{"/data"}}
}

func waitFinished(t *testing.T, srv *fakeserver.Server, jobID string, timeout time.Duration) fakeserver.Job {
	t.Helper()
	var j fakeserver.Job
	fakeserver.Eventually(t, timeout, "job "+jobID+" finished", func() bool {
		var ok bool
		j, ok = srv.Job(jobID)
		return ok && j.Finish != nil
	})
	return j
}
