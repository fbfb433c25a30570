package daemon

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/restic-manager/restic-manager/agent/internal/client"
	"github.com/restic-manager/restic-manager/agent/internal/restic"
	"github.com/restic-manager/restic-manager/common/protocol"
)

// Browse operations (ls, index, find, diff, dump) answer an operator who waits. They run
// outside the per-repository job queues (restic with --no-lock: a browse never waits for
// a backup, nor blocks one), a few at a time, and report straight to the server; nothing
// of theirs is spooled, since the answer only matters while someone waits for it.

const (
	maxBrowseOps      = 4
	browseTimeout     = 6 * time.Hour // bounds one operation (a large download may take long)
	browseCallBudget  = 5 * time.Minute
	browseBatchItems  = 5000    // entries per POST of directory parts
	downloadChunkSize = 4 << 20 // bytes per POST of a dump
)

// browseAPI is the part of the server API browse operations use; *client.Client has it.
type browseAPI interface {
	BrowseDirs(ctx context.Context, requestID string, b protocol.BrowseDirBatch) (protocol.BrowseAck, error)
	BrowseFinish(ctx context.Context, requestID string, f protocol.BrowseFinish) (protocol.BrowseAck, error)
	DownloadStart(ctx context.Context, requestID string, s protocol.DownloadStart) (protocol.BrowseAck, error)
	DownloadChunk(ctx context.Context, requestID string, offset int64, data []byte) (protocol.DownloadChunkAck, error)
}

// browseRunner runs browse operations; *restic.Runner has it.
type browseRunner interface {
	Browse(ctx context.Context, spec protocol.BrowseSpec, out restic.BrowseOutput) (protocol.BrowseFinish, error)
}

// browseOps runs at most maxBrowseOps operations at once; the rest wait in order. The
// zero value is ready.
type browseOps struct {
	mu      sync.Mutex
	running int
	waiting []func()
}

func (b *browseOps) submit(run func()) {
	b.mu.Lock()
	if b.running >= maxBrowseOps {
		b.waiting = append(b.waiting, run)
		b.mu.Unlock()
		return
	}
	b.running++
	b.mu.Unlock()
	go b.loop(run)
}

func (b *browseOps) loop(run func()) {
	for run != nil {
		run()
		b.mu.Lock()
		run = nil
		if len(b.waiting) > 0 {
			run, b.waiting = b.waiting[0], b.waiting[1:]
		} else {
			b.running--
		}
		b.mu.Unlock()
	}
}

// acceptBrowse validates a command.browse, records it and starts the operation.
func (d *Daemon) acceptBrowse(cmd protocol.Command) protocol.CommandResult {
	reject := func(reason string) protocol.CommandResult {
		res := protocol.CommandResult{Status: protocol.CommandRejected, Reason: reason}
		d.recordCommand(cmd.ID, cmd.JobID, res, false)
		return res
	}
	if cmd.Browse == nil {
		return reject("command.browse carries no browse spec")
	}
	spec := *cmd.Browse
	if spec.RequestID == "" {
		spec.RequestID = cmd.JobID
	}
	runner, ok := d.runner.(browseRunner)
	api, ok2 := d.api.(browseAPI)
	if !ok || !ok2 {
		return reject("this agent cannot browse snapshots")
	}
	if err := restic.ValidateBrowseSpec(spec); err != nil {
		return reject("invalid browse spec: " + err.Error())
	}
	res := protocol.CommandResult{Status: protocol.CommandAccepted}
	d.recordCommand(cmd.ID, spec.RequestID, res, false)
	d.bg.Add(1)
	d.browse.submit(func() {
		defer d.bg.Done()
		d.runBrowse(spec, runner, api)
	})
	return res
}

var errBrowseCancelled = errors.New("cancelled by the server")

