package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// Modes of "run".
const (
	modeIdle     = "idle"     // long polls only
	modeBaseline = "baseline" // short polls every -baseline-interval (wait=5: the server answers at once)
	modeDispatch = "dispatch" // long polls; commands are acknowledged, started and finished at once
	modeIngest   = "ingest"   // long polls; each command.run becomes a job that reports progress and logs
)

type simConfig struct {
	mode             string
	urls             []string
	ramp, settle     time.Duration
	startupTimeout   time.Duration
	measure          time.Duration
	pollWait         int // seconds; 0: the server's hold + 5 s, like the real agent
	baselineInterval time.Duration
	agentsPerTrans   int

	// dispatch through the operator API (optional: an external driver may create the commands)
	operatorToken string
	reposPath     string
	dispatchRate  float64
	dispatchCount int
	dispatchKind  string

	// ingest
	ingestJobs       int
	jobsTimeout      time.Duration
	logRate          float64
	logInterval      time.Duration
	progressInterval time.Duration
	burst            time.Duration
	burstWorkers     int
	burstBatch       int
	snapshots        int
	lineBytes        int
}

type sim struct {
	cfg    simConfig
	rs     *recorders
	agents []*agent
	// dispatchT0 maps host id → when the operator API call that targets it was sent.
	dispatchT0 sync.Map
	running    atomic.Int64 // ingest jobs started and not finished
	pollHold   atomic.Int64 // the poll hold (seconds) the server's hello announced
	startedUp  atomic.Int64 // agents through hello, the first schedule set and its ack
	jobsMu     sync.Mutex
	jobs       []*jobRun
	steadyCtx  context.Context
	// jobsGo is closed when every expected job has started (or the wait ended): the
	// jobs' report loops start together, so the measured window sees the target load
	// from its first second rather than a backlog built while jobs were being started.
	jobsGo     chan struct{}
	jobsGoOnce sync.Once
	notes      []string
	notesMu    sync.Mutex
}

func (s *sim) note(format string, args ...any) {
	s.notesMu.Lock()
	defer s.notesMu.Unlock()
	if len(s.notes) < 50 {
		s.notes = append(s.notes, fmt.Sprintf(format, args...))
	}
}

