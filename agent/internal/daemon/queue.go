package daemon

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/restic-manager/restic-manager/agent/internal/state"
	"github.com/restic-manager/restic-manager/common/protocol"
)

// job is one accepted job, queued or running.
type job struct {
	spec     protocol.RunSpec
	offline  bool // run from the cached schedule while the server was unreachable
	queuedAt time.Time

	ctx    context.Context
	cancel context.CancelCauseFunc

	mu        sync.Mutex
	startedAt *time.Time
	progress  *protocol.Progress
}

func (d *Daemon) newJob(spec protocol.RunSpec, offline bool) *job {
	ctx, cancel := context.WithCancelCause(d.jctx)
	return &job{spec: spec, offline: offline, queuedAt: time.Now().UTC(), ctx: ctx, cancel: cancel}
}

func (j *job) repoKey() string { return j.spec.Repository.ID }

func (j *job) setProgress(p protocol.Progress) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.progress = &p
}

func (j *job) status() state.JobStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := state.JobStatus{
		JobID: j.spec.JobID, Kind: j.spec.Kind, Repository: j.spec.Repository.Name,
		ScheduleID: j.spec.ScheduleID, Offline: j.offline, QueuedAt: j.queuedAt, StartedAt: j.startedAt,
	}
	if st.Repository == "" {
		st.Repository = j.spec.Repository.ID
	}
	if p := j.progress; p != nil {
		st.PercentDone, st.BytesDone, st.FilesDone = p.PercentDone, p.BytesDone, p.FilesDone
		at := p.At
		st.LastProgress = &at
	}
	return st
}

// cancelCause is why a job's context was cancelled, as text for the finish report.
func (j *job) cancelCause() string {
	cause := context.Cause(j.ctx)
	if cause == nil || errors.Is(cause, context.Canceled) {
		return "cancelled"
	}
	return cause.Error()
}

// queues runs one job at a time per repository, in arrival order.
type queues struct {
	d *Daemon

	mu     sync.Mutex
	byRepo map[string]*repoQueue
	closed bool
	wg     sync.WaitGroup
}

type repoQueue struct {
	pending []*job
	running *job
}

func newQueues(d *Daemon) *queues {
	return &queues{d: d, byRepo: map[string]*repoQueue{}}
}

// enqueue adds a job; a worker for its repository starts if none runs. After close,
// the job is reported cancelled instead.
func (q *queues) enqueue(j *job) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		q.d.finishUnstarted(j, protocol.JobCancelled, errShutdown.Error())
		return
	}
	defer q.mu.Unlock()
	rq, ok := q.byRepo[j.repoKey()]
	if !ok {
		rq = &repoQueue{}
		q.byRepo[j.repoKey()] = rq
	}
	rq.pending = append(rq.pending, j)
	if !ok {
		q.wg.Add(1)
		go q.work(j.repoKey(), rq)
	}
	q.d.status.kick()
}

func (q *queues) work(repo string, rq *repoQueue) {
	defer q.wg.Done()
	for {
		q.mu.Lock()
		if len(rq.pending) == 0 {
			delete(q.byRepo, repo)
			q.mu.Unlock()
			q.d.status.kick()
			return
		}
		j := rq.pending[0]
		rq.pending = rq.pending[1:]
		rq.running = j
		q.mu.Unlock()
		q.d.status.kick()

		q.d.runJob(j)

		q.mu.Lock()
		rq.running = nil
		q.mu.Unlock()
	}
}

// cancel cancels a running job (running true) or removes a queued one (returned).
func (q *queues) cancel(jobID, reason string) (running bool, queued *job) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, rq := range q.byRepo {
		if rq.running != nil && rq.running.spec.JobID == jobID {
			rq.running.cancel(errors.New(reason))
			return true, nil
		}
		for i, j := range rq.pending {
			if j.spec.JobID == jobID {
				rq.pending = append(rq.pending[:i], rq.pending[i+1:]...)
				j.cancel(errors.New(reason))
				return false, j
			}
		}
	}
	return false, nil
}

// snapshot lists running and queued jobs for the status file.
func (q *queues) snapshot() (running, queued []state.JobStatus) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, rq := range q.byRepo {
		if rq.running != nil {
			running = append(running, rq.running.status())
		}
		for _, j := range rq.pending {
			queued = append(queued, j.status())
		}
	}
	return running, queued
}

func (q *queues) wait() { q.wg.Wait() }

// close stops taking jobs.
func (q *queues) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
}