// runBrowse runs one operation and delivers its finish report.
func (d *Daemon) runBrowse(spec protocol.BrowseSpec, runner browseRunner, api browseAPI) {
	log := d.log.With("request_id", spec.RequestID, "kind", spec.Kind, "repository", spec.Repository.Name)
	ctx, cancel := context.WithTimeoutCause(d.jctx, browseTimeout, errors.New("the operation took too long"))
	defer cancel()
	ctx, cancelCause := context.WithCancelCause(ctx)
	defer cancelCause(nil)
	out := &browseSink{ctx: ctx, cancel: cancelCause, api: api, id: spec.RequestID}
	started := time.Now()
	log.Info("browse started")
	fin, err := runner.Browse(ctx, spec, out)
	if err != nil {
		fin = protocol.BrowseFinish{Status: protocol.BrowseFailed, ErrorCode: protocol.BrowseErrRestic, ExitCode: -1, Error: err.Error()}
	}
	if fin.Status == protocol.BrowseSucceeded {
		if err := out.close(); err != nil {
			fin = protocol.BrowseFinish{Status: protocol.BrowseFailed, ErrorCode: protocol.BrowseErrRestic, ExitCode: -1, Error: err.Error()}
		}
	}
	if cause := context.Cause(ctx); cause != nil && fin.Status != protocol.BrowseSucceeded {
		fin.Status, fin.Error = protocol.BrowseCancelled, joinText(cause.Error(), fin.Error)
		if errors.Is(cause, context.Canceled) {
			fin.Error = "cancelled"
		}
		if d.jctx.Err() != nil {
			fin.Error = errShutdown.Error()
		}
	}
	fctx, fcancel := context.WithTimeout(d.rctx, d.cfg.FinishBudget)
	defer fcancel()
	if _, err := api.BrowseFinish(fctx, spec.RequestID, fin); err != nil {
		if !d.handleFatal(err) {
			log.Warn("browse finish not delivered", "error", err)
		}
	} else {
		d.noteContact()
	}
	log.Info("browse finished", "status", fin.Status, "error", fin.Error, "entries", fin.Entries, "bytes", fin.Size,
		"took", time.Since(started).Round(time.Millisecond))
}

// browseSink hands an operation's output to the server: directory parts in batches,
// dump bytes in chunks at increasing offsets. A cancel in any answer stops the operation.
type browseSink struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	api    browseAPI
	id     string

	batch      []protocol.BrowseDirPart
	batchItems int

	buf    []byte
	offset int64
}

func (s *browseSink) callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(s.ctx, browseCallBudget)
}

func (s *browseSink) observe(ack protocol.BrowseAck, err error) error {
	if err != nil {
		if client.HasStatus(err, 404) || client.HasStatus(err, 409) || client.HasStatus(err, 410) {
			s.cancel(errBrowseCancelled)
		}
		return err
	}
	if ack.Cancel {
		s.cancel(errBrowseCancelled)
		return errBrowseCancelled
	}
	return nil
}

// Dir queues a directory part and sends the batch when it is big enough.
func (s *browseSink) Dir(p protocol.BrowseDirPart) error {
	s.batch = append(s.batch, p)
	s.batchItems += len(p.Entries) + 1
	if s.batchItems >= browseBatchItems {
		return s.flushDirs()
	}
	return nil
}

func (s *browseSink) flushDirs() error {
	if len(s.batch) == 0 {
		return nil
	}
	ctx, cancel := s.callCtx()
	defer cancel()
	ack, err := s.api.BrowseDirs(ctx, s.id, protocol.BrowseDirBatch{Dirs: s.batch})
	if err := s.observe(ack, err); err != nil {
		return fmt.Errorf("send directory listing: %w", err)
	}
	s.batch, s.batchItems = nil, 0
	return nil
}

// Start reports what a dump sends.
func (s *browseSink) Start(st protocol.DownloadStart) error {
	ctx, cancel := s.callCtx()
	defer cancel()
	ack, err := s.api.DownloadStart(ctx, s.id, st)
	if err := s.observe(ack, err); err != nil {
		return fmt.Errorf("start download: %w", err)
	}
	return nil
}

// Write buffers dump bytes and sends every full chunk (restic waits meanwhile: the
// upload paces the dump).
func (s *browseSink) Write(p []byte) (int, error) {
	s.buf = append(s.buf, p...)
	for len(s.buf) >= downloadChunkSize {
		if err := s.sendChunk(s.buf[:downloadChunkSize]); err != nil {
			return 0, err
		}
		s.buf = append(s.buf[:0], s.buf[downloadChunkSize:]...)
	}
	return len(p), nil
}

// sendChunk delivers bytes at the current offset; the client retries transient failures
// with the same offset, and the server ignores what it already holds.
func (s *browseSink) sendChunk(b []byte) error {
	ctx, cancel := s.callCtx()
	defer cancel()
	ack, err := s.api.DownloadChunk(ctx, s.id, s.offset, b)
	if err := s.observe(ack.BrowseAck, err); err != nil {
		return fmt.Errorf("send download bytes at offset %d: %w", s.offset, err)
	}
	want := s.offset + int64(len(b))
	if ack.Offset != want {
		return fmt.Errorf("the server holds %d bytes of the download, expected %d", ack.Offset, want)
	}
	s.offset = want
	return nil
}

// close sends what is still buffered.
func (s *browseSink) close() error {
	if err := s.flushDirs(); err != nil {
		return err
	}
	if len(s.buf) > 0 {
		if err := s.sendChunk(s.buf); err != nil {
			return err
		}
		s.buf = nil
	}
	return nil
}
