package agentapi_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/servertest"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// TestBadInputIsRefusedAndChangesNothing sends malformed, mistyped, oversized and
// out-of-range bodies and unknown ids to every endpoint, and checks each answer's status
// and code and that the host's state is exactly as before.
func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	t.Parallel()
	env := servertest.Start(t, servertest.Options{})
	h := newHost(t, env, "bad")
	job := h.run(t, protocol.KindBackup)
	h.JSON(t, http.MethodPost, servertest.Path(protocol.PathJobStart, job.ID), protocol.JobStart{StartedAt: time.Now()}, nil)
	sc, err := env.Server.Dispatcher.CreateSchedule(context.Background(), h.HostID, store.ScheduleInput{
		RepositoryID: h.repo.ID, Name: "n", Kind: protocol.KindBackup, Cron: "@hourly", Paths: []string{"/srv"}, Enabled: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	jp := func(p string) string { return servertest.Path(p, job.ID) }
	unknown := uuid.NewString()
	big := `{"lines":[{"seq":1,"stream":"stdout","text":"` + strings.Repeat("x", 5<<20) + `"}]}`
	cases := []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"malformed JSON", "POST", jp(protocol.PathJobFinish), `{"status":"succeeded",`, 400, protocol.CodeInvalidJSON},
		{"not JSON at all", "POST", jp(protocol.PathJobProgress), `<html>proxy error</html>`, 400, protocol.CodeInvalidJSON},
		{"empty body", "POST", jp(protocol.PathJobFinish), ``, 400, protocol.CodeInvalidJSON},
		{"wrong type", "POST", jp(protocol.PathJobFinish), `{"status":"succeeded","exit_code":"zero"}`, 400, protocol.CodeInvalidJSON},
		{"unknown field", "POST", jp(protocol.PathJobProgress), `{"percent_done":0.5,"rm_rf":true}`, 400, protocol.CodeInvalidJSON},
		{"trailing data", "POST", jp(protocol.PathJobProgress), `{"percent_done":0.5}{"percent_done":0.6}`, 400, protocol.CodeInvalidJSON},
		{"oversized log batch", "POST", jp(protocol.PathJobLogs), big, 413, protocol.CodeBodyTooLarge},
		{"oversized progress", "POST", jp(protocol.PathJobProgress), `{"current_files":["` + strings.Repeat("y", 100<<10) + `"]}`, 413, protocol.CodeBodyTooLarge},
		{"bad status", "POST", jp(protocol.PathJobFinish), protocol.JobFinish{Status: "done"}, 400, protocol.CodeValidation},
		{"exit code out of range", "POST", jp(protocol.PathJobFinish), protocol.JobFinish{Status: "failed", ExitCode: 4000}, 400, protocol.CodeValidation},
		{"summary not an object", "POST", jp(protocol.PathJobFinish), `{"status":"succeeded","summary":[1,2]}`, 400, protocol.CodeValidation},
		{"percent above 1", "POST", jp(protocol.PathJobProgress), protocol.Progress{PercentDone: 7}, 400, protocol.CodeValidation},
		{"negative bytes", "POST", jp(protocol.PathJobProgress), protocol.Progress{BytesDone: -1}, 400, protocol.CodeValidation},
		{"log seq 0", "POST", jp(protocol.PathJobLogs), protocol.LogBatch{Lines: []protocol.LogLine{{Seq: 0, Stream: "stdout"}}}, 400, protocol.CodeValidation},
		{"log bad stream", "POST", jp(protocol.PathJobLogs), protocol.LogBatch{Lines: []protocol.LogLine{{Seq: 1, Stream: "kernel"}}}, 400, protocol.CodeValidation},
		{"log batch with one bad line", "POST", jp(protocol.PathJobLogs), protocol.LogBatch{Lines: []protocol.LogLine{{Seq: 1, Stream: "stdout", Text: "ok"}, {Seq: -2, Stream: "stdout"}}}, 400, protocol.CodeValidation},
		{"unknown job", "POST", servertest.Path(protocol.PathJobStart, unknown), protocol.JobStart{}, 404, protocol.CodeNotFound},
		{"job id not a uuid", "POST", servertest.Path(protocol.PathJobProgress, "../../etc"), protocol.Progress{}, 404, protocol.CodeNotFound},
		{"unknown command", "POST", "/api/v1/agent/commands/99999999/result", protocol.CommandResult{Status: "accepted"}, 404, protocol.CodeNotFound},
		{"command id not a number", "POST", "/api/v1/agent/commands/abc/result", protocol.CommandResult{Status: "accepted"}, 404, protocol.CodeNotFound},
		{"bad ack status", "POST", "/api/v1/agent/commands/1/result", protocol.CommandResult{Status: "maybe"}, 400, protocol.CodeValidation},
		{"unknown schedule", "POST", servertest.Path(protocol.PathScheduleFire, unknown), protocol.ScheduleFire{JobID: uuid.NewString(), ScheduledFor: time.Now()}, 404, protocol.CodeNotFound},
		{"fire without job id", "POST", servertest.Path(protocol.PathScheduleFire, sc.ID), protocol.ScheduleFire{ScheduledFor: time.Now()}, 400, protocol.CodeValidation},
		{"fire far in the future", "POST", servertest.Path(protocol.PathScheduleFire, sc.ID), protocol.ScheduleFire{JobID: uuid.NewString(), ScheduledFor: time.Now().Add(72 * time.Hour)}, 400, protocol.CodeValidation},
		{"schedule ack of unissued version", "POST", protocol.PathScheduleAck, protocol.ScheduleAck{Version: 1 << 40}, 400, protocol.CodeValidation},
		{"unknown repository", "POST", servertest.Path(protocol.PathRepoSnapshots, unknown), protocol.SnapshotReport{}, 404, protocol.CodeNotFound},
		{"snapshot id not hex", "POST", servertest.Path(protocol.PathRepoSnapshots, h.repo.ID), protocol.SnapshotReport{Snapshots: []protocol.Snapshot{{ID: "--help", Time: time.Now()}}}, 400, protocol.CodeValidation},
		{"duplicate snapshot ids", "POST", servertest.Path(protocol.PathRepoSnapshots, h.repo.ID), protocol.SnapshotReport{Snapshots: []protocol.Snapshot{{ID: "abcdef01", Time: time.Now()}, {ID: "abcdef01", Time: time.Now()}}}, 400, protocol.CodeValidation},
		{"negative stats", "POST", servertest.Path(protocol.PathRepoStats, h.repo.ID), protocol.RepoStats{TotalSize: -5}, 400, protocol.CodeValidation},
		{"hello without version", "POST", protocol.PathHello, protocol.HelloRequest{Hostname: "x"}, 400, protocol.CodeValidation},
		{"hello min above max", "POST", protocol.PathHello, protocol.HelloRequest{ProtocolVersion: 1, MinProtocolVersion: 3, Hostname: "x"}, 400, protocol.CodeValidation},
		{"poll cursor not a number", "GET", protocol.PathPoll + "?cursor=abc", nil, 400, protocol.CodeValidation},
		{"poll negative version", "GET", protocol.PathPoll + "?schedule_version=-1", nil, 400, protocol.CodeValidation},
		{"poll wait too long", "GET", protocol.PathPoll + "?wait=100000", nil, 400, protocol.CodeValidation},
		{"wrong method", "GET", jp(protocol.PathJobFinish), nil, 405, "method_not_allowed"},
		{"unknown endpoint", "POST", "/api/v1/agent/format-disk", `{}`, 404, protocol.CodeNotFound},
	}
	before := snapshotState(t, env, h, job.ID)
	for _, c := range cases {
		st, raw := h.Do(t, c.method, c.path, c.body)
		if st != c.status {
			t.Errorf("%s: status %d, want %d (%s)", c.name, st, c.status, truncate(raw))
			continue
		}
		if code := errCode(t, raw); code != c.code {
			t.Errorf("%s: code %q, want %q", c.name, code, c.code)
		}
	}
	// Wrong content type and a missing credential.
	req, _ := http.NewRequest("POST", env.URL+jp(protocol.PathJobProgress), bytes.NewReader([]byte(`percent_done=1`)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+h.Credential)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("form body: %d", resp.StatusCode)
	}
	anon := &servertest.Agent{URL: env.URL, Client: http.DefaultClient}
	if st, _ := anon.Do(t, "POST", jp(protocol.PathJobFinish), protocol.JobFinish{Status: "succeeded"}); st != http.StatusUnauthorized {
		t.Errorf("no credential: %d", st)
	}
	if after := snapshotState(t, env, h, job.ID); after != before {
		t.Fatalf("bad input changed state:\nbefore %s\nafter  %s", before, after)
	}
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

