package agentapi_test

// Micro-benchmarks of the agent protocol's hot paths, in process (no network), on a real
// PostgreSQL database (TEST_DATABASE_URL or the local server). They are cheap enough for
// a CI smoke run:
//
//	go test -run '^$' -bench . -benchtime 1x ./server/internal/agentapi/ ./server/internal/store/
//
// Each reports stmts/op: the database statements the path ran (the store's own counter).
// The fleet-scale numbers are in docs/benchmarks.md (scripts/bench).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/servertest"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

type benchHost struct {
	*servertest.Agent
	repo store.Repository
}

func newBenchEnv(b *testing.B, hold time.Duration) (*servertest.Env, benchHost) {
	b.Helper()
	env := servertest.Start(b, servertest.Options{PollHold: hold})
	a := env.Enroll(b, "bench-1")
	r, err := env.Server.Dispatcher.CreateRepository(context.Background(), a.HostID,
		store.RepositoryInput{Name: "local", URL: "/srv/restic", Password: "pw"})
	if err != nil {
		b.Fatal(err)
	}
	return env, benchHost{Agent: a, repo: r}
}

// benchServe runs one request through the server's handler in process.
func benchServe(b *testing.B, h http.Handler, cred, method, target string, body []byte) *httptest.ResponseRecorder {
	var req *http.Request
	if body != nil {
		req = httptest.NewRequest(method, target, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	req.Header.Set("Authorization", "Bearer "+cred)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s %s: %d %s", method, target, rec.Code, rec.Body.String())
	}
	return rec
}

// benchSettle polls once with news, so that later polls with these versions have none.
func benchSettle(b *testing.B, env *servertest.Env, h benchHost) (cursor, sv, cv int64) {
	rec := benchServe(b, env.Server.Handler, h.Credential, http.MethodGet, protocol.PathPoll+"?wait=5", nil)
	var pr protocol.PollResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &pr); err != nil {
		b.Fatal(err)
	}
	if pr.ScheduleSet != nil {
		sv = pr.ScheduleSet.Version
	}
	if pr.Config != nil {
		cv = pr.Config.Version
	}
	return pr.Cursor, sv, cv
}

func benchPollTarget(cursor, sv, cv int64, wait int) string {
	return fmt.Sprintf("%s?cursor=%d&schedule_version=%d&config_version=%d&wait=%d", protocol.PathPoll, cursor, sv, cv, wait)
}

// BenchmarkPollIdle is one idle poll answered at once (wait=5 makes the hold 0): the
// whole handler path of a poll without news — credential cache, hub state, last-seen
// mark, JSON answer. It must run no statement.
func BenchmarkPollIdle(b *testing.B) {
	env, h := newBenchEnv(b, 25*time.Second)
	cursor, sv, cv := benchSettle(b, env, h)
	target := benchPollTarget(cursor, sv, cv, 5)
	before := env.Store.Statements()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		benchServe(b, env.Server.Handler, h.Credential, http.MethodGet, target, nil)
	}
	b.ReportMetric(float64(env.Store.Statements()-before)/float64(b.N), "stmts/op")
}

// BenchmarkPollWithNews is a poll that delivers one new command (and leases it).
func BenchmarkPollWithNews(b *testing.B) {
	env, h := newBenchEnv(b, 25*time.Second)
	cursor, sv, cv := benchSettle(b, env, h)
	ctx := context.Background()
	var stmts int64
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		if _, err := env.Server.Dispatcher.EnqueueRun(ctx, h.HostID, store.RunRequest{Kind: protocol.KindSnapshots, RepositoryID: h.repo.ID, ActorType: store.ActorAPI}); err != nil {
			b.Fatal(err)
		}
		before := env.Store.Statements()
		b.StartTimer()
		rec := benchServe(b, env.Server.Handler, h.Credential, http.MethodGet, benchPollTarget(cursor, sv, cv, 5), nil)
		b.StopTimer()
		stmts += env.Store.Statements() - before
		var pr protocol.PollResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &pr); err != nil || len(pr.Commands) != 1 {
			b.Fatalf("poll with news: %v %s", err, rec.Body.String())
		}
		cursor = pr.Cursor
		ack, _ := json.Marshal(protocol.CommandResult{Status: protocol.CommandAccepted})
		benchServe(b, env.Server.Handler, h.Credential, http.MethodPost, fmt.Sprintf("/api/v1/agent/commands/%d/result", pr.Commands[0].ID), ack)
		b.StartTimer()
	}
	b.ReportMetric(float64(stmts)/float64(b.N), "stmts/op")
}

