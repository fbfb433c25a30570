package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// agent is one simulated host.
type agent struct {
	sim                      *sim
	idx, replica             int
	hostID, cred, hostname   string
	base                     string
	hc                       *http.Client
	cursor, schedVer, cfgVer int64
	seen                     map[int64]bool
	pacing                   protocol.Pacing
	startedUp                bool // hello, the first schedule set and its acknowledgement are done
}

// call sends one request, records its latency under name and returns the error.
func (a *agent) call(ctx context.Context, name, method, path string, body, out any) error {
	t0 := time.Now()
	err := doJSON(ctx, a.hc, method, a.base+path, a.cred, body, out)
	if err != nil {
		if ctx.Err() == nil {
			a.sim.rs.fail(name)
		}
		return err
	}
	a.sim.rs.ok(name, time.Since(t0))
	return nil
}

// run says hello, then polls until ctx ends.
func (a *agent) run(ctx context.Context, delay time.Duration) {
	sleep(ctx, delay)
	for attempt := 0; ctx.Err() == nil; attempt++ {
		var hr protocol.HelloResponse
		err := a.call(ctx, "hello", http.MethodPost, protocol.PathHello, protocol.HelloRequest{
			ProtocolVersion: protocol.Version, MinProtocolVersion: protocol.MinVersion, Hostname: a.hostname,
			OS: "linux", Arch: "amd64", AgentVersion: "fleetsim", ResticVersion: "0.18.0",
		}, &hr)
		if err == nil {
			a.pacing = hr.Pacing
			a.sim.pollHold.Store(int64(hr.Pacing.PollHoldSeconds))
			break
		}
		if attempt > 20 {
			a.sim.note("agent %d: hello failed: %v", a.idx, err)
			return
		}
		sleep(ctx, fullJitter(attempt, time.Second, 30*time.Second))
	}
	fails := 0
	for ctx.Err() == nil {
		t0 := time.Now()
		err := a.pollOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			fails++
			var ae *apiError
			if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
				a.sim.note("agent %d: unauthorized, stopping", a.idx)
				return
			}
			if fails <= 3 {
				a.sim.note("agent %d: poll: %v", a.idx, err)
			}
			sleep(ctx, fullJitter(fails, time.Second, 30*time.Second))
			continue
		}
		fails = 0
		if a.sim.cfg.mode == modeBaseline {
			sleep(ctx, a.sim.cfg.baselineInterval-time.Since(t0))
		}
	}
}

func (a *agent) pollWait() int {
	switch {
	case a.sim.cfg.mode == modeBaseline:
		return 5 // the server holds at most wait-5 s: 0, an immediate answer
	case a.sim.cfg.pollWait > 0:
		return a.sim.cfg.pollWait
	}
	return min(max(a.pacing.PollHoldSeconds+5, 10), 120)
}

func (a *agent) pollOnce(ctx context.Context) error {
	wait := a.pollWait()
	path := protocol.PathPoll + "?cursor=" + strconv.FormatInt(a.cursor, 10) + "&wait=" + strconv.Itoa(wait) +
		"&schedule_version=" + strconv.FormatInt(a.schedVer, 10) + "&config_version=" + strconv.FormatInt(a.cfgVer, 10)
	pctx, cancel := context.WithTimeout(ctx, time.Duration(wait+20)*time.Second)
	defer cancel()
	var resp protocol.PollResponse
	t0 := time.Now()
	err := doJSON(pctx, a.hc, http.MethodGet, a.base+path, a.cred, nil, &resp)
	recv := time.Now()
	if err != nil {
		if ctx.Err() == nil {
			a.sim.rs.fail("poll")
		}
		return err
	}
	name := "poll"
	if len(resp.Commands) > 0 || resp.ScheduleSet != nil || resp.Config != nil {
		name = "poll.with_news"
	}
	a.sim.rs.ok(name, recv.Sub(t0))
	a.cursor = max(a.cursor, resp.Cursor)
	if resp.Pacing.PollHoldSeconds > 0 {
		a.pacing.PollHoldSeconds = resp.Pacing.PollHoldSeconds
	}
	if resp.Config != nil {
		a.cfgVer = resp.Config.Version
	}
	acked := false
	if resp.ScheduleSet != nil {
		a.schedVer = resp.ScheduleSet.Version
		acked = a.call(ctx, "schedule_ack", http.MethodPost, protocol.PathScheduleAck,
			protocol.ScheduleAck{Version: a.schedVer, AppliedAt: time.Now().UTC()}, nil) == nil
	}
	if !a.startedUp && (acked || resp.ScheduleSet == nil) {
		a.startedUp = true
		a.sim.startedUp.Add(1)
	}
	for _, cmd := range resp.Commands {
		if a.seen[cmd.ID] {
			a.sim.rs.ok("command.duplicate", 0)
			continue
		}
		a.seen[cmd.ID] = true
		a.handle(ctx, cmd, recv)
	}
	return nil
}

