package metrics_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/config"
	"github.com/restic-manager/restic-manager/server/internal/servertest"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

const token = "metrics-Token-1"

func scrape(t *testing.T, url, tok string) (int, map[string]*dto.MetricFamily) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url+"/metrics", nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return resp.StatusCode, nil
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return 200, fams
}

// value finds the sample of a family whose labels include want; for histograms it
// returns the count and sum.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, float64) {
	t.Helper()
	fam := fams[name]
	if fam == nil {
		t.Fatalf("no metric %s", name)
	}
next:
	for _, m := range fam.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), 0
		case m.Counter != nil:
			return m.Counter.GetValue(), 0
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), m.Histogram.GetSampleSum()
		}
	}
	var have []string
	for _, m := range fam.Metric {
		have = append(have, m.String())
	}
	sort.Strings(have)
	t.Fatalf("no sample of %s with %v; have:\n%s", name, want, strings.Join(have, "\n"))
	return 0, 0
}

// TestMetricsAfterAJob scrapes /metrics (with its token) after a backup ran through the
// agent protocol, and checks the values of every series the issue asks for.
func TestMetricsAfterAJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := servertest.Start(t, servertest.Options{PollHold: 20 * time.Second, Config: func(c *config.Config) {
		c.Metrics, c.MetricsToken = true, token
	}})
	a := env.Enroll(t, "web-1")
	idle := env.Enroll(t, "web-2")
	repo, err := env.Store.CreateRepository(ctx, a.HostID, store.RepositoryInput{Name: "main", URL: "/srv/restic", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Server.Health.RunOnce(ctx); err != nil { // the first round starts the job scan
		t.Fatal(err)
	}

	// A backup: queued, delivered, acknowledged, started, finished after 90 s.
	job, _, err := env.Store.EnqueueRun(ctx, a.HostID, store.RunRequest{Kind: protocol.KindBackup, RepositoryID: repo.ID, Paths: []string{"/srv"}, ActorType: store.ActorUser})
	if err != nil {
		t.Fatal(err)
	}
	poll := a.Poll(t, 0, 0, 0, 0)
	if len(poll.Commands) != 1 {
		t.Fatalf("poll: %+v", poll)
	}
	if st := a.JSON(t, http.MethodPost, servertest.Path(protocol.PathCommandResult, "1"), protocol.CommandResult{Status: protocol.CommandAccepted}, nil); st != 200 {
		t.Fatalf("ack: %d", st)
	}
	finished := time.Now().UTC().Truncate(time.Second)
	started := finished.Add(-90 * time.Second)
	if st := a.JSON(t, http.MethodPost, servertest.Path(protocol.PathJobStart, job.ID), protocol.JobStart{StartedAt: started}, nil); st != 200 {
		t.Fatalf("start: %d", st)
	}
	logs := protocol.LogBatch{Lines: []protocol.LogLine{{Seq: 1, Stream: "stdout", Text: "a"}, {Seq: 2, Stream: "stdout", Text: "b"}, {Seq: 3, Stream: "stderr", Text: "c"}}}
	if st := a.JSON(t, http.MethodPost, servertest.Path(protocol.PathJobLogs, job.ID), logs, nil); st != 200 {
		t.Fatalf("logs: %d", st)
	}
	if st := a.JSON(t, http.MethodPost, servertest.Path(protocol.PathJobFinish, job.ID),
		protocol.JobFinish{Status: protocol.JobSucceeded, StartedAt: &started, FinishedAt: finished}, nil); st != 200 {
		t.Fatalf("finish: %d", st)
	}
	if st := a.JSON(t, http.MethodPost, servertest.Path(protocol.PathRepoStats, repo.ID),
		protocol.RepoStats{At: finished, TotalSize: 123456789, SnapshotsCount: 7, RestoreSize: 987654321}, nil); st != 200 {
		t.Fatalf("stats: %d", st)
	}
	// Another job stays queued (its command is not acknowledged).
	if _, _, err := env.Store.EnqueueRun(ctx, a.HostID, store.RunRequest{Kind: protocol.KindCheck, RepositoryID: repo.ID, ActorType: store.ActorUser}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Server.Health.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}

	// The idle agent holds a long poll.
	first := idle.Poll(t, 0, 0, 0, 0)
	var cv int64
	if first.Config != nil {
		cv = first.Config.Version
	}
	pollCtx, endPoll := context.WithCancel(ctx)
	held := make(chan struct{})
	go func() {
		defer close(held)
		req, _ := http.NewRequestWithContext(pollCtx, http.MethodGet, fmt.Sprintf("%s%s?cursor=%d&schedule_version=%d&config_version=%d&wait=30",
			env.URL, protocol.PathPoll, first.Cursor, first.ScheduleSet.Version, cv), nil)
		req.Header.Set("Authorization", "Bearer "+idle.Credential)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	defer func() { endPoll(); <-held }()
	waitFor(t, "a held poll and both agents seen", func() bool {
		n, err := env.Store.CountHosts(ctx, time.Now().Add(-time.Minute))
		return err == nil && n.Online == 2 && env.Server.Hub.Waiting() == 1
	})

	if st, _ := scrape(t, env.URL, ""); st != http.StatusUnauthorized {
		t.Fatalf("without the token: %d", st)
	}
	if st, _ := scrape(t, env.URL, "wrong"); st != http.StatusUnauthorized {
		t.Fatalf("with a wrong token: %d", st)
	}
	st, fams := scrape(t, env.URL, token)
	if st != 200 {
		t.Fatalf("scrape: %d", st)
	}
	host := map[string]string{"host_id": a.HostID, "host": "web-1"}
	repoLabels := map[string]string{"repository_id": repo.ID, "repository": "main", "host": "web-1"}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"restic_manager_host_last_backup_success_timestamp_seconds", host, float64(finished.Unix())},
		{"restic_manager_host_objective_state", map[string]string{"host": "web-1", "state": "none"}, 1},
		{"restic_manager_jobs_finished_total", map[string]string{"kind": "backup", "status": "succeeded"}, 1},
		{"restic_manager_repository_size_bytes", repoLabels, 123456789},
		{"restic_manager_repository_restore_size_bytes", repoLabels, 987654321},
		{"restic_manager_repository_snapshots", repoLabels, 7},
		{"restic_manager_repository_locked", repoLabels, 0},
		{"restic_manager_agents_online", nil, 2},
		{"restic_manager_hosts", map[string]string{"status": "online"}, 2},
		{"restic_manager_long_polls_held", nil, 1},
		{"restic_manager_commands_queued", nil, 1},
		{"restic_manager_jobs_active", map[string]string{"kind": "check", "status": "queued"}, 1},
		{"restic_manager_jobs_active", map[string]string{"kind": "backup", "status": "running"}, 0},
		{"restic_manager_health_evaluations_total", map[string]string{"result": "done"}, 2},
		{"restic_manager_fleet_metrics_up", nil, 1},
		{"restic_manager_ingest_reports_total", nil, 1},
		{"restic_manager_ingest_log_lines_total", nil, 3},
		{"restic_manager_ingest_group_failures_total", nil, 0},
		{"restic_manager_ingest_queued_reports", nil, 0},
	}
	for _, c := range checks {
		if got, _ := value(t, fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if n, sum := value(t, fams, "restic_manager_job_duration_seconds", map[string]string{"kind": "backup", "status": "succeeded"}); n != 1 || sum != 90 {
		t.Errorf("job duration: count %v sum %v, want 1 and 90", n, sum)
	}
	if n, _ := value(t, fams, "restic_manager_http_request_duration_seconds",
		map[string]string{"method": "POST", "route": "/api/v1/agent/jobs/:id/finish", "code": "200"}); n != 1 {
		t.Errorf("finish requests timed: %v", n)
	}
	if n, sum := value(t, fams, "restic_manager_http_request_duration_seconds",
		map[string]string{"method": "GET", "route": "/api/v1/agent/poll", "code": "200"}); n < 2 || sum < 0 {
		t.Errorf("polls timed: %v", n)
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}
}

// waitFor waits (bounded) for something another goroutine does: a flush or a held poll.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
