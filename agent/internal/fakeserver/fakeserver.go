// Package fakeserver is an in-memory implementation of the server side of the agent
// protocol for the agent's tests: enrolment, hello, long poll with cursor and leases,
// command results, job reports, schedule fires and acks, repository reports. It can
// be switched "down" (every request answers 502 with an HTML page, as a proxy would).
package fakeserver

import (
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// Job is the server's record of one job.
type Job struct {
	ID              string
	Spec            protocol.RunSpec
	Status          string
	Starts          int
	StartedAt       time.Time
	CancelRequested bool
	Progress        []protocol.Progress
	Logs            map[int64]protocol.LogLine
	Finish          *protocol.JobFinish
	Finishes        int
	ScheduleID      string
	ScheduledFor    time.Time
	RanOffline      bool

	fireCmd protocol.Command
}

// LogText returns the job's log lines in seq order, joined by newlines.
func (j *Job) LogText() string {
	seqs := make([]int64, 0, len(j.Logs))
	for s := range j.Logs {
		seqs = append(seqs, s)
	}
	sort.Slice(seqs, func(a, b int) bool { return seqs[a] < seqs[b] })
	var b strings.Builder
	for _, s := range seqs {
		b.WriteString(j.Logs[s].Text)
		b.WriteByte('\n')
	}
	return b.String()
}

type delivery struct {
	cmd         protocol.Command
	deliveredAt time.Time
	acked       bool
	viaPoll     bool
}

// Server is the fake. Lock-protected; use its methods from tests.
type Server struct {
	srv *httptest.Server

	mu sync.Mutex
	// Credential is the host credential; Token the valid enrollment token.
	Credential, HostID, Token string
	down                      bool
	lease                     time.Duration
	hold                      time.Duration
	pacing                    protocol.Pacing
	failAcks                  bool

	nextCmd  int64
	commands []*delivery
	results  map[int64][]protocol.CommandResult
	jobs     map[string]*Job
	fires    map[string]string // schedule|scheduled_for -> job id
	set      *protocol.ScheduleSet
	acks     []protocol.ScheduleAck
	snaps    map[string][]protocol.SnapshotReport
	stats    map[string][]protocol.RepoStats
	calls    []string
	hellos   int
	wake     chan struct{}
}

// New starts a fake server; it is closed with the test.
func New(t testing.TB) *Server {
	s := &Server{
		Credential: "test-credential", HostID: "host-1", Token: "enroll-token",
		lease: 2 * time.Second, hold: 2 * time.Second,
		pacing:  protocol.Pacing{PollHoldSeconds: 2, ProgressIntervalSeconds: 2, LogIntervalSeconds: 1},
		results: map[int64][]protocol.CommandResult{}, jobs: map[string]*Job{}, fires: map[string]string{},
		snaps: map[string][]protocol.SnapshotReport{}, stats: map[string][]protocol.RepoStats{},
		wake: make(chan struct{}),
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the base URL.
func (s *Server) URL() string { return s.srv.URL }

// SetDown makes every request fail with 502 (true) or work again (false).
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
	s.notify()
}

// SetToken sets the valid one-time enrollment token.
func (s *Server) SetToken(tok string) { s.mu.Lock(); s.Token = tok; s.mu.Unlock() }

// SetLease sets how long an unacknowledged command waits before redelivery.
func (s *Server) SetLease(d time.Duration) { s.mu.Lock(); s.lease = d; s.mu.Unlock() }

// SetFailAcks makes command results answer 503 (the agent's acks get lost).
func (s *Server) SetFailAcks(v bool) { s.mu.Lock(); s.failAcks = v; s.mu.Unlock() }

// Revoke changes the credential so the agent's is rejected.
func (s *Server) Revoke() { s.mu.Lock(); s.Credential = "revoked"; s.mu.Unlock(); s.notify() }

func (s *Server) notify() {
	s.mu.Lock()
	close(s.wake)
	s.wake = make(chan struct{})
	s.mu.Unlock()
}

// AddRun queues a command.run; it returns the command id.
func (s *Server) AddRun(spec protocol.RunSpec) int64 {
	s.mu.Lock()
	s.nextCmd++
	id := s.nextCmd
	s.jobs[spec.JobID] = &Job{ID: spec.JobID, Spec: spec, Status: protocol.JobQueued, Logs: map[int64]protocol.LogLine{}}
	s.commands = append(s.commands, &delivery{cmd: protocol.Command{ID: id, Type: protocol.CommandRun, JobID: spec.JobID,
		CreatedAt: time.Now().UTC(), Run: &spec}, viaPoll: true})
	s.mu.Unlock()
	s.notify()
	return id
}

// AddCommand queues any command (e.g. of an unknown type); it returns its id.
func (s *Server) AddCommand(cmd protocol.Command) int64 {
	s.mu.Lock()
	s.nextCmd++
	cmd.ID = s.nextCmd
	s.commands = append(s.commands, &delivery{cmd: cmd, viaPoll: true})
	s.mu.Unlock()
	s.notify()
	return cmd.ID
}

// Cancel marks a job for cancellation and queues a command.cancel.
func (s *Server) Cancel(jobID string) {
	s.mu.Lock()
	if j, ok := s.jobs[jobID]; ok {
		j.CancelRequested = true
	}
	s.mu.Unlock()
	s.AddCommand(protocol.Command{Type: protocol.CommandCancel, JobID: jobID, Cancel: &protocol.CancelArg{Reason: "cancelled by test"}})
}

// SetCancelRequested marks a job for cancellation without queueing a command: the
// agent learns it from the answers to its reports.
func (s *Server) SetCancelRequested(jobID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if j, ok := s.jobs[jobID]; ok {
		j.CancelRequested = true
	}
}

// PreFire records a tick as if an earlier fire had reached the server with jobID.
func (s *Server) PreFire(scheduleID string, at time.Time, jobID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.fireLocked(scheduleID, protocol.ScheduleFire{JobID: jobID, ScheduledFor: at})
	return err
}

// SetSchedules publishes a schedule set.
func (s *Server) SetSchedules(set protocol.ScheduleSet) {
	s.mu.Lock()
	s.set = &set
	s.mu.Unlock()
	s.notify()
}

// Job returns a copy of a job's record.
func (s *Server) Job(id string) (Job, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		return Job{}, false
	}
	cp := *j
	cp.Logs = make(map[int64]protocol.LogLine, len(j.Logs))
	for k, v := range j.Logs {
		cp.Logs[k] = v
	}
	return cp, true
}

// Jobs returns copies of all jobs.
func (s *Server) Jobs() []Job {
	s.mu.Lock()
	ids := make([]string, 0, len(s.jobs))
	for id := range s.jobs {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	out := make([]Job, 0, len(ids))
	for _, id := range ids {
		j, _ := s.Job(id)
		out = append(out, j)
	}
	return out
}

// Results returns the command results received for a command.
func (s *Server) Results(cmdID int64) []protocol.CommandResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]protocol.CommandResult(nil), s.results[cmdID]...)
}

// Acks returns the schedule acks received.
func (s *Server) Acks() []protocol.ScheduleAck {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]protocol.ScheduleAck(nil), s.acks...)
}

// Snapshots returns the snapshot reports of a repository.
func (s *Server) Snapshots(repoID string) []protocol.SnapshotReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]protocol.SnapshotReport(nil), s.snaps[repoID]...)
}

// Stats returns the stats samples of a repository.
func (s *Server) Stats(repoID string) []protocol.RepoStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]protocol.RepoStats(nil), s.stats[repoID]...)
}

// Calls returns "METHOD /path" of every successful request, in arrival order.
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// Hellos counts hello requests (including rejected ones).
func (s *Server) Hellos() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hellos
}

// Eventually polls cond until it holds or the timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out after %v waiting for %s", timeout, what)
}