func (a *agent) handle(ctx context.Context, cmd protocol.Command, recv time.Time) {
	if cmd.Type == protocol.CommandRun {
		a.sim.rs.okAlways("dispatch.created_to_agent", recv.Sub(cmd.CreatedAt), true)
		if len(a.sim.cfg.urls) > 1 {
			a.sim.rs.okAlways("dispatch.created_to_agent.replica"+strconv.Itoa(a.replica), recv.Sub(cmd.CreatedAt), true)
		}
		if t0, ok := a.sim.dispatchT0.LoadAndDelete(a.hostID); ok {
			a.sim.rs.okAlways("dispatch.api_to_agent", recv.Sub(t0.(time.Time)), true)
			if len(a.sim.cfg.urls) > 1 {
				a.sim.rs.okAlways("dispatch.api_to_agent.replica"+strconv.Itoa(a.replica), recv.Sub(t0.(time.Time)), true)
			}
		}
	}
	if err := a.call(ctx, "command_result", http.MethodPost, pathWith(protocol.PathCommandResult, strconv.FormatInt(cmd.ID, 10)),
		protocol.CommandResult{Status: protocol.CommandAccepted}, nil); err != nil {
		return // the lease brings it again
	}
	if cmd.Type != protocol.CommandRun || cmd.Run == nil {
		return
	}
	switch a.sim.cfg.mode {
	case modeIngest:
		j := &jobRun{a: a, id: cmd.JobID, repoID: cmd.Run.Repository.ID, loopsDone: make(chan struct{})}
		go j.run(a.sim.steadyCtx)
	default:
		go func() {
			if err := a.call(ctx, "job_start", http.MethodPost, pathWith(protocol.PathJobStart, cmd.JobID), protocol.JobStart{StartedAt: time.Now().UTC()}, nil); err != nil {
				return
			}
			_ = a.call(ctx, "job_finish", http.MethodPost, pathWith(protocol.PathJobFinish, cmd.JobID),
				protocol.JobFinish{Status: protocol.JobSucceeded, FinishedAt: time.Now().UTC(), Summary: json.RawMessage(`{"snapshots":1}`)}, nil)
		}()
	}
}

// jobRun is one simulated restic job of the ingest scenario.
type jobRun struct {
	a              *agent
	id, repoID     string
	t0             time.Time
	acked          atomic.Int64 // highest log seq accepted (lines are sent in order)
	steadyProduced int64
	steadyDone     atomic.Bool
	loopsDone      chan struct{}
	sendMu         sync.Mutex
}

func (j *jobRun) produced(now time.Time) int64 {
	return int64(j.a.sim.cfg.logRate * now.Sub(j.t0).Seconds())
}

func (j *jobRun) run(ctx context.Context) {
	a := j.a
	defer close(j.loopsDone)
	if err := a.call(ctx, "job_start", http.MethodPost, pathWith(protocol.PathJobStart, j.id), protocol.JobStart{StartedAt: time.Now().UTC()}, nil); err != nil {
		a.sim.note("job start %s: %v", j.id, err)
		return
	}
	a.sim.running.Add(1)
	select {
	case <-a.sim.jobsGo:
	case <-ctx.Done():
		return
	}
	j.t0 = time.Now()
	a.sim.addJob(j)
	prog := a.sim.cfg.progressInterval
	if prog <= 0 {
		prog = time.Duration(max(a.pacing.ProgressIntervalSeconds, 1)) * time.Second
	}
	logIv := a.sim.cfg.logInterval
	if logIv <= 0 {
		logIv = time.Duration(max(a.pacing.LogIntervalSeconds, 1)) * time.Second
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); j.progressLoop(ctx, prog) }()
	go func() { defer wg.Done(); j.logLoop(ctx, logIv) }()
	wg.Wait()
	j.steadyProduced = j.produced(time.Now())
	j.steadyDone.Store(true)
}