func cmdRun(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var c simConfig
	credsPath := fs.String("creds", "creds.jsonl", "hosts from fleetsim enroll")
	n := fs.Int("n", 0, "agents to run (0: every host in -creds)")
	urls := fs.String("urls", "", "server base URL(s), comma-separated; agent i talks to URL i mod count")
	out := fs.String("out", "-", "JSON report (- for stdout)")
	fs.StringVar(&c.mode, "mode", modeIdle, "idle, baseline, dispatch or ingest")
	fs.DurationVar(&c.ramp, "ramp", 50*time.Second, "start the agents evenly over this time (default: the server's default poll hold, so that their polls stay spread over it)")
	fs.DurationVar(&c.settle, "settle", 10*time.Second, "wait after the ramp (and, but in ingest mode, after every agent has started up) before measuring")
	fs.DurationVar(&c.startupTimeout, "startup-timeout", 3*time.Minute, "give up waiting for every agent to start up after this")
	fs.DurationVar(&c.measure, "measure", 60*time.Second, "measured window")
	fs.IntVar(&c.pollWait, "poll-wait", 0, "poll wait in seconds (0: hold from hello + 5, as the agent does)")
	fs.DurationVar(&c.baselineInterval, "baseline-interval", 3*time.Second, "baseline mode: poll period")
	fs.IntVar(&c.agentsPerTrans, "agents-per-transport", 1000, "agents sharing one http.Transport")
	opURL := fs.String("operator-url", "", "operator API base URL for dispatching (default: the first -urls)")
	fs.StringVar(&c.operatorToken, "operator-token", "", "operator API token; empty: commands come from an external driver")
	fs.StringVar(&c.reposPath, "repos", "", "repositories of the dispatch targets (fleetsim repos)")
	fs.Float64Var(&c.dispatchRate, "dispatch-rate", 20, "run-now requests per second")
	fs.IntVar(&c.dispatchCount, "dispatch-count", 0, "run-now requests to send (dispatch mode; ingest mode sends one per job)")
	fs.StringVar(&c.dispatchKind, "dispatch-kind", "snapshots", "job kind of dispatched runs")
	fs.IntVar(&c.ingestJobs, "ingest-jobs", 1000, "ingest: jobs to wait for before measuring")
	fs.DurationVar(&c.jobsTimeout, "jobs-timeout", 120*time.Second, "ingest: give up waiting for jobs after this")
	fs.Float64Var(&c.logRate, "log-rate", 50, "ingest: log lines per second per job")
	fs.DurationVar(&c.logInterval, "log-interval", 0, "ingest: log batch interval (0: from hello pacing)")
	fs.DurationVar(&c.progressInterval, "progress-interval", 0, "ingest: progress interval (0: from hello pacing)")
	fs.DurationVar(&c.burst, "burst", 15*time.Second, "ingest: peak log ingest phase after the measured window (0: none)")
	fs.IntVar(&c.burstWorkers, "burst-workers", 8, "ingest: concurrent senders in the burst")
	fs.IntVar(&c.burstBatch, "burst-batch", 5000, "ingest: lines per batch in the burst")
	fs.IntVar(&c.snapshots, "snapshots", 30, "ingest: snapshots in each snapshot report")
	fs.IntVar(&c.lineBytes, "line-bytes", 100, "ingest: bytes of text per log line")
	timeout := fs.Duration("timeout", 10*time.Minute, "hard limit of the whole run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if c.urls, err = splitURLs(*urls); err != nil {
		return err
	}
	switch c.mode {
	case modeIdle, modeBaseline, modeDispatch, modeIngest:
	default:
		return fmt.Errorf("unknown -mode %q", c.mode)
	}
	creds, err := readJSONL[Cred](*credsPath, *n)
	if err != nil {
		return err
	}
	if *n > 0 && len(creds) < *n {
		return fmt.Errorf("%s holds %d hosts, fewer than -n %d", *credsPath, len(creds), *n)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	s := &sim{cfg: c, rs: newRecorders(), jobsGo: make(chan struct{})}
	var op *operator
	var targets []RepoRef
	if c.operatorToken != "" {
		base := *opURL
		if base == "" {
			base = c.urls[0]
		}
		if err := checkLoopback(base); err != nil {
			return err
		}
		op = &operator{base: base, token: c.operatorToken, hc: &http.Client{Transport: newTransport(64), Timeout: 60 * time.Second}}
		if c.reposPath == "" {
			return fmt.Errorf("-operator-token needs -repos")
		}
		if targets, err = readJSONL[RepoRef](c.reposPath, 0); err != nil {
			return err
		}
	}

	var transports []*http.Transport
	for i, cr := range creds {
		if i%max(1, c.agentsPerTrans) == 0 {
			transports = append(transports, newTransport(c.agentsPerTrans+16))
		}
		a := &agent{
			sim: s, idx: i, hostID: cr.HostID, cred: cr.Credential, hostname: cr.Hostname,
			base: c.urls[i%len(c.urls)], replica: i % len(c.urls),
			hc:   &http.Client{Transport: transports[len(transports)-1]},
			seen: map[int64]bool{},
		}
		s.agents = append(s.agents, a)
	}

	report := Report{Mode: c.mode, Agents: len(s.agents), Started: time.Now(), Values: map[string]float64{}}
	agentsCtx, stopAgents := context.WithCancel(ctx)
	steadyCtx, stopSteady := context.WithCancel(agentsCtx)
	s.steadyCtx = steadyCtx
	var wg sync.WaitGroup
	ramp := c.ramp
	for i, a := range s.agents {
		delay := time.Duration(0)
		if len(s.agents) > 1 {
			delay = ramp * time.Duration(i) / time.Duration(len(s.agents))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.run(agentsCtx, delay)
		}()
	}
	sleep(ctx, ramp)
	phase("ramped")
	if c.mode != modeIngest {
		// The window must not see the fleet's start-up (hello, the first schedule set
		// and its acknowledgement: database work) when the server or PostgreSQL is slower
		// than the ramp.
		s.waitStartedUp(ctx, c.startupTimeout)
		report.Values["startup_seconds"] = time.Since(report.Started).Seconds()
	}
	sleep(ctx, c.settle)

	if c.mode == modeIngest {
		if op != nil {
			go s.dispatchAll(ctx, op, targets, min(c.ingestJobs, len(targets)), protocol.KindBackup)
		}
		deadline := time.Now().Add(c.jobsTimeout)
		for ctx.Err() == nil && s.running.Load() < int64(c.ingestJobs) && time.Now().Before(deadline) {
			sleep(ctx, 200*time.Millisecond)
		}
		report.Values["jobs_running_at_start"] = float64(s.running.Load())
		if s.running.Load() < int64(c.ingestJobs) {
			s.note("only %d of %d jobs were running when the wait ended", s.running.Load(), c.ingestJobs)
		}
		s.releaseJobs()
		sleep(ctx, 5*time.Second) // let every job's loops reach their rhythm
	}

	s.rs.measuring.Store(true)
	report.MeasureStart = phase("measure-start")
	var timeline []TimelinePoint
	tlDone := make(chan struct{})
	tlStop := make(chan struct{})
	go func() {
		defer close(tlDone)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-tlStop:
				return
			case <-ctx.Done():
				return
			case now := <-t.C:
				if c.mode == modeIngest {
					timeline = append(timeline, TimelinePoint{T: now.Sub(report.MeasureStart).Seconds(), Backlog: s.backlog(now), Running: s.running.Load()})
				}
			}
		}
	}()
	if c.mode == modeDispatch && op != nil && c.dispatchCount > 0 {
		go s.dispatchLoop(ctx, op, targets)
	}
	sleep(ctx, c.measure)
	s.rs.measuring.Store(false)
	report.MeasureEnd = phase("measure-end")

	if c.mode == modeIngest {
		stopSteady()
		s.waitSteadyLoops(5 * time.Second)
		if c.burst > 0 {
			lines, el := s.burstPhase(ctx)
			report.Values["burst_lines"] = float64(lines)
			report.Values["burst_seconds"] = el.Seconds()
			if el > 0 {
				report.Values["burst_lines_per_second"] = float64(lines) / el.Seconds()
			}
		}
		close(tlStop)
		<-tlDone
		report.Timeline = timeline
		phase("final-start")
		s.finishAll(ctx)
		phase("final-end")
		var produced, accepted int64
		for _, j := range s.jobsSnapshot() {
			accepted += j.acked.Load()
			produced += j.steadyProduced
		}
		report.Values["steady_lines_produced"] = float64(produced)
		report.Values["lines_accepted_total"] = float64(accepted)
	} else {
		close(tlStop)
		<-tlDone
	}
	stopSteady()
	stopAgents()
	waitTimeout(&wg, 30*time.Second)
	phase("done")
	report.Requests = s.rs.summaries()
	report.Values["poll_hold_seconds"] = float64(s.pollHold.Load())
	report.Notes = s.notes
	return writeJSON(*out, report)
}

