package agentapi_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/servertest"
	"github.com/restic-manager/restic-manager/server/internal/storetest"
)

// buildServer compiles the server binary once per test.
func buildServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "server")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/restic-manager/restic-manager/server")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build server: %v\n%s", err, out)
	}
	return bin
}

// startReplica runs the server binary on the database and returns its base URL.
func startReplica(t *testing.T, bin, dbURL string) string {
	t.Helper()
	dir := t.TempDir()
	addrFile := filepath.Join(dir, "addr")
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "serve", "-listen", "127.0.0.1:0", "-addr-file", addrFile, "-data-dir", dir,
		"-database-url", dbURL, "-poll-hold", "20s", "-log-level", "warn")
	cmd.Env = append(os.Environ(), "RM_SECRET_KEY=KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cancel()
			<-done
		}
		cancel()
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(addrFile); err == nil && len(b) > 0 {
			return "http://" + strings.TrimSpace(string(b))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("replica did not start")
	return ""
}

// TestTwoReplicasOnOnePostgres: an agent holds a poll on replica B (a separate server
// process); commands created through replica A (this process's server) reach it through
// LISTEN/NOTIFY, long before the 20 s hold would end.
func TestTwoReplicasOnOnePostgres(t *testing.T) {
	t.Parallel()
	dbURL := storetest.NewPostgresDB(t)
	replicaA := servertest.Start(t, servertest.Options{DBURL: dbURL, PollHold: 20 * time.Second})
	replicaB := startReplica(t, buildServer(t), dbURL)

	agent := servertest.EnrollAt(t, replicaB, replicaA.EnrollmentToken(t), "replicated")
	h := host{Agent: agent, env: replicaA}
	r, err := replicaA.Server.Dispatcher.CreateRepository(context.Background(), agent.HostID, storeRepo("replicated"))
	if err != nil {
		t.Fatal(err)
	}
	h.repo = r
	first := h.Poll(t, 0, 0, 0, 30)
	cursor, sv, cv := first.Cursor, first.ScheduleSet.Version, first.Config.Version

	const rounds = 10
	var lags []time.Duration
	for i := 0; i < rounds; i++ {
		got := make(chan protocol.PollResponse, 1)
		go func() { got <- h.Poll(t, cursor, sv, cv, 30) }()
		time.Sleep(300 * time.Millisecond) // the poll is held on B by now
		created := time.Now()
		job := h.run(t, protocol.KindSnapshots) // through replica A
		resp := <-got
		lag := time.Since(created)
		if len(resp.Commands) != 1 || resp.Commands[0].JobID != job.ID {
			t.Fatalf("round %d: poll on B answered %+v", i, resp.Commands)
		}
		if lag > 5*time.Second {
			t.Fatalf("round %d: command took %s to reach replica B (hold is 20 s: no wake-up)", i, lag)
		}
		cursor = resp.Cursor
		lags = append(lags, lag)
		h.JSON(t, "POST", "/api/v1/agent/commands/"+itoa(resp.Commands[0].ID)+"/result", protocol.CommandResult{Status: protocol.CommandAccepted}, nil)
	}
	slices.Sort(lags)
	t.Logf("replica A -> NOTIFY -> replica B -> held poll: p50 %s, max %s over %d rounds (includes job creation)", lags[rounds/2], lags[rounds-1], rounds)
}
