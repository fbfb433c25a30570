package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/agent/internal/config"
	"github.com/restic-manager/restic-manager/agent/internal/fakeserver"
	"github.com/restic-manager/restic-manager/agent/internal/state"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestEnrollWritesConfig(t *testing.T) {
	srv := fakeserver.New(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "etc", "agent.yaml")
	stateDir := filepath.Join(dir, "state")
	getenv := env(map[string]string{config.EnvConfigPath: cfgPath})
	var out, errOut bytes.Buffer

	code := run(context.Background(), []string{"enroll", "--server", srv.URL(), "--token", "wrong", "--state-dir", stateDir}, getenv, &out, &errOut)
	if code == 0 || !strings.Contains(errOut.String(), "refused the enrollment token") {
		t.Fatalf("bad token: code %d, %s", code, errOut.String())
	}
	errOut.Reset()
	code = run(context.Background(), []string{"enroll", "--server", srv.URL(), "--token", "enroll-token", "--state-dir", stateDir}, getenv, &out, &errOut)
	if code != 0 {
		t.Fatalf("enroll: code %d: %s", code, errOut.String())
	}
	if strings.Contains(out.String()+errOut.String(), "test-credential") {
		t.Fatal("the credential was printed")
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HostID != "host-1" || cfg.Credential != "test-credential" || cfg.StateDir != stateDir || cfg.ServerURL != srv.URL() {
		t.Fatalf("config %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("written config invalid: %v", err)
	}
	if runtime.GOOS != "windows" {
		if st, _ := os.Stat(cfgPath); st.Mode().Perm() != 0o600 {
			t.Fatalf("config mode %v", st.Mode().Perm())
		}
		if st, err := os.Stat(stateDir); err != nil || st.Mode().Perm() != 0o700 {
			t.Fatalf("state dir: %v %v", st, err)
		}
	}

	// Enrolling again needs --force, and keeps the local hooks.
	cfg.Hooks = map[string]config.Hook{"db": {Command: []string{"/usr/local/bin/dump-db"}}}
	if err := config.Save(cfgPath, cfg); err != nil {
		t.Fatal(err)
	}
	srv.SetToken("second-token")
	errOut.Reset()
	if code := run(context.Background(), []string{"enroll", "--server", srv.URL(), "--token", "second-token"}, getenv, &out, &errOut); code == 0 {
		t.Fatal("re-enrolment without --force")
	}
	if code := run(context.Background(), []string{"enroll", "--server", srv.URL(), "--token", "second-token", "--force"}, getenv, &out, &errOut); code != 0 {
		t.Fatalf("re-enrol: %s", errOut.String())
	}
	cfg, _ = config.Load(cfgPath)
	if _, ok := cfg.Hooks["db"]; !ok || cfg.StateDir != stateDir {
		t.Fatalf("re-enrolment lost local settings: %+v", cfg)
	}
}

func TestRunAndStatus(t *testing.T) {
	srv := fakeserver.New(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "agent.yaml")
	stateDir := filepath.Join(dir, "state")
	if err := config.Save(cfgPath, &config.Config{ServerURL: srv.URL(), HostID: "host-1", Credential: "test-credential",
		ResticBinary: "/usr/bin/restic", StateDir: stateDir}); err != nil {
		t.Fatal(err)
	}
	getenv := env(nil)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"status", "--config", cfgPath}, getenv, &out, &errOut); code != 3 ||
		!strings.Contains(out.String(), "has not run yet") {
		t.Fatalf("status before run: %d %s %s", code, out.String(), errOut.String())
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var logs bytes.Buffer
	go func() {
		done <- run(ctx, []string{"run", "--config", cfgPath, "--startup-jitter", "0"}, getenv, &bytes.Buffer{}, &logs)
	}()
	fakeserver.Eventually(t, 10*time.Second, "agent online", func() bool {
		st, ok, _ := state.ReadStatus(stateDir)
		return ok && st.State == state.StateOnline && st.LastContact != nil
	})
	out.Reset()
	if code := run(context.Background(), []string{"status", "--config", cfgPath}, getenv, &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), "State:") || !strings.Contains(out.String(), "online") ||
		!strings.Contains(out.String(), "Last contact:") {
		t.Fatalf("status: %d\n%s", code, out.String())
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("run exit %d", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not stop")
	}
	if strings.Contains(logs.String(), "test-credential") {
		t.Fatal("the credential was logged")
	}
	out.Reset()
	_ = run(context.Background(), []string{"status", "--config", cfgPath}, getenv, &out, &errOut)
	if !strings.Contains(out.String(), "stopped") {
		t.Fatalf("status after stop:\n%s", out.String())
	}
}

func TestRunRevokedExitsWithConfigCode(t *testing.T) {
	srv := fakeserver.New(t)
	srv.Revoke()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "agent.yaml")
	if err := config.Save(cfgPath, &config.Config{ServerURL: srv.URL(), HostID: "host-1", Credential: "test-credential",
		ResticBinary: "restic", StateDir: filepath.Join(dir, "state")}); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	code := run(context.Background(), []string{"run", "--config", cfgPath, "--startup-jitter", "0", "--log-format", "text"}, env(nil), &bytes.Buffer{}, &logs)
	if code != exitConfig || !strings.Contains(logs.String(), "re-enrol") {
		t.Fatalf("exit %d\n%s", code, logs.String())
	}
}

func TestRunBadConfig(t *testing.T) {
	var errOut bytes.Buffer
	path := filepath.Join(t.TempDir(), "agent.yaml")
	if err := os.WriteFile(path, []byte("server_url: ftp://x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := run(context.Background(), []string{"run", "--config", path}, env(nil), &bytes.Buffer{}, &errOut); code != exitConfig {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if code := run(context.Background(), []string{"bogus"}, env(nil), &bytes.Buffer{}, &errOut); code != exitUsage {
		t.Fatalf("unknown command exit %d", code)
	}
}
