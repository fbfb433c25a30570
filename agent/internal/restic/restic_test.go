package restic

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// These tests drive the real restic binaries on real files: /usr/bin/restic (0.14 on
// Debian 12) and restic 0.18 from $RESTIC_018 or <repo>/.cache/restic-0.18 (put there
// by scripts/fetch-restic.sh). A missing binary skips its subtests.

type resticBinary struct{ name, path, missing string }

func resticBinaries(t *testing.T) []resticBinary {
	t.Helper()
	sys := resticBinary{name: "0.14", path: "/usr/bin/restic"}
	if _, err := os.Stat(sys.path); err != nil {
		sys.path, sys.missing = "", "no /usr/bin/restic: apt-get install -y restic (or run scripts/fetch-restic.sh)"
	}
	r18 := resticBinary{name: "0.18", path: os.Getenv("RESTIC_018")}
	if r18.path == "" {
		if root, err := repoRoot(); err == nil {
			r18.path = filepath.Join(root, ".cache", "restic-0.18", "usr", "bin", "restic")
		}
	}
	if _, err := os.Stat(r18.path); r18.path == "" || err != nil {
		r18.path, r18.missing = "", "restic 0.18 not found (set RESTIC_018 or run scripts/fetch-restic.sh to fill .cache/restic-0.18)"
	}
	return []resticBinary{sys, r18}
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// testTree is the data every backup reads: big/ (random, so neither deduplication nor
// compression makes restic fast), small/ and a directory named -dash.
type testTree struct {
	root, big, small, dash string
}

func makeTree(t *testing.T) testTree {
	t.Helper()
	root := t.TempDir()
	tr := testTree{root: root, big: filepath.Join(root, "big"), small: filepath.Join(root, "small"), dash: filepath.Join(root, "-dash")}
	rng := mrand.NewChaCha8([32]byte{1, 2, 3})
	for _, d := range []string{tr.big, tr.small, tr.dash} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 16<<20)
	for i := range 4 {
		_, _ = rng.Read(buf)
		if err := os.WriteFile(filepath.Join(tr.big, fmt.Sprintf("blob%d", i)), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		if err := os.WriteFile(filepath.Join(tr.small, fmt.Sprintf("f%02d.txt", i)), []byte(strings.Repeat("hello ", i+1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(tr.dash, "inside"), []byte("dash"), 0o644); err != nil {
		t.Fatal(err)
	}
	return tr
}

// harness runs one restic binary through a wrapper script that records every argv.
type harness struct {
	t        *testing.T
	real     string // the restic binary
	runner   *Runner
	password string
	argvLog  string
	tree     testTree
}

func newHarness(t *testing.T, real string, tree testTree) *harness {
	t.Helper()
	dir := t.TempDir()
	secret := make([]byte, 12)
	_, _ = rand.Read(secret)
	h := &harness{t: t, real: real, tree: tree, password: "pw-" + hex.EncodeToString(secret), argvLog: filepath.Join(dir, "argv.log")}
	wrapper := filepath.Join(dir, "restic")
	script := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"$*\" >> '%s'\nexec '%s' \"$@\"\n", h.argvLog, real)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	h.runner = New(wrapper, nil)
	h.runner.CacheDir = filepath.Join(dir, "cache")
	h.runner.Dir = tree.root
	h.runner.ProgressFPS = 10 // plenty of status lines; the runner still forwards one a second
	t.Cleanup(func() {
		argv, err := os.ReadFile(h.argvLog)
		if err != nil {
			t.Errorf("no argv log: %v", err)
			return
		}
		if bytes.Contains(argv, []byte(h.password)) {
			t.Errorf("the repository password appeared in a restic argv:\n%s", argv)
		}
	})
	return h
}

func (h *harness) repo() string { return filepath.Join(h.t.TempDir(), "repo") }

func (h *harness) spec(kind, repo string) protocol.RunSpec {
	return protocol.RunSpec{JobID: kind, Kind: kind, Repository: protocol.Repository{ID: "r", URL: repo, Password: h.password}}
}

// eventLog records one Run's events and fails the test when the password shows up.
type eventLog struct {
	t          *testing.T
	password   string
	onProgress func()
	mu         sync.Mutex
	progress   []protocol.Progress
	at         []time.Time
	lines      []string
}

func (e *eventLog) Progress(p protocol.Progress) {
	e.mu.Lock()
	e.progress = append(e.progress, p)
	e.at = append(e.at, time.Now())
	hook := e.onProgress
	e.mu.Unlock()
	if hook != nil {
		hook()
	}
}

func (e *eventLog) Log(stream, text string) {
	if strings.Contains(text, e.password) {
		e.t.Errorf("the repository password appeared in a log line: %s: %s", stream, text)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lines = append(e.lines, stream+": "+text)
}

func (e *eventLog) text() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.lines, "\n")
}

func (h *harness) run(ctx context.Context, spec protocol.RunSpec, ev *eventLog) Result {
	h.t.Helper()
	if ev == nil {
		ev = &eventLog{}
	}
	ev.t, ev.password = h.t, h.password
	res, err := h.runner.Run(ctx, spec, ev)
	if err != nil {
		h.t.Fatalf("Run(%s): %v", spec.Kind, err)
	}
	if strings.Contains(res.Error, h.password) {
		h.t.Errorf("password in Result.Error")
	}
	return res
}

// mustRun runs spec and requires the status want.
func (h *harness) mustRun(spec protocol.RunSpec, want string) (Result, *eventLog) {
	h.t.Helper()
	ev := &eventLog{}
	res := h.run(context.Background(), spec, ev)
	if res.Status != want {
		h.t.Fatalf("%s: status %q (exit %d, error %q), want %q\nlog:\n%s", spec.Kind, res.Status, res.ExitCode, res.Error, want, ev.text())
	}
	return res, ev
}

// direct runs the real restic, outside the runner, for the test's own checks.
func (h *harness) direct(repo string, args ...string) *exec.Cmd {
	cmd := exec.Command(h.real, args...)
	cmd.Env = append(os.Environ(), "RESTIC_REPOSITORY="+repo, "RESTIC_PASSWORD="+h.password,
		"RESTIC_CACHE_DIR="+h.runner.CacheDir)
	return cmd
}

func (h *harness) lockIDs(repo string) []string {
	h.t.Helper()
	out, err := h.direct(repo, "list", "locks", "--no-lock").Output()
	if err != nil {
		h.t.Fatalf("list locks: %v", err)
	}
	return parseLockIDs(strings.Split(string(out), "\n"))
}

func (h *harness) initRepo() string {
	h.t.Helper()
	repo := h.repo()
	h.mustRun(h.spec(protocol.KindInit, repo), protocol.JobSucceeded)
	return repo
}

func TestRealRestic(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real restic")
	}
	if runtime.GOOS == "windows" {
		t.Skip("the real-restic tests use a shell wrapper and Linux paths")
	}
	bins := resticBinaries(t)
	tree := makeTree(t)
	for _, b := range bins {
		t.Run(b.name, func(t *testing.T) {
			if b.path == "" {
				t.Skip(b.missing)
			}
			// The wrapper script is written before t.Parallel(): a sibling forking restic
			// while this one's write descriptor is open would hold it into its child, and
			// exec of the wrapper would fail with "text file busy" (seen in CI).
			h := newHarness(t, b.path, tree)
			t.Parallel()
			v, err := h.runner.Version(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if v.String() != b.name+".0" && !strings.HasPrefix(v.String(), b.name+".") {
				t.Fatalf("version %s (%q), want %s.x", v, v.Raw, b.name)
			}
			t.Run("lifecycle", func(t *testing.T) { t.Parallel(); testLifecycle(t, h.with(t), v) })
			t.Run("stale lock and unlock", func(t *testing.T) { t.Parallel(); testStaleLock(t, h.with(t)) })
			t.Run("cancel leaves no lock", func(t *testing.T) { t.Parallel(); testCancel(t, h.with(t)) })
			t.Run("errors", func(t *testing.T) { t.Parallel(); testErrors(t, h.with(t)) })
		})
	}
}

// with returns the harness bound to a subtest.
func (h *harness) with(t *testing.T) *harness {
	c := *h
	c.t = t
	return &c
}

func testLifecycle(t *testing.T, h *harness, v Version) {
	repo := h.repo()
	res, _ := h.mustRun(h.spec(protocol.KindInit, repo), protocol.JobSucceeded)
	var initSum struct{ ID string }
	if err := json.Unmarshal(res.Summary, &initSum); err != nil || len(initSum.ID) < 10 {
		t.Errorf("init summary %s: %v", res.Summary, err)
	}
	res, _ = h.mustRun(h.spec(protocol.KindInit, repo), protocol.JobFailed)
	if !strings.Contains(res.Error, "a repository already exists at "+repo) {
		t.Errorf("init twice: error %q", res.Error)
	}

	// A backup large enough for status lines: progress is forwarded, throttled, with a rate.
	backup := h.spec(protocol.KindBackup, repo)
	backup.Paths = []string{h.tree.big, h.tree.small}
	backup.Excludes = []string{"f19.txt"}
	backup.Tags = []string{"nightly", "test"}
	backup.Options = &protocol.JobOptions{Host: "test-host"}
	res, ev := h.mustRun(backup, protocol.JobSucceeded)
	var sum struct {
		SnapshotID          string `json:"snapshot_id"`
		FilesNew            int    `json:"files_new"`
		TotalBytesProcessed int64  `json:"total_bytes_processed"`
	}
	if err := json.Unmarshal(res.Summary, &sum); err != nil {
		t.Fatalf("backup summary %s: %v", res.Summary, err)
	}
	wantIDLen := 64
	if !v.AtLeast(0, 15, 0) {
		wantIDLen = 8 // 0.14 reports the short id
	}
	if len(sum.SnapshotID) != wantIDLen || sum.FilesNew != 4+19 || sum.TotalBytesProcessed < 64<<20 {
		t.Errorf("backup summary %s", res.Summary)
	}
	ev.mu.Lock()
	progress, at := slices.Clone(ev.progress), slices.Clone(ev.at)
	ev.mu.Unlock()
	if len(progress) == 0 {
		t.Fatalf("no progress event; log:\n%s", ev.text())
	}
	for i := 1; i < len(at)-1; i++ { // the last one is sent as soon as restic ends
		if d := at[i].Sub(at[i-1]); d < 950*time.Millisecond {
			t.Errorf("progress events %d and %d only %s apart", i-1, i, d)
		}
	}
	last := progress[len(progress)-1]
	if last.TotalBytes < 64<<20 || last.BytesDone == 0 || last.BytesPerSecond <= 0 || last.At.IsZero() {
		t.Errorf("last progress %+v", last)
	}
	if strings.Contains(ev.text(), `"message_type":"status"`) {
		t.Error("status lines were logged")
	}
	if !strings.Contains(ev.text(), `"message_type":"summary"`) {
		t.Error("the summary line was not logged")
	}
	firstID := sum.SnapshotID

	// The same backup again (nothing new: fast) gives the group two snapshots for forget.
	h.mustRun(backup, protocol.JobSucceeded)

	// A path beginning with '-' is a path, not a flag (it is relative to Runner.Dir here).
	dash := h.spec(protocol.KindBackup, repo)
	dash.Paths = []string{"-dash"}
	h.mustRun(dash, protocol.JobSucceeded)
	if argv, _ := os.ReadFile(h.argvLog); !bytes.Contains(argv, []byte(" backup --json -- -dash\n")) {
		t.Errorf("argv log has no backup of -dash after '--':\n%s", argv)
	}

	// An unreadable file: exit 3, a warning, and the snapshot is still made.
	if runtime.GOOS == "linux" {
		partial := h.spec(protocol.KindBackup, repo)
		partial.Paths = []string{filepath.Join(h.tree.small, "f00.txt"), "/proc/self/mem"}
		res, ev := h.mustRun(partial, protocol.JobWarning)
		if res.ExitCode != 3 || !strings.Contains(res.Error, "could not be read") || len(res.Summary) == 0 ||
			!strings.Contains(ev.text(), "/proc/self/mem") {
			t.Errorf("partial backup: %+v\nlog:\n%s", res, ev.text())
		}
	}

	res, _ = h.mustRun(h.spec(protocol.KindSnapshots, repo), protocol.JobSucceeded)
	wantSnaps := 3
	if runtime.GOOS == "linux" {
		wantSnaps = 4
	}
	if len(res.Snapshots) != wantSnaps {
		t.Fatalf("%d snapshots, want %d: %+v", len(res.Snapshots), wantSnaps, res.Snapshots)
	}
	var tagged, dashed int
	for _, s := range res.Snapshots {
		if len(s.ID) != 64 || len(s.ShortID) != 8 || !strings.HasPrefix(s.ID, s.ShortID) || s.Time.IsZero() || s.Tree == "" {
			t.Errorf("snapshot %+v", s)
		}
		if slices.Equal(s.Tags, []string{"nightly", "test"}) && s.Hostname == "test-host" {
			tagged++
		}
		if slices.Equal(s.Paths, []string{h.tree.dash}) {
			dashed++
		}
	}
	if tagged != 2 || dashed != 1 {
		t.Errorf("tagged %d (want 2), dash %d (want 1): %+v", tagged, dashed, res.Snapshots)
	}
	if !slices.ContainsFunc(res.Snapshots, func(s protocol.Snapshot) bool { return strings.HasPrefix(s.ID, firstID) }) {
		t.Errorf("backup's snapshot id %s not among the snapshots", firstID)
	}

	// forget refuses an empty policy before restic runs.
	forget := h.spec(protocol.KindForget, repo)
	forget.Retention = &protocol.Retention{}
	if _, err := h.runner.Run(context.Background(), forget, &eventLog{t: t, password: h.password}); err == nil ||
		!strings.Contains(err.Error(), "retention policy is empty") {
		t.Errorf("empty policy: %v", err)
	}
	// keep-last 1 per group, then prune as a separate restic call.
	forget.Retention = &protocol.Retention{KeepLast: 1}
	forget.Tags = []string{"nightly"}
	forget.Options = &protocol.JobOptions{Prune: true, MaxUnused: "0%"}
	res, ev = h.mustRun(forget, protocol.JobSucceeded)
	var fs struct {
		Kept, Removed int
		RemovedIDs    []string        `json:"removed_ids"`
		Prune         json.RawMessage `json:"prune"`
	}
	if err := json.Unmarshal(res.Summary, &fs); err != nil || fs.Kept != 1 || fs.Removed != 1 || len(fs.RemovedIDs) != 1 ||
		!strings.Contains(string(fs.Prune), "remaining") {
		t.Errorf("forget summary %s (%v)\nlog:\n%s", res.Summary, err, ev.text())
	}
	if !strings.Contains(ev.text(), "run: restic --cache-dir="+h.runner.CacheDir+" prune --max-unused=0%") ||
		strings.Contains(ev.text(), "--prune") {
		t.Errorf("prune was not a separate restic call:\n%s", ev.text())
	}

	prune := h.spec(protocol.KindPrune, repo)
	prune.Options = &protocol.JobOptions{MaxUnused: "5%"}
	res, _ = h.mustRun(prune, protocol.JobSucceeded)
	if !strings.Contains(string(res.Summary), `"total_prune"`) {
		t.Errorf("prune summary %s", res.Summary)
	}

	check := h.spec(protocol.KindCheck, repo)
	res, _ = h.mustRun(check, protocol.JobSucceeded)
	var cs checkSummary
	if err := json.Unmarshal(res.Summary, &cs); err != nil || cs.NumErrors != 0 {
		t.Errorf("check summary %s: %v", res.Summary, err)
	}
	check.Options = &protocol.JobOptions{ReadDataSubset: "50%"}
	res, ev = h.mustRun(check, protocol.JobSucceeded)
	if !strings.Contains(string(res.Summary), `"read_data_subset":"50%"`) || !strings.Contains(ev.text(), "--read-data-subset=50%") {
		t.Errorf("check subset summary %s\nlog:\n%s", res.Summary, ev.text())
	}

	res, _ = h.mustRun(h.spec(protocol.KindStats, repo), protocol.JobSucceeded)
	st := res.Stats
	if st == nil {
		t.Fatal("no stats")
	}
	if st.SnapshotsCount != int64(wantSnaps-1) || st.TotalSize < 64<<20 || st.TotalBlobCount == 0 ||
		st.RestoreSize < 64<<20 || st.TotalFileCount == 0 || st.RestoreSizeFileCount == 0 || st.Locked || st.At.IsZero() {
		t.Errorf("stats %+v", st)
	}
	if v.AtLeast(0, 15, 0) && (st.TotalUncompressed < 64<<20 || st.CompressionRatio <= 0) {
		t.Errorf("stats without compression figures: %+v", st)
	}
}

func testStaleLock(t *testing.T, h *harness) {
	repo := h.initRepo()
	// A backup killed with SIGKILL cannot remove its lock.
	cmd := h.direct(repo, "backup", "--json", "--", h.tree.big)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		entries, _ := os.ReadDir(filepath.Join(repo, "locks"))
		if slices.ContainsFunc(entries, func(e os.DirEntry) bool { return lockIDRE.MatchString(e.Name()) }) {
			break // a complete lock file (restic writes a temporary file first)
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatal("the backup created no lock")
		}
		time.Sleep(5 * time.Millisecond)
	}
	pid := cmd.Process.Pid
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if ids := h.lockIDs(repo); len(ids) != 1 {
		t.Fatalf("locks after SIGKILL: %v", ids)
	}

	res, _ := h.mustRun(h.spec(protocol.KindStats, repo), protocol.JobSucceeded)
	if !res.Stats.Locked || !strings.Contains(res.Stats.LockDescription, fmt.Sprintf("(pid %d)", pid)) {
		t.Errorf("stats lock: %v %q", res.Stats.Locked, res.Stats.LockDescription)
	}
	// check needs an exclusive lock: it fails and names the holder.
	res, _ = h.mustRun(h.spec(protocol.KindCheck, repo), protocol.JobFailed)
	host, _ := os.Hostname()
	if want := fmt.Sprintf("repository is locked by host %s (pid %d) since ", host, pid); !strings.Contains(res.Error, want) {
		t.Errorf("check on a locked repository: %q, want %q", res.Error, want)
	}
	// The process is gone on this host, so the lock is stale and unlock removes it.
	h.mustRun(h.spec(protocol.KindUnlock, repo), protocol.JobSucceeded)
	if ids := h.lockIDs(repo); len(ids) != 0 {
		t.Fatalf("locks after unlock: %v", ids)
	}
	res, _ = h.mustRun(h.spec(protocol.KindStats, repo), protocol.JobSucceeded)
	if res.Stats.Locked {
		t.Errorf("still locked after unlock: %q", res.Stats.LockDescription)
	}
	h.mustRun(h.spec(protocol.KindCheck, repo), protocol.JobSucceeded)
}

func testCancel(t *testing.T, h *harness) {
	repo := h.initRepo()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cancelledAt time.Time
	var once sync.Once
	ev := &eventLog{onProgress: func() {
		once.Do(func() { cancelledAt = time.Now(); cancel() })
	}}
	backup := h.spec(protocol.KindBackup, repo)
	backup.Paths = []string{h.tree.big}
	res := h.run(ctx, backup, ev)
	if res.Status != protocol.JobCancelled {
		t.Fatalf("status %q (exit %d, %q), want cancelled\nlog:\n%s", res.Status, res.ExitCode, res.Error, ev.text())
	}
	if took := time.Since(cancelledAt); took > 10*time.Second {
		t.Errorf("restic took %s to stop after SIGINT", took)
	}
	if res.ExitCode == -1 {
		t.Errorf("restic was killed instead of exiting on SIGINT")
	}
	if !strings.Contains(ev.text(), "interrupting restic") {
		t.Errorf("no cancel note in the log:\n%s", ev.text())
	}
	if ids := h.lockIDs(repo); len(ids) != 0 {
		t.Errorf("a cancelled backup left locks: %v", ids)
	}
	out, err := h.direct(repo, "snapshots", "--json", "--no-lock").Output()
	if err != nil || strings.TrimSpace(string(out)) != "[]" {
		t.Errorf("snapshots after a cancelled backup: %s %v", out, err)
	}

	// A context cancelled before the start runs nothing.
	res = h.run(ctx, backup, nil)
	if res.Status != protocol.JobCancelled {
		t.Errorf("pre-cancelled: %+v", res)
	}
}

func testErrors(t *testing.T, h *harness) {
	missing := filepath.Join(t.TempDir(), "nothing-here")
	res, _ := h.mustRun(h.spec(protocol.KindSnapshots, missing), protocol.JobFailed)
	if want := "no repository at " + missing + " (not initialised?)"; res.Error != want {
		t.Errorf("missing repository: %q, want %q", res.Error, want)
	}
	backup := h.spec(protocol.KindBackup, missing)
	backup.Paths = []string{h.tree.small}
	res, _ = h.mustRun(backup, protocol.JobFailed)
	if !strings.HasPrefix(res.Error, "no repository at ") {
		t.Errorf("backup to a missing repository: %q", res.Error)
	}

	repo := h.initRepo()
	wrong := h.spec(protocol.KindSnapshots, repo)
	wrong.Repository.Password = "not-" + h.password[:6]
	res, _ = h.mustRun(wrong, protocol.JobFailed)
	if res.Error != "wrong repository password" {
		t.Errorf("wrong password: %q (exit %d)", res.Error, res.ExitCode)
	}
}

func TestMissingBinary(t *testing.T) {
	r := New(filepath.Join(t.TempDir(), "no-restic"), nil)
	spec := validSpec(protocol.KindSnapshots)
	if _, err := r.Run(context.Background(), spec, nil); err == nil {
		t.Fatal("Run with a missing binary returned no error")
	}
	if _, err := r.Run(context.Background(), protocol.RunSpec{Kind: "nope"}, nil); err == nil {
		t.Fatal("Run with an invalid spec returned no error")
	}
}
