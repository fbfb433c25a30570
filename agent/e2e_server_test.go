package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/agent/internal/fakeserver"
	"github.com/restic-manager/restic-manager/agent/internal/state"
)

// TestRealServerSmoke enrols and runs the agent against the real server binary named by
// $RM_E2E_SERVER (build it with: go build -o /tmp/rm-server ./server). It is skipped
// without it. It covers the wire contract of enroll, hello, poll and the schedule ack on
// the server's embedded database; job runs need the operator API and are the lead's
// end-to-end suite.
func TestRealServerSmoke(t *testing.T) {
	bin := os.Getenv("RM_E2E_SERVER")
	if bin == "" {
		t.Skip("set RM_E2E_SERVER to a server binary to run")
	}
	dir := t.TempDir()
	addrFile := filepath.Join(dir, "addr")
	data := filepath.Join(dir, "data")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var serverLog bytes.Buffer
	srv := exec.CommandContext(ctx, bin, "serve", "--listen", "127.0.0.1:0", "--data-dir", data,
		"--addr-file", addrFile, "--poll-hold", "2s")
	srv.Stdout, srv.Stderr = &serverLog, &serverLog
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = srv.Wait() }()
	var addr string
	fakeserver.Eventually(t, 30*time.Second, "server address", func() bool {
		b, err := os.ReadFile(addrFile)
		addr = strings.TrimSpace(string(b))
		return err == nil && addr != ""
	})
	out, err := exec.CommandContext(ctx, bin, "enroll-token", "--data-dir", data).Output()
	if err != nil {
		t.Fatalf("enroll-token: %v\n%s", err, serverLog.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	token := lines[len(lines)-1]

	cfgPath := filepath.Join(dir, "agent.yaml")
	stateDir := filepath.Join(dir, "state")
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"enroll", "--server", "http://" + addr, "--token", token, "--config", cfgPath,
		"--state-dir", stateDir}, env(nil), &stdout, &stderr); code != 0 {
		t.Fatalf("enroll: %d %s", code, stderr.String())
	}
	actx, stop := context.WithCancel(ctx)
	done := make(chan int, 1)
	var logs bytes.Buffer
	go func() {
		done <- run(actx, []string{"run", "--config", cfgPath, "--startup-jitter", "0", "--log-format", "text"}, env(nil), &bytes.Buffer{}, &logs)
	}()
	fakeserver.Eventually(t, 20*time.Second, "agent online with the schedule set acknowledged", func() bool {
		st, ok, _ := state.ReadStatus(stateDir)
		return ok && st.State == state.StateOnline && st.ScheduleVersion >= 1
	})
	time.Sleep(3 * time.Second) // a few polls
	stop()
	if code := <-done; code != 0 {
		t.Fatalf("agent exit %d\n%s", code, logs.String())
	}
	if strings.Contains(logs.String(), "level=ERROR") || strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("agent complained:\n%s", logs.String())
	}
}
