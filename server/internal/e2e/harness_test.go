// Package e2e runs the real server binary on PostgreSQL and the real agent binary with
// the real restic, and checks whole flows: enrolment, schedules, backups from commands
// and cron ticks, a server killed mid-backup, a server down across a tick, a proxy.
package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/dispatch"
	"github.com/restic-manager/restic-manager/server/internal/notify"
	"github.com/restic-manager/restic-manager/server/internal/secrets"
	"github.com/restic-manager/restic-manager/server/internal/store"
	"github.com/restic-manager/restic-manager/server/internal/storetest"
)

const secretKey = "KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio="

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binaries builds the server and agent once per test binary.
func binaries(t *testing.T) (server, agent string) {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "rm-e2e-bin")
		if buildErr != nil {
			return
		}
		for _, b := range []struct{ out, pkg string }{
			{"server", "github.com/restic-manager/restic-manager/server"},
			{"agent", "github.com/restic-manager/restic-manager/agent"},
		} {
			out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, b.out), b.pkg).CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("build %s: %v\n%s", b.pkg, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "server"), filepath.Join(binDir, "agent")
}

// resticBinaries lists the restic versions to test: Debian 12's 0.14 always, 0.18 when
// scripts/fetch-restic.sh has provided it (scripts/test.sh exports RESTIC_018).
func resticBinaries(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	if p, err := exec.LookPath("restic"); err == nil {
		out["system"] = p
	} else {
		t.Fatal("restic is not installed (scripts/test.sh installs it)")
	}
	if p := os.Getenv("RESTIC_018"); p != "" {
		out["0.18"] = p
	}
	return out
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// serverProc is the server binary on a fixed port, restartable.
type serverProc struct {
	t       *testing.T
	bin     string
	dbURL   string
	dataDir string
	port    int
	mu      sync.Mutex
	cmd     *exec.Cmd
	log     *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startServer(t *testing.T, bin, dbURL string) *serverProc {
	t.Helper()
	s := &serverProc{t: t, bin: bin, dbURL: dbURL, dataDir: t.TempDir(), port: freePort(t), log: &lockedBuffer{}}
	s.start()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("server log:\n%s", tail(s.log.String(), 4000))
		}
	})
	return s
}

func (s *serverProc) url() string { return fmt.Sprintf("http://127.0.0.1:%d", s.port) }

