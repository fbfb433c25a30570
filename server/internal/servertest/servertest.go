// Package servertest starts a real server on a loopback port over a fresh PostgreSQL
// (or SQLite) database for tests, and speaks the agent protocol over real HTTP.
package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/app"
	"github.com/restic-manager/restic-manager/server/internal/config"
	"github.com/restic-manager/restic-manager/server/internal/store"
	"github.com/restic-manager/restic-manager/server/internal/storetest"
)

// Env is a running server.
type Env struct {
	URL    string
	Server *app.Server
	Store  *store.Store
	DBURL  string
	Config config.Config
}

// Options for Start.
type Options struct {
	Dialect  string // default PostgreSQL
	DBURL    string // an existing database (for replicas); default a fresh one
	PollHold time.Duration
	Lease    time.Duration
	App      []app.Option
	Config   func(*config.Config)
}

// Start runs a server until the test ends.
func Start(t testing.TB, o Options) *Env {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Config{
		Listen: "127.0.0.1:0", DataDir: dir, PollHold: o.PollHold, CommandLease: o.Lease,
		LastSeenFlush: 200 * time.Millisecond, ShutdownTimeout: 5 * time.Second, LogLevel: "warn",
		SecretKey: "KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=",
	}
	if cfg.PollHold == 0 {
		cfg.PollHold = 2 * time.Second
	}
	if cfg.CommandLease == 0 {
		cfg.CommandLease = time.Minute
	}
	if o.Dialect != store.DialectSQLite {
		cfg.DatabaseURL = o.DBURL
		if cfg.DatabaseURL == "" {
			cfg.DatabaseURL = storetest.NewPostgresDB(t)
		}
	}
	if o.Config != nil {
		o.Config(&cfg)
	}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithCancel(context.Background())
	s, err := app.OpenStore(ctx, cfg, logger)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	srv, err := app.New(ctx, cfg, s, logger, o.App...)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, func(a net.Addr) { addrc <- a }) }()
	var addr net.Addr
	select {
	case addr = <-addrc:
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
		_ = s.Close()
	})
	return &Env{URL: "http://" + addr.String(), Server: srv, Store: s, DBURL: cfg.DatabaseURL, Config: cfg}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// Agent speaks the agent protocol with one host credential.
type Agent struct {
	URL        string
	HostID     string
	Credential string
	Client     *http.Client
}

// EnrollmentToken creates a one-use token.
func (e *Env) EnrollmentToken(t testing.TB) string {
	t.Helper()
	tok, _, err := e.Store.CreateEnrollmentToken(context.Background(), store.NewEnrollmentToken{TTL: time.Hour, MaxUses: 1})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Enroll enrols a new host over HTTP.
func (e *Env) Enroll(t testing.TB, hostname string) *Agent {
	t.Helper()
	return EnrollAt(t, e.URL, e.EnrollmentToken(t), hostname)
}

// EnrollAt enrols with a token at a server URL.
func EnrollAt(t testing.TB, url, token, hostname string) *Agent {
	t.Helper()
	a := &Agent{URL: url, Client: &http.Client{Timeout: 90 * time.Second}}
	var resp protocol.EnrollResponse
	if st := a.JSON(t, http.MethodPost, protocol.PathEnroll, protocol.EnrollRequest{Token: token, Hostname: hostname, OS: "linux", Arch: "amd64", AgentVersion: "0.1.0"}, &resp); st != http.StatusOK {
		t.Fatalf("enroll: status %d", st)
	}
	a.HostID, a.Credential = resp.HostID, resp.Credential
	return a
}

// Do sends a request with the agent's credential and returns status and body.
func (a *Agent) Do(t testing.TB, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, a.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.Credential != "" {
		req.Header.Set("Authorization", "Bearer "+a.Credential)
	}
	resp, err := a.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, raw
}

// JSON sends body and decodes a 2xx answer into out. It returns the status.
func (a *Agent) JSON(t testing.TB, method, path string, body, out any) int {
	t.Helper()
	st, raw := a.Do(t, method, path, body)
	if st/100 == 2 && out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
	return st
}

// Poll long-polls once.
func (a *Agent) Poll(t testing.TB, cursor, scheduleVersion, configVersion int64, wait int) protocol.PollResponse {
	t.Helper()
	var resp protocol.PollResponse
	path := fmt.Sprintf("%s?cursor=%d&schedule_version=%d&config_version=%d&wait=%d", protocol.PathPoll, cursor, scheduleVersion, configVersion, wait)
	if st := a.JSON(t, http.MethodGet, path, nil, &resp); st != http.StatusOK {
		t.Fatalf("poll: status %d", st)
	}
	return resp
}

// Path fills {id} in a protocol path.
func Path(p, id string) string { return strings.Replace(p, "{id}", id, 1) }
