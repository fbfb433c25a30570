package ingest_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/ingest"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// gateStore records groups; each write waits for the gate so that reports pile up.
type gateStore struct {
	mu      sync.Mutex
	groups  [][]store.JobReport
	entered chan int // a write began (when not nil)
	gate    chan struct{}
	poison  string // a job id the "database" refuses
}

func newGateStore() *gateStore {
	return &gateStore{entered: make(chan int, 100), gate: make(chan struct{})}
}

func (g *gateStore) IngestReports(ctx context.Context, reports []store.JobReport) ([]store.JobReportResult, error) {
	if g.entered != nil {
		g.entered <- len(reports)
	}
	if g.gate != nil {
		select {
		case <-g.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	g.mu.Lock()
	g.groups = append(g.groups, reports)
	g.mu.Unlock()
	out := make([]store.JobReportResult, len(reports))
	for i, r := range reports {
		if r.JobID == g.poison {
			return nil, errors.New("invalid byte sequence")
		}
		out[i] = store.JobReportResult{Job: store.Job{ID: r.JobID, Status: protocol.JobRunning}, Accepted: len(r.Lines)}
	}
	return out, nil
}

func report(job string, lines int) store.JobReport {
	return store.JobReport{HostID: "h", JobID: job, Lines: make([]protocol.LogLine, lines)}
}

// holdFlusher submits one report and returns once the single flusher is writing it
// (held at the gate), so that what is submitted next queues behind it.
func holdFlusher(t *testing.T, w *ingest.Writer, gs *gateStore, wg *sync.WaitGroup) {
	t.Helper()
	wg.Go(func() {
		if _, err := w.Submit(context.Background(), report("first", 1)); err != nil {
			t.Error(err)
		}
	})
	if n := <-gs.entered; n != 1 {
		t.Fatalf("first group holds %d reports", n)
	}
}

// waitQueued waits until n reports wait for the held flusher.
func waitQueued(t *testing.T, w *ingest.Writer, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for w.Queued() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d reports queued after 10 s, want %d", w.Queued(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func start(t *testing.T, w *ingest.Writer) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	return func() { cancel(); <-done }
}

// Reports that arrive while a group is being written form the next group together.
func TestReportsArrivingTogetherShareAGroup(t *testing.T) {
	gs := newGateStore()
	w := ingest.New(ingest.Config{Flushers: 1}, gs, slog.New(slog.DiscardHandler))
	stop := start(t, w)
	defer stop()

	var wg sync.WaitGroup
	holdFlusher(t, w, gs, &wg)
	results := make([]store.JobReportResult, 49)
	errs := make([]error, 49)
	for i := range 49 {
		wg.Go(func() { results[i], errs[i] = w.Submit(context.Background(), report("job", i+1)) })
	}
	waitQueued(t, w, 49)
	close(gs.gate)
	wg.Wait()
	for i := range 49 {
		if errs[i] != nil || results[i].Accepted != i+1 {
			t.Fatalf("report %d: %+v %v", i, results[i], errs[i])
		}
	}
	if n := len(gs.groups); n != 2 {
		t.Fatalf("%d groups written, want 2 (the first report alone, then the 49 that queued behind it)", n)
	}
	if st := w.Stats(); st.Reports != 50 || st.Groups != 2 || st.LargestGroup != 49 {
		t.Fatalf("stats %+v", st)
	}
}

// Bounds: a group never exceeds MaxLines (except a single larger report) or MaxReports.
func TestGroupBounds(t *testing.T) {
	gs := newGateStore()
	w := ingest.New(ingest.Config{Flushers: 1, MaxLines: 100, MaxReports: 5}, gs, slog.New(slog.DiscardHandler))
	stop := start(t, w)
	defer stop()
	var wg sync.WaitGroup
	holdFlusher(t, w, gs, &wg)
	for range 20 {
		wg.Go(func() {
			if _, err := w.Submit(context.Background(), report("j", 30)); err != nil {
				t.Error(err)
			}
		})
	}
	waitQueued(t, w, 20)
	close(gs.gate)
	wg.Wait()
	if len(gs.groups) < 5 {
		t.Fatalf("%d groups for 21 reports of at most 4", len(gs.groups))
	}
	for _, g := range gs.groups {
		lines := 0
		for _, r := range g {
			lines += len(r.Lines)
		}
		if len(g) > 5 || lines > 120 { // 4 reports of 30 reach 120 ≥ 100: the group stops there
			t.Fatalf("group of %d reports, %d lines", len(g), lines)
		}
	}
}

// One report the database refuses fails alone; the others of its group are stored.
func TestFailingReportFailsAlone(t *testing.T) {
	gs := newGateStore()
	gs.poison = "bad"
	w := ingest.New(ingest.Config{Flushers: 1}, gs, slog.New(slog.DiscardHandler))
	stop := start(t, w)
	defer stop()
	jobs := []string{"a", "bad", "b"}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	holdFlusher(t, w, gs, &wg)
	for i, j := range jobs {
		wg.Go(func() { _, errs[i] = w.Submit(context.Background(), report(j, 1)) })
	}
	waitQueued(t, w, 3)
	close(gs.gate)
	wg.Wait()
	for i, j := range jobs {
		if (j == "bad") != (errs[i] != nil) {
			t.Fatalf("%s: err %v", j, errs[i])
		}
	}
	if st := w.Stats(); st.Failures < 2 || st.Reports != 3 {
		t.Fatalf("stats %+v", st)
	}
}

// After Run returns, reports are refused with ErrStopped instead of hanging; what was
// queued before the stop was written.
func TestStopWritesQueuedAndRefusesNew(t *testing.T) {
	gs := &gateStore{}
	w := ingest.New(ingest.Config{}, gs, slog.New(slog.DiscardHandler))
	stop := start(t, w)
	if _, err := w.Submit(context.Background(), report("a", 1)); err != nil {
		t.Fatal(err)
	}
	stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := w.Submit(ctx, report("a", 1)); !errors.Is(err, ingest.ErrStopped) {
		t.Fatalf("submit after stop: %v", err)
	}
}
