// Package ingest group-commits what running jobs report every second or two — progress
// and log batches. Requests that arrive together share one database statement and one
// commit (store.IngestReports) instead of a transaction each: with 1,000 jobs running,
// that is tens of commits a second instead of thousands. A request is answered only
// after its report is stored, so an agent never drops a line the server does not have.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/restic-manager/restic-manager/server/internal/store"
)

// ErrStopped answers reports submitted after the writer stopped (server shutdown).
var ErrStopped = errors.New("ingest: stopped")

// Store persists a group of reports.
type Store interface {
	IngestReports(ctx context.Context, reports []store.JobReport) ([]store.JobReportResult, error)
}

// Config bounds a group.
type Config struct {
	// Flushers is how many groups are written at once (default 2). While they write,
	// the next reports queue up and form the next group.
	Flushers int
	// MaxLines and MaxReports bound one group (defaults 5,000 and 2,000): a group holds
	// about one protocol-size log batch and stays quick to write (docs/benchmarks.md,
	// "Group size").
	MaxLines, MaxReports int
	// Queue is how many reports may wait for a flusher (default 10,000); beyond it a
	// request waits to enqueue.
	Queue int
	// FlushTimeout bounds one write (default 30 s).
	FlushTimeout time.Duration
}

func (c *Config) defaults() {
	if c.Flushers <= 0 {
		c.Flushers = 2
	}
	if c.MaxLines <= 0 {
		c.MaxLines = 5000
	}
	if c.MaxReports <= 0 {
		c.MaxReports = 2000
	}
	if c.Queue <= 0 {
		c.Queue = 10000
	}
	if c.FlushTimeout <= 0 {
		c.FlushTimeout = 30 * time.Second
	}
}

// Writer is safe for concurrent use. Reports are written only while Run runs.
type Writer struct {
	cfg      Config
	store    Store
	logger   *slog.Logger
	queue    chan *request
	stopped  chan struct{} // Run's context ended: no new flusher rounds
	finished chan struct{} // the last queued report was written
	stats    Stats
}

type request struct {
	report store.JobReport
	done   chan outcome // buffered: a flusher never blocks on a gone requester
}

type outcome struct {
	res store.JobReportResult
	err error
}

// New returns a writer; call Run to start writing.
func New(cfg Config, s Store, logger *slog.Logger) *Writer {
	cfg.defaults()
	return &Writer{cfg: cfg, store: s, logger: logger, queue: make(chan *request, cfg.Queue),
		stopped: make(chan struct{}), finished: make(chan struct{})}
}

// Submit stores one report and returns its result once it is stored. The result's Err
// (ErrNotFound for a job that is not the host's) is returned as the error too. When
// ctx ends first the report may still be stored: reports are idempotent.
func (w *Writer) Submit(ctx context.Context, r store.JobReport) (store.JobReportResult, error) {
	req := &request{report: r, done: make(chan outcome, 1)}
	select {
	case <-w.stopped:
		return store.JobReportResult{}, ErrStopped
	default:
	}
	select {
	case w.queue <- req:
	case <-w.stopped:
		return store.JobReportResult{}, ErrStopped
	case <-ctx.Done():
		return store.JobReportResult{}, fmt.Errorf("ingest: %w", ctx.Err())
	}
	select {
	case o := <-req.done:
		return o.res, o.err
	case <-w.finished:
		select {
		case o := <-req.done:
			return o.res, o.err
		default: // queued after the final drain: never written
			return store.JobReportResult{}, ErrStopped
		}
	case <-ctx.Done():
		return store.JobReportResult{}, fmt.Errorf("ingest: %w", ctx.Err())
	}
}

// Run writes groups until ctx ends, then writes what is still queued and returns.
func (w *Writer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range w.cfg.Flushers {
		wg.Go(func() { w.flusher(ctx) })
	}
	wg.Wait()
	close(w.stopped)
	defer close(w.finished)
	for {
		select {
		case first := <-w.queue:
			w.flush(context.WithoutCancel(ctx), w.group(first))
		default:
			return
		}
	}
}

func (w *Writer) flusher(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case first := <-w.queue:
			// The group's requests are not this context's: a shutdown must not abort them.
			w.flush(context.WithoutCancel(ctx), w.group(first))
		}
	}
}

// group takes first and whatever else is queued, within the bounds.
func (w *Writer) group(first *request) []*request {
	g := []*request{first}
	lines := len(first.report.Lines)
	for len(g) < w.cfg.MaxReports && lines < w.cfg.MaxLines {
		select {
		case r := <-w.queue:
			g = append(g, r)
			lines += len(r.report.Lines)
		default:
			return g
		}
	}
	return g
}

// flush writes a group. If the group fails as a whole, each report is written alone,
// so one report the database refuses fails only its own request.
func (w *Writer) flush(ctx context.Context, g []*request) {
	reports := make([]store.JobReport, len(g))
	lines := 0
	for i, r := range g {
		reports[i] = r.report
		lines += len(r.report.Lines)
	}
	fctx, cancel := context.WithTimeout(ctx, w.cfg.FlushTimeout)
	started := time.Now()
	res, err := w.store.IngestReports(fctx, reports)
	cancel()
	w.stats.record(len(g), lines, time.Since(started), err)
	if err == nil {
		for i, r := range g {
			r.done <- outcome{res: res[i], err: res[i].Err}
		}
		return
	}
	if len(g) == 1 {
		w.logger.Warn("ingest: storing a job report failed", "job_id", g[0].report.JobID, "lines", lines, "err", err)
		g[0].done <- outcome{err: err}
		return
	}
	w.logger.Warn("ingest: storing a group of reports failed; storing them one by one", "reports", len(g), "lines", lines, "err", err)
	for _, r := range g {
		w.flush(ctx, []*request{r})
	}
}

// Stats returns counters since start.
func (w *Writer) Stats() StatsSnapshot { return w.stats.snapshot() }

// Queued returns how many reports wait for a flusher.
func (w *Writer) Queued() int { return len(w.queue) }