func (s *serverProc) start() {
	s.t.Helper()
	cmd := exec.Command(s.bin, "serve", "-listen", fmt.Sprintf("127.0.0.1:%d", s.port), "-data-dir", s.dataDir,
		"-database-url", s.dbURL, "-poll-hold", "5s", "-command-lease", "10s", "-log-level", "info")
	cmd.Env = append(os.Environ(), "RM_SECRET_KEY="+secretKey)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	eventually(s.t, 30*time.Second, "server healthy", func() bool {
		resp, err := http.Get(s.url() + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// kill stops the server with SIGKILL: no graceful shutdown, no flush.
func (s *serverProc) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(syscall.SIGKILL)
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

func (s *serverProc) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
			<-done
		}
		s.cmd = nil
	}
}

// operator plays the part of another server replica: it changes state in the same
// database and wakes the server's held polls over LISTEN/NOTIFY, like the operator API.
type operator struct {
	store *store.Store
	disp  *dispatch.Dispatcher
	db    *sql.DB
}

type nopHandler struct{}

func (nopHandler) Apply(notify.Event) {}
func (nopHandler) Reset()             {}

func newOperator(t *testing.T, dbURL string) *operator {
	t.Helper()
	ctx := context.Background()
	key, err := secrets.LoadOrCreateKey(secretKey, "")
	if err != nil {
		t.Fatal(err)
	}
	box, _ := secrets.NewBox(key)
	s, err := store.Open(ctx, store.Options{DatabaseURL: dbURL, Box: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	bus, err := notify.NewPostgres(ctx, dbURL, nopHandler{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Close)
	db, err := s.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	return &operator{store: s, disp: dispatch.New(s, bus, slog.New(slog.DiscardHandler)), db: db}
}

func (o *operator) token(t *testing.T) string {
	t.Helper()
	tok, _, err := o.store.CreateEnrollmentToken(context.Background(), store.NewEnrollmentToken{TTL: time.Hour, MaxUses: 1})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// job waits until a job reaches a terminal status and returns it.
func (o *operator) waitJob(t *testing.T, hostID, jobID string, timeout time.Duration) store.Job {
	t.Helper()
	var j store.Job
	eventually(t, timeout, "job "+jobID+" finished", func() bool {
		var err error
		j, err = o.store.Job(context.Background(), hostID, jobID)
		return err == nil && protocol.IsTerminal(j.Status)
	})
	return j
}

type jobRow struct {
	ID, Status, Kind, Actor string
	RanOffline              bool
	ScheduledFor            sql.NullTime
}

func (o *operator) jobs(t *testing.T, hostID string) []jobRow {
	t.Helper()
	rows, err := o.db.Query(`SELECT id, status, kind, actor_type, ran_offline, scheduled_for FROM jobs WHERE host_id = $1 ORDER BY created_at`, hostID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []jobRow
	for rows.Next() {
		var r jobRow
		if err := rows.Scan(&r.ID, &r.Status, &r.Kind, &r.Actor, &r.RanOffline, &r.ScheduledFor); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// agentProc is the agent binary, enrolled and running.
type agentProc struct {
	hostID string
	cmd    *exec.Cmd
	log    *lockedBuffer
}

func startAgent(t *testing.T, bin, serverURL, token, restic string, extraEnv ...string) *agentProc {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "agent.yaml")
	env := append(os.Environ(), extraEnv...)
	enroll := exec.Command(bin, "enroll", "--server", serverURL, "--token", token, "--config", cfg,
		"--state-dir", filepath.Join(dir, "state"), "--restic", restic)
	enroll.Env = env
	out, err := enroll.CombinedOutput()
	if err != nil {
		t.Fatalf("agent enroll: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(cfg)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("agent config mode %v", st.Mode().Perm())
	}
	a := &agentProc{log: &lockedBuffer{}}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "host_id:"); ok {
			a.hostID = strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	if a.hostID == "" {
		t.Fatalf("no host_id in agent config:\n%s", raw)
	}
	a.cmd = exec.Command(bin, "run", "--config", cfg, "--startup-jitter", "0", "--log-format", "text")
	a.cmd.Env = env
	a.cmd.Stdout, a.cmd.Stderr = a.log, a.log
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = a.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = a.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = a.cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("agent log:\n%s", tail(a.log.String(), 6000))
		}
	})
	return a
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// writeData fills dir with files of random bytes.
func writeData(t *testing.T, dir string, files int, size int64) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < files; i++ {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("file-%03d.bin", i)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.CopyN(f, rand.Reader, size); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
}

// proxy is a real HTTP forward proxy on loopback. It resolves one made-up host name to
// the server, so the agent's traffic can only reach the server through it (Go's
// clients never proxy requests to loopback addresses, which is why the name is needed).
type proxy struct {
	url      string
	requests atomic.Int64
}

func startProxy(t *testing.T, name string, target func() string) *proxy {
	t.Helper()
	p := &proxy{}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if strings.HasPrefix(addr, name+":") {
			addr = strings.TrimPrefix(target(), "http://")
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !r.URL.IsAbs() || r.URL.Hostname() != name {
			http.Error(w, "proxy: only absolute URLs for "+name, http.StatusBadGateway)
			return
		}
		p.requests.Add(1)
		out := r.Clone(r.Context())
		out.RequestURI = ""
		resp, err := tr.RoundTrip(out)
		if err != nil {
			http.Error(w, "<html>proxy error: "+err.Error()+"</html>", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	p.url = "http://" + l.Addr().String()
	return p
}

func newDB(t *testing.T) string { return storetest.NewPostgresDB(t) }