// dispatchLoop sends run-now requests at the configured rate to targets whose previous
// command has arrived, and remembers when each was sent.
func (s *sim) dispatchLoop(ctx context.Context, op *operator, targets []RepoRef) {
	if len(targets) == 0 {
		s.note("dispatch: no targets")
		return
	}
	interval := time.Duration(float64(time.Second) / max(s.cfg.dispatchRate, 0.1))
	t := time.NewTicker(interval)
	defer t.Stop()
	next := 0
	var wg sync.WaitGroup
	for sent := 0; sent < s.cfg.dispatchCount && ctx.Err() == nil; {
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		// Pick the next target without a command in flight (bounded scan).
		var tg RepoRef
		found := false
		for k := 0; k < len(targets); k++ {
			tg = targets[next%len(targets)]
			next++
			if _, busy := s.dispatchT0.Load(tg.HostID); !busy {
				found = true
				break
			}
		}
		if !found {
			continue
		}
		sent++
		t0 := time.Now()
		s.dispatchT0.Store(tg.HostID, t0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := op.runNow(ctx, tg.HostID, tg.RepositoryID, s.cfg.dispatchKind); err != nil {
				s.rs.fail("dispatch.api_call")
				s.dispatchT0.Delete(tg.HostID)
				s.note("run now %s: %v", tg.HostID, err)
				return
			}
			s.rs.okAlways("dispatch.api_call", time.Since(t0), true)
		}()
	}
	waitTimeout(&wg, 30*time.Second)
}

// dispatchAll sends one run-now to each of the first n targets, 16 at a time.
func (s *sim) dispatchAll(ctx context.Context, op *operator, targets []RepoRef, n int, kind string) {
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for _, tg := range targets[:n] {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t0 := time.Now()
			s.dispatchT0.Store(tg.HostID, t0)
			if _, err := op.runNow(ctx, tg.HostID, tg.RepositoryID, kind); err != nil {
				s.rs.fail("dispatch.api_call")
				s.note("run now %s: %v", tg.HostID, err)
				return
			}
			s.rs.okAlways("dispatch.api_call", time.Since(t0), true)
		}()
	}
	wg.Wait()
}

func (s *sim) releaseJobs() { s.jobsGoOnce.Do(func() { close(s.jobsGo) }) }

func (s *sim) addJob(j *jobRun) {
	s.jobsMu.Lock()
	s.jobs = append(s.jobs, j)
	s.jobsMu.Unlock()
}

func (s *sim) jobsSnapshot() []*jobRun {
	s.jobsMu.Lock()
	defer s.jobsMu.Unlock()
	return append([]*jobRun(nil), s.jobs...)
}

// backlog is the number of log lines produced by running jobs and not yet accepted.
func (s *sim) backlog(now time.Time) int64 {
	var b int64
	for _, j := range s.jobsSnapshot() {
		if j.steadyDone.Load() {
			continue
		}
		b += max(0, j.produced(now)-j.acked.Load())
	}
	return b
}

// waitStartedUp waits until every agent has started up, or limit.
func (s *sim) waitStartedUp(ctx context.Context, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for ctx.Err() == nil && s.startedUp.Load() < int64(len(s.agents)) {
		if time.Now().After(deadline) {
			s.note("only %d of %d agents had started up %s after the ramp", s.startedUp.Load(), len(s.agents), limit)
			return
		}
		sleep(ctx, 100*time.Millisecond)
	}
}

func (s *sim) waitSteadyLoops(limit time.Duration) {
	deadline := time.Now().Add(limit)
	for _, j := range s.jobsSnapshot() {
		select {
		case <-j.loopsDone:
		case <-time.After(time.Until(deadline)):
			s.note("a job's report loops did not stop within %s", limit)
			return
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		fmt.Fprintln(os.Stderr, "fleetsim: some goroutines did not stop in time")
	}
}

// fullJitter returns a random wait in [0, min(cap, base·2^n)].
func fullJitter(n int, base, cap time.Duration) time.Duration {
	d := base << min(n, 16)
	if d <= 0 || d > cap {
		d = cap
	}
	return rand.N(d + 1)
}
