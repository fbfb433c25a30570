package daemon

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/restic-manager/restic-manager/agent/internal/client"
	"github.com/restic-manager/restic-manager/agent/internal/state"
	"github.com/restic-manager/restic-manager/common/protocol"
)

// Log batching limits.
const (
	maxBatchLines    = 500
	maxBufferedLines = 20000 // beyond this, lines are dropped (their seqs leave a gap)
	progressBudget   = 5 * time.Second
)

// jobEvents implements restic.Events for one job: it keeps the latest progress and
// buffers log lines, and a goroutine sends progress at most once per pacing interval
// and log batches every log interval. Neither method blocks restic.
type jobEvents struct {
	d *Daemon
	j *job

	mu       sync.Mutex
	seq      int64
	buf      []protocol.LogLine
	dropped  int64
	progress *protocol.Progress
	lastSent time.Time

	stop chan struct{}
	done chan struct{}
}

func (d *Daemon) newJobEvents(j *job) *jobEvents {
	ev := &jobEvents{d: d, j: j, stop: make(chan struct{}), done: make(chan struct{})}
	go ev.loop()
	return ev
}

// Progress keeps the latest progress.
func (ev *jobEvents) Progress(p protocol.Progress) {
	if p.At.IsZero() {
		p.At = time.Now().UTC()
	}
	ev.j.setProgress(p)
	ev.mu.Lock()
	ev.progress = &p
	ev.mu.Unlock()
}

// Log numbers a line and buffers it.
func (ev *jobEvents) Log(stream, text string) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	ev.seq++
	if len(ev.buf) >= maxBufferedLines {
		ev.dropped++
		return
	}
	ev.buf = append(ev.buf, protocol.LogLine{Seq: ev.seq, At: time.Now().UTC(), Stream: stream, Text: text})
}

// total is the number of lines the job produced.
func (ev *jobEvents) total() int64 {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return ev.seq
}

// close stops the loop after a last flush of the buffered lines.
func (ev *jobEvents) close() {
	close(ev.stop)
	<-ev.done
	ev.mu.Lock()
	dropped := ev.dropped
	ev.mu.Unlock()
	if dropped > 0 {
		ev.d.log.Warn("log lines dropped: the job logged faster than they could be sent", "job_id", ev.j.spec.JobID, "dropped", dropped)
	}
}

func (ev *jobEvents) loop() {
	defer close(ev.done)
	for {
		t := time.NewTimer(ev.d.pacing.logInterval())
		select {
		case <-ev.stop:
			t.Stop()
			ev.flushLogs(true)
			return
		case <-t.C:
		}
		ev.sendProgress()
		ev.flushLogs(false)
	}
}

// sendProgress sends the latest progress when the pacing interval has passed. Progress
// is never spooled: only the latest matters, and only while the job runs.
func (ev *jobEvents) sendProgress() {
	ev.mu.Lock()
	p := ev.progress
	due := p != nil && time.Since(ev.lastSent) >= ev.d.pacing.progressInterval()
	if due {
		ev.progress = nil
		ev.lastSent = time.Now()
	}
	ev.mu.Unlock()
	if !due || ev.j.offline || !ev.d.directOK(ev.key()) {
		return
	}
	ctx, cancel := context.WithTimeout(ev.d.rctx, progressBudget)
	defer cancel()
	st, err := ev.d.api.JobProgress(ctx, ev.d.jobID(ev.j.spec.JobID), *p)
	if err != nil {
		if ev.d.handleFatal(err) {
			return
		}
		if client.IsTransient(err) {
			ev.d.noteFailure("progress", err)
		}
		ev.observe(protocol.JobState{}, err)
		return
	}
	ev.observe(st, nil)
}

// observe acts on the job state the server answered with.
func (ev *jobEvents) observe(st protocol.JobState, err error) {
	if st.CancelRequested {
		ev.j.cancel(errors.New("cancel requested by the server"))
	}
	if client.IsJobFinished(err) {
		ev.j.cancel(errors.New("the server reports the job as already finished"))
	}
}

func (ev *jobEvents) key() string { return ev.j.spec.JobID }

// flushLogs sends buffered lines in batches; all of them when final.
func (ev *jobEvents) flushLogs(final bool) {
	for {
		ev.mu.Lock()
		n := min(len(ev.buf), maxBatchLines)
		if n == 0 {
			ev.mu.Unlock()
			return
		}
		batch := append([]protocol.LogLine(nil), ev.buf[:n]...)
		ev.buf = ev.buf[n:]
		ev.mu.Unlock()

		st, err := ev.d.reportLogs(ev.j, protocol.LogBatch{Lines: batch})
		ev.observe(st, err)
		ev.updateMarker()
		if !final && n < maxBatchLines {
			return
		}
	}
}

// updateMarker keeps the marker's line count current for restart recovery.
func (ev *jobEvents) updateMarker() {
	m := ev.markerBase()
	m.LogLines = ev.total()
	if err := ev.d.store.PutMarker(m); err != nil {
		ev.d.log.Debug("cannot update job marker", "error", err)
	}
}

func (ev *jobEvents) markerBase() state.Marker {
	j := ev.j
	j.mu.Lock()
	defer j.mu.Unlock()
	return state.Marker{
		JobID: j.spec.JobID, Kind: j.spec.Kind, RepositoryID: j.spec.Repository.ID, ScheduleID: j.spec.ScheduleID,
		Phase: state.MarkerRunning, QueuedAt: j.queuedAt, StartedAt: j.startedAt,
	}
}
