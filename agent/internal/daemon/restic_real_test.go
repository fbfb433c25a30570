package daemon

import (
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/agent/internal/fakeserver"
	"github.com/restic-manager/restic-manager/agent/internal/restic"
	"github.com/restic-manager/restic-manager/common/protocol"
)

// resticBinary finds a real restic for daemon-level tests: $RESTIC_BINARY, else PATH.
func resticBinary(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("RESTIC_BINARY"); b != "" {
		return b
	}
	b, err := exec.LookPath("restic")
	if err != nil {
		t.Skip("restic not installed")
	}
	return b
}

func TestRealResticJobs(t *testing.T) {
	bin := resticBinary(t)
	h := newHarness(t)
	r := restic.New(bin, slog.New(slog.DiscardHandler))
	r.CacheDir = filepath.Join(t.TempDir(), "cache")
	h.runner = r

	data := t.TempDir()
	for i, name := range []string{"a.txt", "b.txt", "sub/c.txt"} {
		p := filepath.Join(data, name)
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(strings.Repeat("restic-manager ", 1000*(i+1))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	repoDir := filepath.Join(t.TempDir(), "repo")
	rp := protocol.Repository{ID: "real", Name: "real", URL: repoDir, Password: "correct horse battery staple"}
	h.start()

	run := func(spec protocol.RunSpec) fakeserver.Job {
		t.Helper()
		spec.Repository = rp
		h.srv.AddRun(spec)
		return waitFinished(t, h.srv, spec.JobID, 60*time.Second)
	}
	if j := run(protocol.RunSpec{JobID: "init", Kind: protocol.KindInit}); j.Finish.Status != protocol.JobSucceeded {
		t.Fatalf("init: %+v\n%s", j.Finish, j.LogText())
	}
	for _, id := range []string{"backup-1", "backup-2"} {
		j := run(protocol.RunSpec{JobID: id, Kind: protocol.KindBackup, Paths: []string{data}, Tags: []string{"test"}})
		if j.Finish.Status != protocol.JobSucceeded || len(j.Finish.Summary) == 0 {
			t.Fatalf("%s: %+v\n%s", id, j.Finish, j.LogText())
		}
		if strings.Contains(j.LogText(), rp.Password) {
			t.Fatal("the repository password leaked into the job log")
		}
	}
	fakeserver.Eventually(t, 30*time.Second, "snapshot report with two snapshots", func() bool {
		reps := h.srv.Snapshots("real")
		return len(reps) == 2 && len(reps[1].Snapshots) == 2
	})
	forget := protocol.RunSpec{JobID: "forget", Kind: protocol.KindForget, Retention: &protocol.Retention{KeepLast: 1},
		Options: &protocol.JobOptions{Prune: true}}
	if j := run(forget); j.Finish.Status != protocol.JobSucceeded {
		t.Fatalf("forget: %+v\n%s", j.Finish, j.LogText())
	}
	fakeserver.Eventually(t, 30*time.Second, "snapshot report after forget", func() bool {
		reps := h.srv.Snapshots("real")
		return len(reps) == 3 && len(reps[2].Snapshots) == 1
	})
	fakeserver.Eventually(t, 30*time.Second, "stats samples", func() bool {
		st := h.srv.Stats("real")
		return len(st) == 3 && st[2].SnapshotsCount == 1 && st[2].TotalSize > 0
	})

	// A wrong password fails with a sentence, not a crash.
	rp.Password = "wrong"
	if j := run(protocol.RunSpec{JobID: "bad-pw", Kind: protocol.KindBackup, Paths: []string{data}}); j.Finish.Status != protocol.JobFailed || j.Finish.Error == "" {
		t.Fatalf("wrong password: %+v", j.Finish)
	}
}