// ticks calls fn at t0+offset+k·interval until ctx ends, recording how late each call
// started (lag); ticks missed entirely are skipped and counted.
func (j *jobRun) ticks(ctx context.Context, name string, interval time.Duration, fn func() bool) {
	rs := j.a.sim.rs
	next := time.Now().Add(rand.N(interval))
	for ctx.Err() == nil {
		sleep(ctx, time.Until(next))
		if ctx.Err() != nil {
			return
		}
		rs.ok(name+".lag", max(0, time.Since(next)))
		fn()
		next = next.Add(interval)
		if now := time.Now(); now.After(next) {
			missed := int64(now.Sub(next) / interval)
			if missed > 0 {
				for range missed {
					rs.ok(name+".missed_tick", 0)
				}
				next = next.Add(time.Duration(missed) * interval)
			}
		}
	}
}

func (j *jobRun) progressLoop(ctx context.Context, interval time.Duration) {
	var n int64
	total := int64(20_000)
	j.ticks(ctx, "progress", interval, func() bool {
		n++
		done := min(total, n*37)
		p := protocol.Progress{At: time.Now().UTC(), PercentDone: float64(done) / float64(total), FilesDone: done, TotalFiles: total,
			BytesDone: done * 104_857, TotalBytes: total * 104_857, SecondsElapsed: int64(time.Since(j.t0).Seconds()),
			SecondsRemaining: 120, BytesPerSecond: 52_428_800, CurrentFiles: []string{"/srv/data/dir" + strconv.FormatInt(n%97, 10) + "/file.bin"}}
		return j.a.call(ctx, "progress", http.MethodPost, pathWith(protocol.PathJobProgress, j.id), p, nil) == nil
	})
}

func (j *jobRun) logLoop(ctx context.Context, interval time.Duration) {
	j.ticks(ctx, "logs", interval, func() bool {
		j.sendMu.Lock()
		defer j.sendMu.Unlock()
		from := j.acked.Load() + 1
		to := min(j.produced(time.Now()), from+4999)
		if to < from {
			return true
		}
		body := logBatch(from, to, j.a.sim.cfg.lineBytes)
		var res protocol.LogBatchResult
		if err := j.a.call(ctx, "logs", http.MethodPost, pathWith(protocol.PathJobLogs, j.id), body, &res); err != nil {
			return false
		}
		j.acked.Store(to)
		j.a.sim.rs.get("logs.lines").total.Add(int64(res.Accepted))
		return true
	})
}

var lineText = func() string {
	s := "[0:12] 45.12%  1234 files 567.890 MiB, total 2734 files 1.234 GiB, 0 errors ETA 0:15 /srv/data/some/dir/file.bin "
	for len(s) < 64<<10 {
		s += s
	}
	return s
}()