// snapshotState renders what bad input could have changed.
func snapshotState(t *testing.T, env *servertest.Env, h host, jobID string) string {
	t.Helper()
	ctx := context.Background()
	j, err := env.Store.Job(ctx, h.HostID, jobID)
	if err != nil {
		t.Fatal(err)
	}
	logs, _ := env.Store.Logs(ctx, jobID, 0, 1000)
	snaps, _ := env.Store.Snapshots(ctx, h.HostID, h.repo.ID)
	stats, _ := env.Store.RepoStatsHistory(ctx, h.repo.ID, time.Time{})
	hs, _ := env.Store.Host(ctx, h.HostID)
	_, perr := env.Store.Progress(ctx, jobID)
	return fmt.Sprintf("job=%s/%v/%q logs=%d snaps=%d stats=%d applied=%d progress=%v",
		j.Status, j.ExitCode, j.Error, len(logs), len(snaps), len(stats), hs.ScheduleAppliedVersion, perr)
}

// TestNULCharactersAreStored: PostgreSQL refuses NUL in text and \u0000 in jsonb. A NUL
// in a log line, a file name, an error message or a snapshot path must not turn a report
// into a 500 the agent retries forever: it is stored as U+FFFD.
func TestNULCharactersAreStored(t *testing.T) {
	t.Parallel()
	env := servertest.Start(t, servertest.Options{})
	h := newHost(t, env, "nul")
	job := h.run(t, protocol.KindBackup)
	jp := func(p string) string { return servertest.Path(p, job.ID) }
	for _, c := range []struct{ path, body string }{
		{jp(protocol.PathJobStart), `{"started_at":"2026-01-02T03:04:05Z"}`},
		{jp(protocol.PathJobLogs), `{"lines":[{"seq":1,"stream":"stdout","text":"a\u0000b"}]}`},
		{jp(protocol.PathJobProgress), `{"percent_done":0.5,"current_files":["/srv/x\u0000y"]}`},
		{servertest.Path(protocol.PathRepoSnapshots, h.repo.ID), `{"taken_at":"2026-01-02T03:04:05Z","snapshots":[{"id":"` + strings.Repeat("a", 64) +
			`","short_id":"aaaaaaaa","time":"2026-01-02T03:04:05Z","hostname":"h\u0000","paths":["/srv/\u0000"],"summary":{"note":"\u0000"}}]}`},
		{jp(protocol.PathJobFinish), `{"status":"failed","exit_code":1,"error":"bad\u0000thing","summary":{"k":"v\u0000"},"finished_at":"2026-01-02T03:05:05Z"}`},
	} {
		if st, raw := h.Do(t, http.MethodPost, c.path, c.body); st != http.StatusOK {
			t.Fatalf("%s: %d %s", c.path, st, raw)
		}
	}
	ctx := context.Background()
	lines, err := env.Store.Logs(ctx, job.ID, 0, 10)
	if err != nil || len(lines) != 1 || lines[0].Text != "a\uFFFDb" {
		t.Fatalf("lines %+v %v", lines, err)
	}
	j, err := env.Store.Job(ctx, h.HostID, job.ID)
	if err != nil || j.Error != "bad\uFFFDthing" {
		t.Fatalf("job error %q %v", j.Error, err)
	}
}
