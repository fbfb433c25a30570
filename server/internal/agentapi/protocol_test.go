package agentapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/agentapi"
	"github.com/restic-manager/restic-manager/server/internal/app"
	"github.com/restic-manager/restic-manager/server/internal/config"
	"github.com/restic-manager/restic-manager/server/internal/servertest"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// host is an enrolled agent with a repository on a running server.
type host struct {
	*servertest.Agent
	env  *servertest.Env
	repo store.Repository
}

func newHost(t *testing.T, env *servertest.Env, name string) host {
	t.Helper()
	a := env.Enroll(t, name)
	r, err := env.Server.Dispatcher.CreateRepository(context.Background(), a.HostID,
		store.RepositoryInput{Name: "local", URL: "/srv/restic-" + name, Password: "pw-" + name})
	if err != nil {
		t.Fatal(err)
	}
	return host{Agent: a, env: env, repo: r}
}

func (h host) run(t *testing.T, kind string) store.Job {
	t.Helper()
	req := store.RunRequest{Kind: kind, RepositoryID: h.repo.ID, ActorType: store.ActorAPI}
	if kind == protocol.KindBackup {
		req.Paths = []string{"/etc"}
	}
	j, err := h.env.Server.Dispatcher.EnqueueRun(context.Background(), h.HostID, req)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func errCode(t *testing.T, raw []byte) string {
	t.Helper()
	var e protocol.Error
	if err := json.Unmarshal(raw, &e); err != nil || e.Code == "" || e.Message == "" {
		t.Fatalf("error body is not {code, message}: %s", raw)
	}
	return e.Code
}

func TestEnrollAndHello(t *testing.T) {
	t.Parallel()
	env := servertest.Start(t, servertest.Options{})
	tok := env.EnrollmentToken(t)
	a := servertest.EnrollAt(t, env.URL, tok, "db-1")
	if a.HostID == "" || len(a.Credential) < 43 {
		t.Fatalf("enrol: %+v", a)
	}
	// The token was single-use.
	anon := &servertest.Agent{URL: env.URL, Client: http.DefaultClient}
	st, raw := anon.Do(t, http.MethodPost, protocol.PathEnroll, protocol.EnrollRequest{Token: tok, Hostname: "db-2"})
	if st != http.StatusUnauthorized || errCode(t, raw) != protocol.CodeEnrollmentToken {
		t.Fatalf("reused token: %d %s", st, raw)
	}
	hello := protocol.HelloRequest{ProtocolVersion: 1, Hostname: "db-1", OS: "linux", Arch: "arm64", AgentVersion: "0.1.0", ResticVersion: "0.14.0"}
	var hr protocol.HelloResponse
	if st := a.JSON(t, http.MethodPost, protocol.PathHello, hello, &hr); st != http.StatusOK || hr.ProtocolVersion != 1 || hr.HostID != a.HostID || hr.Pacing.PollHoldSeconds < 1 {
		t.Fatalf("hello: %d %+v", st, hr)
	}
	h, err := env.Store.Host(context.Background(), a.HostID)
	if err != nil || h.ResticVersion != "0.14.0" || h.Arch != "arm64" || h.LastSeenAt == nil {
		t.Fatalf("host after hello: %+v %v", h, err)
	}
	newer := hello
	newer.ProtocolVersion, newer.MinProtocolVersion = 7, 5
	st, raw = a.Do(t, http.MethodPost, protocol.PathHello, newer)
	if st != http.StatusBadRequest || errCode(t, raw) != protocol.CodeProtocolTooNew {
		t.Fatalf("too new: %d %s", st, raw)
	}
	// A wider agent range negotiates down to what the server speaks.
	newer.MinProtocolVersion = 1
	if st := a.JSON(t, http.MethodPost, protocol.PathHello, newer, &hr); st != http.StatusOK || hr.ProtocolVersion != protocol.Version {
		t.Fatalf("negotiation: %d %+v", st, hr)
	}
	anon.Credential = "rmh_not-a-credential"
	if st, raw := anon.Do(t, http.MethodPost, protocol.PathHello, hello); st != http.StatusUnauthorized || errCode(t, raw) != protocol.CodeUnauthorized {
		t.Fatalf("bad credential: %d %s", st, raw)
	}
}

func TestHelloProtocolTooOld(t *testing.T) {
	t.Parallel()
	env := servertest.Start(t, servertest.Options{App: []app.Option{func(c *agentapi.Config) { c.MinProtocol, c.MaxProtocol = 2, 3 }}})
	a := env.Enroll(t, "old")
	st, raw := a.Do(t, http.MethodPost, protocol.PathHello, protocol.HelloRequest{ProtocolVersion: 1, Hostname: "old"})
	if st != http.StatusUpgradeRequired || errCode(t, raw) != protocol.CodeProtocolTooOld {
		t.Fatalf("too old: %d %s", st, raw)
	}
}

func TestPollReturnsAtOnceOnNewCommand(t *testing.T) {
	t.Parallel()
	env := servertest.Start(t, servertest.Options{PollHold: 20 * time.Second})
	h := newHost(t, env, "web")
	set := h.Poll(t, 0, 0, 0, 30) // schedule set and config versions are new: returns at once
	if set.ScheduleSet == nil || set.Config == nil {
		t.Fatalf("first poll lacks desired state: %+v", set)
	}
	type result struct {
		resp protocol.PollResponse
		took time.Duration
	}
	got := make(chan result, 1)
	go func() {
		start := time.Now()
		r := h.Poll(t, set.Cursor, set.ScheduleSet.Version, set.Config.Version, 30)
		got <- result{r, time.Since(start)}
	}()
	time.Sleep(300 * time.Millisecond)
	created := time.Now()
	job := h.run(t, protocol.KindBackup)
	r := <-got
	lag := time.Since(created)
	if len(r.resp.Commands) != 1 || r.resp.Commands[0].JobID != job.ID || r.resp.Commands[0].Type != protocol.CommandRun {
		t.Fatalf("poll answer: %+v", r.resp)
	}
	run := r.resp.Commands[0].Run
	if run == nil || run.Repository.Password != "pw-web" || run.Paths[0] != "/etc" || r.resp.Cursor != r.resp.Commands[0].ID {
		t.Fatalf("command.run: %+v cursor %d", run, r.resp.Cursor)
	}
	if lag > 2*time.Second {
		t.Fatalf("poll answered %s after the command was created", lag)
	}
	t.Logf("command reached the held poll %s after it was created", lag)
}

func TestIdlePollHoldsThenAnswersEmpty(t *testing.T) {
	t.Parallel()
	env := servertest.Start(t, servertest.Options{PollHold: 1500 * time.Millisecond})
	h := newHost(t, env, "idle")
	first := h.Poll(t, 0, 0, 0, 30)
	start := time.Now()
	r := h.Poll(t, first.Cursor, first.ScheduleSet.Version, first.Config.Version, 30)
	took := time.Since(start)
	if len(r.Commands) != 0 || r.ScheduleSet != nil || r.Config != nil {
		t.Fatalf("idle poll returned news: %+v", r)
	}
	if took < 1300*time.Millisecond || took > 5*time.Second {
		t.Fatalf("idle poll held %s, want about 1.5 s", took)
	}
	// The agent's wait bounds the hold: wait=6 leaves 1 s.
	env2 := servertest.Start(t, servertest.Options{PollHold: 20 * time.Second})
	h2 := newHost(t, env2, "short")
	f2 := h2.Poll(t, 0, 0, 0, 30)
	start = time.Now()
	h2.Poll(t, f2.Cursor, f2.ScheduleSet.Version, f2.Config.Version, 6)
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("hold ignored the agent's wait: %s", took)
	}
}