// logBatch builds a LogBatch body for seqs from..to without reflection.
func logBatch(from, to int64, lineBytes int) []byte {
	text := lineText[:min(max(lineBytes, 1), len(lineText))]
	at := time.Now().UTC().Format(time.RFC3339Nano)
	buf := make([]byte, 0, int(to-from+1)*(len(text)+80)+16)
	buf = append(buf, `{"lines":[`...)
	for s := from; s <= to; s++ {
		if s > from {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"seq":`...)
		buf = strconv.AppendInt(buf, s, 10)
		buf = append(buf, `,"at":"`...)
		buf = append(buf, at...)
		buf = append(buf, `","stream":"stdout","text":"`...)
		buf = append(buf, text...)
		buf = append(buf, `"}`...)
	}
	return append(buf, "]}"...)
}

// burstPhase sends the largest batches the protocol allows, from a few jobs at once, for
// the burst duration: the peak log ingest rate.
func (s *sim) burstPhase(ctx context.Context) (int64, time.Duration) {
	jobs := s.jobsSnapshot()
	w := min(s.cfg.burstWorkers, len(jobs))
	if w == 0 {
		s.note("burst: no jobs")
		return 0, 0
	}
	var lines atomic.Int64
	start := phase("burst-start")
	s.rs.measuring.Store(true) // burst requests are recorded under their own name
	deadline := start.Add(s.cfg.burst)
	bctx, cancel := context.WithDeadline(ctx, deadline.Add(30*time.Second))
	defer cancel()
	var wg sync.WaitGroup
	for i := 0; i < w; i++ {
		j := jobs[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 100_000 && time.Now().Before(deadline) && bctx.Err() == nil; k++ {
				j.sendMu.Lock()
				from := j.acked.Load() + 1
				to := from + int64(s.cfg.burstBatch) - 1
				body := logBatch(from, to, s.cfg.lineBytes)
				var res protocol.LogBatchResult
				err := j.a.call(bctx, "burst.logs", http.MethodPost, pathWith(protocol.PathJobLogs, j.id), body, &res)
				if err == nil {
					j.acked.Store(to)
					lines.Add(int64(res.Accepted))
				}
				j.sendMu.Unlock()
				if err != nil {
					s.note("burst: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	s.rs.measuring.Store(false)
	phase("burst-end")
	return lines.Load(), el
}

// finishAll finishes every job and reports its repository's snapshots and stats, as the
// agent does after a backup.
func (s *sim) finishAll(ctx context.Context) {
	jobs := s.jobsSnapshot()
	s.rs.measuring.Store(true)
	defer s.rs.measuring.Store(false)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for _, j := range jobs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			a := j.a
			err := a.call(ctx, "final.finish", http.MethodPost, pathWith(protocol.PathJobFinish, j.id), protocol.JobFinish{
				Status: protocol.JobSucceeded, FinishedAt: time.Now().UTC(), LogLines: j.acked.Load(),
				Summary: json.RawMessage(`{"files_new":12,"files_changed":3,"files_unmodified":19985,"data_added":1048576,"total_files_processed":20000,"total_bytes_processed":2147483648,"snapshot_id":"` + snapID(j.id, 0) + `"}`),
			}, nil)
			if err == nil {
				s.running.Add(-1)
			}
			if j.repoID == "" {
				return
			}
			_ = a.call(ctx, "final.snapshots", http.MethodPost, pathWith(protocol.PathRepoSnapshots, j.repoID), snapshotReport(a.hostname, j.id, s.cfg.snapshots), nil)
			_ = a.call(ctx, "final.stats", http.MethodPost, pathWith(protocol.PathRepoStats, j.repoID), protocol.RepoStats{
				At: time.Now().UTC(), TotalSize: 3 << 30, TotalFileCount: 20_000, SnapshotsCount: int64(s.cfg.snapshots), CompressionRatio: 1.4}, nil)
		}()
	}
	waitTimeout(&wg, 2*time.Minute)
}

func snapID(seed string, i int) string {
	h := sha256.Sum256([]byte(seed + "/" + strconv.Itoa(i)))
	return hex.EncodeToString(h[:])
}

func snapshotReport(hostname, seed string, n int) protocol.SnapshotReport {
	rep := protocol.SnapshotReport{TakenAt: time.Now().UTC()}
	base := time.Now().UTC().Add(-time.Duration(n) * 24 * time.Hour)
	for i := 0; i < n; i++ {
		id := snapID(seed, i)
		sn := protocol.Snapshot{ID: id, ShortID: id[:8], Time: base.Add(time.Duration(i) * 24 * time.Hour), Hostname: hostname,
			Username: "root", Paths: []string{"/srv/data"}, Tags: []string{"daily"}, Tree: snapID(seed+"tree", i),
			Summary: json.RawMessage(fmt.Sprintf(`{"files_new":%d,"data_added":%d}`, i, i*1024))}
		if i > 0 {
			sn.Parent = snapID(seed, i-1)
		}
		rep.Snapshots = append(rep.Snapshots, sn)
	}
	return rep
}