// BenchmarkDispatchRun is "run now" below the HTTP layer: validation, the job and its
// command in one transaction, and the wake-up published through PostgreSQL NOTIFY.
func BenchmarkDispatchRun(b *testing.B) {
	env, h := newBenchEnv(b, 25*time.Second)
	ctx := context.Background()
	before := env.Store.Statements()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := env.Server.Dispatcher.EnqueueRun(ctx, h.HostID, store.RunRequest{Kind: protocol.KindBackup, RepositoryID: h.repo.ID,
			ActorType: store.ActorAPI, Paths: []string{"/srv/data"}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(env.Store.Statements()-before)/float64(b.N), "stmts/op")
}

// BenchmarkDispatchToHeldPoll is the in-process dispatch latency: a poll is held, "run
// now" is called, and the time until the held poll has answered with the command is
// measured (no network: compare with scenario 2 of docs/benchmarks.md).
func BenchmarkDispatchToHeldPoll(b *testing.B) {
	env, h := newBenchEnv(b, 25*time.Second)
	cursor, sv, cv := benchSettle(b, env, h)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		done := make(chan *httptest.ResponseRecorder, 1)
		go func() {
			req := httptest.NewRequest(http.MethodGet, benchPollTarget(cursor, sv, cv, 30), nil)
			req.Header.Set("Authorization", "Bearer "+h.Credential)
			rec := httptest.NewRecorder()
			env.Server.Handler.ServeHTTP(rec, req)
			done <- rec
		}()
		for deadline := time.Now().Add(10 * time.Second); env.Server.Hub.Waiting() == 0; {
			if time.Now().After(deadline) {
				b.Fatal("the poll was not held")
			}
			time.Sleep(50 * time.Microsecond)
		}
		b.StartTimer()
		if _, err := env.Server.Dispatcher.EnqueueRun(ctx, h.HostID, store.RunRequest{Kind: protocol.KindSnapshots, RepositoryID: h.repo.ID, ActorType: store.ActorAPI}); err != nil {
			b.Fatal(err)
		}
		var rec *httptest.ResponseRecorder
		select {
		case rec = <-done:
		case <-time.After(20 * time.Second):
			b.Fatal("the held poll did not answer")
		}
		b.StopTimer()
		var pr protocol.PollResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &pr); err != nil || len(pr.Commands) != 1 {
			b.Fatalf("held poll: %d %v %s", rec.Code, err, rec.Body.String())
		}
		cursor = pr.Cursor
		ack, _ := json.Marshal(protocol.CommandResult{Status: protocol.CommandAccepted})
		benchServe(b, env.Server.Handler, h.Credential, http.MethodPost, fmt.Sprintf("/api/v1/agent/commands/%d/result", pr.Commands[0].ID), ack)
		b.StartTimer()
	}
}

// BenchmarkJobReports is one progress report plus one batch of 100 log lines through the
// handlers: the steady load of a running job (scenario 3 of docs/benchmarks.md).
func BenchmarkJobReports(b *testing.B) {
	env, h := newBenchEnv(b, 25*time.Second)
	ctx := context.Background()
	job, err := env.Server.Dispatcher.EnqueueRun(ctx, h.HostID, store.RunRequest{Kind: protocol.KindBackup, RepositoryID: h.repo.ID, ActorType: store.ActorAPI, Paths: []string{"/srv"}})
	if err != nil {
		b.Fatal(err)
	}
	start, _ := json.Marshal(protocol.JobStart{StartedAt: time.Now().UTC()})
	benchServe(b, env.Server.Handler, h.Credential, http.MethodPost, servertest.Path(protocol.PathJobStart, job.ID), start)
	prog, _ := json.Marshal(protocol.Progress{At: time.Now().UTC(), PercentDone: 0.5, FilesDone: 100, TotalFiles: 200, BytesDone: 1 << 20, TotalBytes: 2 << 20, CurrentFiles: []string{"/srv/a"}})
	const lines = 100
	var seq int64
	before := env.Store.Statements()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		benchServe(b, env.Server.Handler, h.Credential, http.MethodPost, servertest.Path(protocol.PathJobProgress, job.ID), prog)
		batch := protocol.LogBatch{Lines: make([]protocol.LogLine, lines)}
		for i := range batch.Lines {
			seq++
			batch.Lines[i] = protocol.LogLine{Seq: seq, At: time.Now().UTC(), Stream: "stdout", Text: "[0:12] 45.12%  1234 files 567.890 MiB, total 2734 files 1.234 GiB, 0 errors ETA 0:15"}
		}
		raw, _ := json.Marshal(batch)
		benchServe(b, env.Server.Handler, h.Credential, http.MethodPost, servertest.Path(protocol.PathJobLogs, job.ID), raw)
	}
	b.ReportMetric(float64(env.Store.Statements()-before)/float64(b.N), "stmts/op")
	b.ReportMetric(float64(b.N*lines)/b.Elapsed().Seconds(), "lines/s")
}