func TestScheduleAndConfigVersions(t *testing.T) {
	t.Parallel()
	env := servertest.Start(t, servertest.Options{PollHold: 10 * time.Second})
	h := newHost(t, env, "sched")
	first := h.Poll(t, 0, 0, 0, 30)
	v1 := first.ScheduleSet.Version
	if len(first.ScheduleSet.Repositories) != 1 || first.ScheduleSet.Repositories[0].Password != "pw-sched" {
		t.Fatalf("set repos: %+v", first.ScheduleSet.Repositories)
	}
	got := make(chan protocol.PollResponse, 1)
	go func() { got <- h.Poll(t, first.Cursor, v1, first.Config.Version, 30) }()
	time.Sleep(200 * time.Millisecond)
	sc, err := env.Server.Dispatcher.CreateSchedule(context.Background(), h.HostID, store.ScheduleInput{
		RepositoryID: h.repo.ID, Name: "nightly", Kind: protocol.KindBackup, Cron: "0 3 * * *", Paths: []string{"/home"}, Enabled: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.ScheduleSet == nil || r.ScheduleSet.Version <= v1 || len(r.ScheduleSet.Schedules) != 1 || r.ScheduleSet.Schedules[0].ID != sc.ID {
		t.Fatalf("schedule change not delivered: %+v", r.ScheduleSet)
	}
	if r.Config != nil {
		t.Fatal("config sent though its version did not change")
	}
	// Level-triggered: an agent that lost the answer still gets the set.
	again := h.Poll(t, r.Cursor, v1, first.Config.Version, 30)
	if again.ScheduleSet == nil || again.ScheduleSet.Version != r.ScheduleSet.Version {
		t.Fatalf("lost answer not repeated: %+v", again.ScheduleSet)
	}
	var ok protocol.Empty
	if st := h.JSON(t, http.MethodPost, protocol.PathScheduleAck, protocol.ScheduleAck{Version: r.ScheduleSet.Version, AppliedAt: time.Now()}, &ok); st != http.StatusOK {
		t.Fatalf("ack: %d", st)
	}
	hs, _ := env.Store.Host(context.Background(), h.HostID)
	if hs.ScheduleAppliedVersion != r.ScheduleSet.Version {
		t.Fatalf("applied version %d", hs.ScheduleAppliedVersion)
	}
	st, raw := h.Do(t, http.MethodPost, protocol.PathScheduleAck, protocol.ScheduleAck{Version: 999, AppliedAt: time.Now()})
	if st != http.StatusBadRequest || errCode(t, raw) != protocol.CodeValidation {
		t.Fatalf("ack of unissued version: %d %s", st, raw)
	}
}

func TestAckAndRedeliveryAfterLease(t *testing.T) {
	t.Parallel()
	env := servertest.Start(t, servertest.Options{PollHold: 10 * time.Second, Lease: time.Second})
	h := newHost(t, env, "lease")
	first := h.Poll(t, 0, 0, 0, 30)
	sv, cv := first.ScheduleSet.Version, first.Config.Version
	job := h.run(t, protocol.KindCheck)
	r1 := h.Poll(t, first.Cursor, sv, cv, 30)
	if len(r1.Commands) != 1 || r1.Commands[0].JobID != job.ID {
		t.Fatalf("delivery: %+v", r1.Commands)
	}
	// Not acknowledged: the held poll is answered again when the lease runs out.
	start := time.Now()
	r2 := h.Poll(t, r1.Cursor, sv, cv, 30)
	if len(r2.Commands) != 1 || r2.Commands[0].ID != r1.Commands[0].ID {
		t.Fatalf("redelivery: %+v", r2.Commands)
	}
	if took := time.Since(start); took < 500*time.Millisecond || took > 4*time.Second {
		t.Fatalf("redelivered after %s, want about the 1 s lease", took)
	}
	var ok protocol.Empty
	path := fmt.Sprintf("/api/v1/agent/commands/%d/result", r2.Commands[0].ID)
	if st := h.JSON(t, http.MethodPost, path, protocol.CommandResult{Status: protocol.CommandAccepted}, &ok); st != http.StatusOK {
		t.Fatalf("ack: %d", st)
	}
	if st := h.JSON(t, http.MethodPost, path, protocol.CommandResult{Status: protocol.CommandAccepted}, &ok); st != http.StatusOK {
		t.Fatalf("repeated ack: %d", st)
	}
	time.Sleep(1200 * time.Millisecond)
	r3 := h.Poll(t, r2.Cursor, sv, cv, 7) // holds 2 s, must not redeliver
	if len(r3.Commands) != 0 {
		t.Fatalf("acknowledged command redelivered: %+v", r3.Commands)
	}
}

func TestJobReportsAreIdempotent(t *testing.T) {
	t.Parallel()
	env := servertest.Start(t, servertest.Options{})
	h := newHost(t, env, "jobs")
	job := h.run(t, protocol.KindBackup)
	var js protocol.JobState
	if st := h.JSON(t, http.MethodPost, servertest.Path(protocol.PathJobStart, job.ID), protocol.JobStart{StartedAt: time.Now()}, &js); st != http.StatusOK || js.Status != protocol.JobRunning {
		t.Fatalf("start: %d %+v", st, js)
	}
	if st := h.JSON(t, http.MethodPost, servertest.Path(protocol.PathJobStart, job.ID), protocol.JobStart{StartedAt: time.Now()}, &js); st != http.StatusOK {
		t.Fatalf("repeated start: %d", st)
	}
	if st := h.JSON(t, http.MethodPost, servertest.Path(protocol.PathJobProgress, job.ID), protocol.Progress{PercentDone: 0.4, FilesDone: 4, TotalFiles: 10}, &js); st != http.StatusOK || js.CancelRequested {
		t.Fatalf("progress: %d %+v", st, js)
	}
	batch := func(seqs ...int64) protocol.LogBatch {
		var b protocol.LogBatch
		for _, s := range seqs {
			b.Lines = append(b.Lines, protocol.LogLine{Seq: s, At: time.Now(), Stream: "stdout", Text: fmt.Sprintf("line %d", s)})
		}
		return b
	}
	var lr protocol.LogBatchResult
	// Out of order, with overlaps and repeats.
	for _, b := range []struct {
		seqs     []int64
		accepted int
	}{{[]int64{4, 5, 6}, 3}, {[]int64{1, 2, 3}, 3}, {[]int64{2, 3, 4, 7}, 1}, {[]int64{1, 2, 3, 4, 5, 6, 7}, 0}} {
		if st := h.JSON(t, http.MethodPost, servertest.Path(protocol.PathJobLogs, job.ID), batch(b.seqs...), &lr); st != http.StatusOK || lr.Accepted != b.accepted || lr.Duplicates != len(b.seqs)-b.accepted {
			t.Fatalf("logs %v: %d %+v", b.seqs, st, lr)
		}
	}
	lines, _ := env.Store.Logs(context.Background(), job.ID, 0, 100)
	if len(lines) != 7 {
		t.Fatalf("stored %d lines, want 7", len(lines))
	}
	for i, l := range lines {
		if l.Seq != int64(i+1) || l.Text != fmt.Sprintf("line %d", i+1) {
			t.Fatalf("line %d: %+v", i, l)
		}
	}
	fin := protocol.JobFinish{Status: protocol.JobSucceeded, ExitCode: 0, Summary: json.RawMessage(`{"snapshot_id":"abcd1234"}`), FinishedAt: time.Now(), LogLines: 7}
	for i := 0; i < 3; i++ {
		if st := h.JSON(t, http.MethodPost, servertest.Path(protocol.PathJobFinish, job.ID), fin, &js); st != http.StatusOK || js.Status != protocol.JobSucceeded {
			t.Fatalf("finish %d: %d %+v", i, st, js)
		}
	}
	other := fin
	other.Status, other.Error = protocol.JobFailed, "late"
	if st := h.JSON(t, http.MethodPost, servertest.Path(protocol.PathJobFinish, job.ID), other, &js); st != http.StatusOK || js.Status != protocol.JobSucceeded {
		t.Fatalf("conflicting finish: %d %+v", st, js)
	}
	st, raw := h.Do(t, http.MethodPost, servertest.Path(protocol.PathJobStart, job.ID), protocol.JobStart{StartedAt: time.Now()})
	if st != http.StatusConflict || errCode(t, raw) != protocol.CodeJobFinished {
		t.Fatalf("start after finish: %d %s", st, raw)
	}
	stored, _ := env.Store.Job(context.Background(), h.HostID, job.ID)
	if stored.Error != "" || stored.LogLinesReported != 7 || stored.ExitCode == nil || *stored.ExitCode != 0 {
		t.Fatalf("stored job: %+v", stored)
	}
}

func TestCancelReachesAgentTwice(t *testing.T) {
	t.Parallel()
	env := servertest.Start(t, servertest.Options{PollHold: 5 * time.Second})
	h := newHost(t, env, "cancel")
	first := h.Poll(t, 0, 0, 0, 30)
	job := h.run(t, protocol.KindBackup)
	r := h.Poll(t, first.Cursor, first.ScheduleSet.Version, first.Config.Version, 30)
	h.JSON(t, http.MethodPost, servertest.Path(protocol.PathJobStart, job.ID), protocol.JobStart{StartedAt: time.Now()}, nil)
	if _, err := env.Server.Dispatcher.CancelJob(context.Background(), h.HostID, job.ID, "operator asked"); err != nil {
		t.Fatal(err)
	}
	var js protocol.JobState
	h.JSON(t, http.MethodPost, servertest.Path(protocol.PathJobProgress, job.ID), protocol.Progress{PercentDone: 0.1}, &js)
	if !js.CancelRequested {
		t.Fatal("progress answer does not say cancelled")
	}
	var lr protocol.LogBatchResult
	h.JSON(t, http.MethodPost, servertest.Path(protocol.PathJobLogs, job.ID), protocol.LogBatch{Lines: []protocol.LogLine{{Seq: 1, Stream: "agent", Text: "x"}}}, &lr)
	if !lr.CancelRequested {
		t.Fatal("log answer does not say cancelled")
	}
	r2 := h.Poll(t, r.Cursor, first.ScheduleSet.Version, first.Config.Version, 30)
	if len(r2.Commands) != 1 || r2.Commands[0].Type != protocol.CommandCancel || r2.Commands[0].JobID != job.ID {
		t.Fatalf("cancel command: %+v", r2.Commands)
	}
}

func TestSnapshotReplacementAndStats(t *testing.T) {
	t.Parallel()
	env := servertest.Start(t, servertest.Options{})
	h := newHost(t, env, "snaps")
	now := time.Now().UTC().Truncate(time.Second)
	rep := func(ids ...string) protocol.SnapshotReport {
		r := protocol.SnapshotReport{TakenAt: now}
		for i, id := range ids {
			r.Snapshots = append(r.Snapshots, protocol.Snapshot{ID: id, Time: now.Add(time.Duration(i) * time.Minute), Hostname: "snaps", Paths: []string{"/etc"}})
		}
		return r
	}
	path := servertest.Path(protocol.PathRepoSnapshots, h.repo.ID)
	if st := h.JSON(t, http.MethodPost, path, rep("aaaaaaaa", "bbbbbbbb"), nil); st != http.StatusOK {
		t.Fatalf("first report: %d", st)
	}
	full := strings.Repeat("c", 64)
	if st := h.JSON(t, http.MethodPost, path, rep("bbbbbbbb", full), nil); st != http.StatusOK {
		t.Fatalf("second report: %d", st)
	}
	snaps, _ := env.Store.Snapshots(context.Background(), h.HostID, h.repo.ID)
	if len(snaps) != 2 || snaps[0].SnapshotID != full || snaps[0].ShortID != "cccccccc" || snaps[1].SnapshotID != "bbbbbbbb" {
		t.Fatalf("projection: %+v", snaps)
	}
	if st := h.JSON(t, http.MethodPost, servertest.Path(protocol.PathRepoStats, h.repo.ID), protocol.RepoStats{At: now, TotalSize: 1234, SnapshotsCount: 2}, nil); st != http.StatusOK {
		t.Fatalf("stats: %d", st)
	}
	hist, _ := env.Store.RepoStatsHistory(context.Background(), h.repo.ID, now.Add(-time.Hour))
	if len(hist) != 1 || hist[0].TotalSize != 1234 {
		t.Fatalf("stats history %+v", hist)
	}
}

func TestScheduleFireIsIdempotent(t *testing.T) {
	t.Parallel()
	env := servertest.Start(t, servertest.Options{})
	h := newHost(t, env, "fire")
	sc, err := env.Server.Dispatcher.CreateSchedule(context.Background(), h.HostID, store.ScheduleInput{
		RepositoryID: h.repo.ID, Name: "hourly", Kind: protocol.KindBackup, Cron: "0 * * * *", Paths: []string{"/var/www"}, Tags: []string{"web"}, Enabled: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	tick := time.Now().UTC().Truncate(time.Hour)
	path := servertest.Path(protocol.PathScheduleFire, sc.ID)
	var first, second protocol.ScheduleFireResponse
	if st := h.JSON(t, http.MethodPost, path, protocol.ScheduleFire{JobID: uuid.NewString(), ScheduledFor: tick}, &first); st != http.StatusOK || !first.Created {
		t.Fatalf("fire: %d %+v", st, first)
	}
	if st := h.JSON(t, http.MethodPost, path, protocol.ScheduleFire{JobID: uuid.NewString(), ScheduledFor: tick}, &second); st != http.StatusOK || second.Created {
		t.Fatalf("repeat fire: %d %+v", st, second)
	}
	if first.Job.JobID != second.Job.JobID || second.Command.Run == nil || second.Command.Run.JobID != first.Job.JobID {
		t.Fatalf("repeat returned another job: %s vs %s", first.Job.JobID, second.Job.JobID)
	}
	run := first.Command.Run
	if run.Kind != protocol.KindBackup || run.Paths[0] != "/var/www" || run.Tags[0] != "web" || run.Repository.Password != "pw-fire" || run.ScheduleID != sc.ID {
		t.Fatalf("fired command: %+v", run)
	}
}

func TestHostIsolation(t *testing.T) {
	t.Parallel()
	env := servertest.Start(t, servertest.Options{})
	a := newHost(t, env, "a")
	b := newHost(t, env, "b")
	jobB := b.run(t, protocol.KindBackup)
	scB, err := env.Server.Dispatcher.CreateSchedule(context.Background(), b.HostID, store.ScheduleInput{
		RepositoryID: b.repo.ID, Name: "x", Kind: protocol.KindCheck, Cron: "@daily", Enabled: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	firstB := b.Poll(t, 0, 0, 0, 30)
	cmdB := firstB.Commands[0].ID
	for _, c := range []struct {
		path string
		body any
	}{
		{servertest.Path(protocol.PathJobStart, jobB.ID), protocol.JobStart{StartedAt: time.Now()}},
		{servertest.Path(protocol.PathJobProgress, jobB.ID), protocol.Progress{}},
		{servertest.Path(protocol.PathJobLogs, jobB.ID), protocol.LogBatch{Lines: []protocol.LogLine{{Seq: 1, Stream: "stdout", Text: "evil"}}}},
		{servertest.Path(protocol.PathJobFinish, jobB.ID), protocol.JobFinish{Status: protocol.JobFailed, FinishedAt: time.Now()}},
		{servertest.Path(protocol.PathScheduleFire, scB.ID), protocol.ScheduleFire{JobID: uuid.NewString(), ScheduledFor: time.Now()}},
		{servertest.Path(protocol.PathRepoSnapshots, b.repo.ID), protocol.SnapshotReport{}},
		{servertest.Path(protocol.PathRepoStats, b.repo.ID), protocol.RepoStats{}},
		{fmt.Sprintf("/api/v1/agent/commands/%d/result", cmdB), protocol.CommandResult{Status: protocol.CommandRejected, Reason: "evil"}},
	} {
		st, raw := a.Do(t, http.MethodPost, c.path, c.body)
		if st != http.StatusNotFound || errCode(t, raw) != protocol.CodeNotFound {
			t.Errorf("agent A on %s: %d %s", c.path, st, raw)
		}
	}
	j, _ := env.Store.Job(context.Background(), b.HostID, jobB.ID)
	logs, _ := env.Store.Logs(context.Background(), jobB.ID, 0, 10)
	if j.Status != protocol.JobQueued || len(logs) != 0 {
		t.Fatalf("host B's job changed by A: %s, %d lines", j.Status, len(logs))
	}
	// A's own poll never carries B's command.
	ra := a.Poll(t, 0, 0, 0, 30)
	for _, c := range ra.Commands {
		if c.JobID == jobB.ID {
			t.Fatal("A received B's command")
		}
	}
}

func storeRepo(name string) store.RepositoryInput {
	return store.RepositoryInput{Name: "local", URL: "/srv/restic-" + name, Password: "pw-" + name}
}

func itoa(n int64) string { return fmt.Sprint(n) }

// TestIdlePollsDoNoDatabaseWork counts the store's statements across idle polls.
func TestIdlePollsDoNoDatabaseWork(t *testing.T) {
	t.Parallel()
	env := servertest.Start(t, servertest.Options{PollHold: 300 * time.Millisecond, Config: func(c *config.Config) {
		c.LastSeenFlush = time.Hour // isolate the polls from the batched last-seen write
	}})
	h := newHost(t, env, "quiet")
	first := h.Poll(t, 0, 0, 0, 30)
	h.Poll(t, first.Cursor, first.ScheduleSet.Version, first.Config.Version, 30) // warms the caches
	before := env.Store.Statements()
	for i := 0; i < 10; i++ {
		r := h.Poll(t, first.Cursor, first.ScheduleSet.Version, first.Config.Version, 30)
		if len(r.Commands) != 0 || r.ScheduleSet != nil {
			t.Fatalf("idle poll returned news: %+v", r)
		}
	}
	if n := env.Store.Statements() - before; n != 0 {
		t.Fatalf("10 idle polls ran %d database statements, want 0", n)
	}
	// And news still costs a query: the counter is live.
	h.run(t, protocol.KindStats)
	h.Poll(t, first.Cursor, first.ScheduleSet.Version, first.Config.Version, 30)
	if env.Store.Statements() == before {
		t.Fatal("statement counter did not move on a poll with news")
	}
}

func TestUpdateNotice(t *testing.T) {
	t.Parallel()
	env := servertest.Start(t, servertest.Options{PollHold: 200 * time.Millisecond, Config: func(c *config.Config) {
		c.RecommendedAgentVersion = "1.4.0"
		c.AgentPackageSource = "apt: restic-manager-agent"
	}})
	h := newHost(t, env, "old-agent")
	hello := protocol.HelloRequest{ProtocolVersion: 1, Hostname: "old-agent", AgentVersion: "1.3.9"}
	h.JSON(t, http.MethodPost, protocol.PathHello, hello, nil)
	r := h.Poll(t, 0, 0, 0, 30)
	if r.Update == nil || r.Update.LatestVersion != "1.4.0" || r.Update.PackageSource == "" {
		t.Fatalf("no update notice for 1.3.9: %+v", r.Update)
	}
	hello.AgentVersion = "1.4.0"
	h.JSON(t, http.MethodPost, protocol.PathHello, hello, nil)
	if r := h.Poll(t, r.Cursor, r.ScheduleSet.Version, r.Config.Version, 30); r.Update != nil {
		t.Fatalf("update notice for a current agent: %+v", r.Update)
	}
}
