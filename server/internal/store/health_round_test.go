package store_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/store"
	"github.com/restic-manager/restic-manager/server/internal/storetest"
)

// runJob queues, starts and finishes a job of a host with the given outcome.
func runJob(t *testing.T, s *store.Store, hostID, repoID, kind, status string, finished time.Time) store.Job {
	t.Helper()
	ctx := context.Background()
	req := store.RunRequest{Kind: kind, RepositoryID: repoID, ActorType: store.ActorUser, ActorID: "test"}
	if kind == protocol.KindBackup {
		req.Paths = []string{"/srv"}
	}
	j, _, err := s.EnqueueRun(ctx, hostID, req)
	if err != nil {
		t.Fatal(err)
	}
	started := finished.Add(-90 * time.Second)
	if _, err := s.StartJob(ctx, hostID, j.ID, started); err != nil {
		t.Fatal(err)
	}
	j, err = s.FinishJob(ctx, hostID, j.ID, protocol.JobFinish{Status: status, FinishedAt: finished, StartedAt: &started})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// fixedPlan opens, escalates and resolves what it is told, and captures the round.
type fixedPlan struct {
	mu     sync.Mutex
	rounds []store.HealthRound
	plan   store.HealthPlan
}

func (p *fixedPlan) fn(r store.HealthRound) store.HealthPlan {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rounds = append(p.rounds, r)
	return p.plan
}

func TestHealthRoundFactsAndAlerts(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		fx := newFixture(t, s)
		other, _ := enrollHost(t, s, "db-1")
		if _, err := s.SetHostLabels(ctx, fx.host.ID, map[string]string{"env": "prod"}); err != nil {
			t.Fatal(err)
		}
		sched, err := s.CreateSchedule(ctx, fx.host.ID, store.ScheduleInput{RepositoryID: fx.repo.ID, Name: "nightly", Kind: protocol.KindBackup,
			Cron: "0 3 * * *", Timezone: "Europe/Berlin", Paths: []string{"/srv"}, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateSchedule(ctx, fx.host.ID, store.ScheduleInput{RepositoryID: fx.repo.ID, Name: "manual", Kind: protocol.KindBackup,
			Cron: "0 4 * * *", Paths: []string{"/srv"}, Enabled: true, Manual: true}); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Second)
		older := runJob(t, s, fx.host.ID, fx.repo.ID, protocol.KindBackup, protocol.JobSucceeded, now.Add(-3*time.Hour))
		_ = older
		last := runJob(t, s, fx.host.ID, fx.repo.ID, protocol.KindBackup, protocol.JobWarning, now.Add(-2*time.Hour))
		runJob(t, s, fx.host.ID, fx.repo.ID, protocol.KindBackup, protocol.JobFailed, now.Add(-time.Hour))
		runJob(t, s, fx.host.ID, fx.repo.ID, protocol.KindCheck, protocol.JobSucceeded, now.Add(-50*time.Minute))
		runJob(t, s, fx.host.ID, fx.repo.ID, protocol.KindCheck, protocol.JobFailed, now.Add(-40*time.Minute))
		for i, locked := range []bool{true, false, true} {
			if err := s.AddRepoStats(ctx, fx.host.ID, fx.repo.ID, protocol.RepoStats{At: now.Add(time.Duration(i-5) * time.Minute), Locked: locked, TotalSize: int64(100 + i)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.SetObjective(ctx, other.ID, 36*time.Hour, "tester"); err != nil {
			t.Fatal(err)
		}

		p := &fixedPlan{}
		out, err := s.RunHealthRound(ctx, now, p.fn)
		if err != nil {
			t.Fatal(err)
		}
		if out.Skipped || out.Hosts != 2 || len(p.rounds) != 1 {
			t.Fatalf("outcome %+v", out)
		}
		var web, db store.HostFacts
		for _, h := range p.rounds[0].Hosts {
			switch h.Host.ID {
			case fx.host.ID:
				web = h
			case other.ID:
				db = h
			}
		}
		if web.LastBackupAt == nil || !web.LastBackupAt.Equal(*last.FinishedAt) {
			t.Errorf("last backup %v, want %v", web.LastBackupAt, last.FinishedAt)
		}
		if web.LastCheckStatus != protocol.JobFailed || web.LockedRepos != 1 || web.Host.Labels["env"] != "prod" {
			t.Errorf("web facts: %+v", web)
		}
		if len(web.Schedules) != 1 || web.Schedules[0].ID != sched.ID || web.Schedules[0].Cron != "0 3 * * *" || web.Schedules[0].Timezone != "Europe/Berlin" {
			t.Errorf("schedules: %+v", web.Schedules)
		}
		if web.Prev != nil || web.OverrideSeconds != 0 {
			t.Errorf("web prev/override: %+v", web)
		}
		if db.OverrideSeconds != 36*3600 || db.OverrideAt == nil || db.LastBackupAt != nil || db.LastCheckStatus != "" || db.LockedRepos != 0 {
			t.Errorf("db facts: %+v", db)
		}

		// Health rows: written when they change, state_since kept while the state stays.
		p.plan = store.HealthPlan{
			Health: []store.HostHealth{{HostID: fx.host.ID, ObjectiveState: store.ObjectiveOK, ObjectiveSeconds: 49 * 3600, ObjectiveSource: "schedules",
				LastBackupAt: web.LastBackupAt, StateSince: now, UpdatedAt: now}},
			Open: []store.AlertChange{
				{HostID: fx.host.ID, Condition: store.ConditionCheckFailed, Severity: store.SeverityCritical, Message: "check failed", Details: map[string]any{"x": 1.0}},
				{HostID: other.ID, Condition: store.ConditionAgentOffline, Severity: store.SeverityWarning, Message: "offline"},
			},
		}
		out, err = s.RunHealthRound(ctx, now.Add(time.Minute), p.fn)
		if err != nil {
			t.Fatal(err)
		}
		if out.HealthWritten != 1 || len(out.Opened) != 2 {
			t.Fatalf("second round: %+v", out)
		}
		// The same plan again: the unique index keeps one open alert per host and condition.
		p.plan.Health[0].StateSince = now.Add(2 * time.Minute)
		out, err = s.RunHealthRound(ctx, now.Add(2*time.Minute), p.fn)
		if err != nil {
			t.Fatal(err)
		}
		if out.HealthWritten != 0 || len(out.Opened) != 0 {
			t.Fatalf("repeat round: %+v", out)
		}
		r := p.rounds[len(p.rounds)-1]
		if len(r.OpenAlerts) != 2 || r.Hosts[0].Prev == nil && r.Hosts[1].Prev == nil {
			t.Fatalf("round after opening: %+v", r.OpenAlerts)
		}
		hh, err := s.HostHealthOf(ctx, fx.host.ID)
		if err != nil {
			t.Fatal(err)
		}
		if hh.Health == nil || hh.Health.ObjectiveState != store.ObjectiveOK || !hh.Health.StateSince.Equal(now) || len(hh.Open) != 1 ||
			hh.Open[0].Details["x"] != 1.0 || hh.Host.Labels["env"] != "prod" {
			t.Fatalf("host health: %+v %+v", hh.Health, hh.Open)
		}

		// Escalate and resolve.
		var offline, check store.OpenAlert
		for _, a := range r.OpenAlerts {
			if a.Condition == store.ConditionAgentOffline {
				offline = a
			} else {
				check = a
			}
		}
		p.plan = store.HealthPlan{
			Escalate: []store.AlertChange{{ID: offline.ID, Severity: store.SeverityCritical, Message: "offline for long"}},
			Resolve:  []store.AlertChange{{ID: check.ID, Resolution: "condition ended"}},
		}
		out, err = s.RunHealthRound(ctx, now.Add(3*time.Minute), p.fn)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Escalated) != 1 || len(out.Resolved) != 1 || out.Resolved[0].ID != check.ID {
			t.Fatalf("escalate/resolve: %+v", out)
		}
		out, err = s.RunHealthRound(ctx, now.Add(4*time.Minute), p.fn)
		if err != nil || len(out.Escalated)+len(out.Resolved) != 0 {
			t.Fatalf("repeat escalate/resolve: %+v %v", out, err)
		}
		open, _, err := s.ListAlerts(ctx, store.AlertFilter{State: store.AlertOpen}, store.PageRequest{})
		if err != nil || len(open) != 1 || open[0].Severity != store.SeverityCritical || open[0].Message != "offline for long" {
			t.Fatalf("open alerts: %+v %v", open, err)
		}
		resolved, _, err := s.ListAlerts(ctx, store.AlertFilter{State: store.AlertResolved, HostID: fx.host.ID}, store.PageRequest{})
		if err != nil || len(resolved) != 1 || resolved[0].ResolvedAt == nil || resolved[0].Resolution != "condition ended" {
			t.Fatalf("resolved alerts: %+v %v", resolved, err)
		}
		sum, err := s.HealthSummary(ctx)
		if err != nil || sum.States[store.ObjectiveOK] != 1 || sum.States[store.ObjectiveUnknown] != 1 ||
			sum.OpenAlerts[store.ConditionAgentOffline][store.SeverityCritical] != 1 || sum.LastRound.IsZero() {
			t.Fatalf("summary: %+v %v", sum, err)
		}
		page, _, err := s.ListHostHealth(ctx, store.HostHealthFilter{Condition: store.ConditionAgentOffline}, store.PageRequest{})
		if err != nil || len(page) != 1 || page[0].Host.ID != other.ID || page[0].Override == nil || page[0].Override.MaxAgeSeconds != 36*3600 {
			t.Fatalf("health list by condition: %+v %v", page, err)
		}
		page, _, err = s.ListHostHealth(ctx, store.HostHealthFilter{State: store.ObjectiveUnknown}, store.PageRequest{})
		if err != nil || len(page) != 1 || page[0].Host.ID != other.ID || page[0].Health != nil {
			t.Fatalf("health list unknown: %+v %v", page, err)
		}

		// Decommissioned hosts leave the facts.
		if _, err := s.DecommissionHost(ctx, other.ID); err != nil {
			t.Fatal(err)
		}
		p.plan = store.HealthPlan{}
		if out, err = s.RunHealthRound(ctx, now.Add(5*time.Minute), p.fn); err != nil || out.Hosts != 1 {
			t.Fatalf("after decommission: %+v %v", out, err)
		}

		// Metrics read the same facts.
		fm, err := s.FleetMetrics(ctx, now.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(fm.Hosts) != 1 || fm.Hosts[0].LastBackupAt == nil || !fm.Hosts[0].LastBackupAt.Equal(*last.FinishedAt) ||
			fm.Hosts[0].ObjectiveState != store.ObjectiveOK || fm.Hosts[0].ObjectiveSeconds != 49*3600 {
			t.Fatalf("host metrics: %+v", fm.Hosts)
		}
		if len(fm.Repositories) != 1 || fm.Repositories[0].TotalSize != 102 || !fm.Repositories[0].Locked {
			t.Fatalf("repository metrics: %+v", fm.Repositories)
		}
	})
}

func TestHealthRoundQueuesRoutedNotifications(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		fx := newFixture(t, s)
		if _, err := s.SetHostLabels(ctx, fx.host.ID, map[string]string{"env": "prod"}); err != nil {
			t.Fatal(err)
		}
		webhook, err := s.CreateChannel(ctx, store.ChannelInput{Name: "hook", Type: store.ChannelWebhook, Config: []byte(`{"url":"http://x"}`), Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		mail, err := s.CreateChannel(ctx, store.ChannelInput{Name: "mail", Type: store.ChannelEmail, Config: []byte(`{}`), Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateChannel(ctx, store.ChannelInput{Name: "mail", Type: store.ChannelEmail, Config: []byte(`{}`), Enabled: true}); err == nil {
			t.Fatal("duplicate channel name accepted")
		}
		rules := []store.RuleInput{
			{Name: "all alerts", ChannelID: webhook.ID, Enabled: true},
			{Name: "twice the same channel", ChannelID: webhook.ID, Enabled: true},
			{Name: "critical prod + failed jobs", ChannelID: mail.ID, Events: []string{store.EventAlertOpened, store.EventJobFailed},
				MinSeverity: store.SeverityCritical, Labels: map[string]string{"env": "prod"}, JobKinds: []string{protocol.KindBackup}, Enabled: true},
			{Name: "disabled", ChannelID: mail.ID, Events: store.EventTypes, Enabled: false},
		}
		for _, in := range rules {
			if _, err := s.CreateRule(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.CreateRule(ctx, store.RuleInput{Name: "x", ChannelID: "00000000-0000-0000-0000-000000000000"}); err == nil {
			t.Fatal("rule for an unknown channel accepted")
		}
		sched, err := s.CreateSchedule(ctx, fx.host.ID, store.ScheduleInput{RepositoryID: fx.repo.ID, Name: "n", Kind: protocol.KindBackup,
			Cron: "@daily", Paths: []string{"/srv"}, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetSchedulePing(ctx, fx.host.ID, sched.ID, "https://hc.example/abc", "https://hc.example"); err != nil {
			t.Fatal(err)
		}

		now := time.Now().UTC()
		p := &fixedPlan{}
		if _, err := s.RunHealthRound(ctx, now.Add(-time.Hour), p.fn); err != nil { // sets the job watermark
			t.Fatal(err)
		}
		// A failed backup of the scheduled kind (with a ping), a successful check.
		fire, _, _, err := s.FireSchedule(ctx, fx.host.ID, sched.ID, protocol.ScheduleFire{JobID: "11111111-2222-3333-4444-555555555555", ScheduledFor: now})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartJob(ctx, fx.host.ID, fire.ID, now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FinishJob(ctx, fx.host.ID, fire.ID, protocol.JobFinish{Status: protocol.JobFailed, Error: "repository unreachable", FinishedAt: now}); err != nil {
			t.Fatal(err)
		}
		runJob(t, s, fx.host.ID, fx.repo.ID, protocol.KindCheck, protocol.JobSucceeded, now)
		p.plan = store.HealthPlan{Open: []store.AlertChange{
			{HostID: fx.host.ID, Condition: store.ConditionBackupObjective, Severity: store.SeverityCritical, Message: "violated"},
			{HostID: fx.host.ID, Condition: store.ConditionAgentOffline, Severity: store.SeverityWarning, Message: "offline"},
		}}
		out, err := s.RunHealthRound(ctx, now, p.fn)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Jobs) != 2 {
			t.Fatalf("fresh jobs: %+v", out.Jobs)
		}
		// webhook: 2 alerts; mail: the critical alert and the failed backup; ping: fail.
		if out.Deliveries != 5 {
			t.Fatalf("deliveries queued: %d", out.Deliveries)
		}
		// The next round re-reads the overlap but queues nothing twice; the jobs are not fresh.
		p.plan = store.HealthPlan{}
		out, err = s.RunHealthRound(ctx, now.Add(time.Second), p.fn)
		if err != nil || out.Deliveries != 0 || len(out.Jobs) != 0 {
			t.Fatalf("repeat: %+v %v", out, err)
		}
		all, _, err := s.ListDeliveries(ctx, store.DeliveryFilter{}, store.PageRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range all {
			got = append(got, d.TargetType+"/"+d.TargetName+"/"+d.EventType)
			if d.Status != store.DeliveryPending || d.Payload.Host == nil || d.Payload.Host.Labels["env"] != "prod" {
				t.Errorf("delivery %+v", d)
			}
			if d.TargetType == store.TargetPing && (d.Payload.PingPath != "/fail" || d.TargetID != sched.ID) {
				t.Errorf("ping %+v", d)
			}
		}
		slices.Sort(got)
		want := []string{"channel/hook/alert.opened", "channel/hook/alert.opened", "channel/mail/alert.opened", "channel/mail/job.failed", "ping//ping"}
		if !slices.Equal(got, want) {
			t.Fatalf("deliveries %v, want %v", got, want)
		}

		// Claim, fail with a retry, claim again when due, deliver.
		claimed, err := s.ClaimDeliveries(ctx, now, 3, time.Minute)
		if err != nil || len(claimed) != 3 || claimed[0].Attempts != 1 || claimed[0].Status != store.DeliverySending {
			t.Fatalf("claim: %+v %v", claimed, err)
		}
		if more, _ := s.ClaimDeliveries(ctx, now, 10, time.Minute); len(more) != 2 {
			t.Fatalf("second claim got %d", len(more))
		}
		if none, _ := s.ClaimDeliveries(ctx, now, 10, time.Minute); len(none) != 0 {
			t.Fatalf("claimed twice: %+v", none)
		}
		d, err := s.FinishAttempt(ctx, claimed[0], store.AttemptResult{At: now, StatusCode: 503, Error: "HTTP 503", Retry: now.Add(time.Minute)})
		if err != nil || d.Status != store.DeliveryPending || d.LastError != "HTTP 503" {
			t.Fatalf("retry: %+v %v", d, err)
		}
		if again, _ := s.ClaimDeliveries(ctx, now.Add(30*time.Second), 10, time.Minute); len(again) != 0 {
			t.Fatalf("claimed before due: %+v", again)
		}
		again, err := s.ClaimDeliveries(ctx, now.Add(90*time.Second), 10, time.Minute)
		// The retried one is due; the others' claims (lease 1 min) expired and are taken again.
		if err != nil || len(again) != 5 {
			t.Fatalf("claim when due: %d %v", len(again), err)
		}
		var retried store.NotificationDelivery
		for _, x := range again {
			if x.ID == claimed[0].ID {
				retried = x
			}
		}
		if retried.Attempts != 2 {
			t.Fatalf("retried: %+v", retried)
		}
		// A stale claim's late result does not overwrite the new claim.
		if d, _ := s.FinishAttempt(ctx, claimed[1], store.AttemptResult{At: now, OK: true}); d.Status != store.DeliverySending {
			t.Fatalf("stale finish changed the delivery: %+v", d)
		}
		d, err = s.FinishAttempt(ctx, retried, store.AttemptResult{At: now.Add(91 * time.Second), OK: true, StatusCode: 200})
		if err != nil || d.Status != store.DeliveryDelivered || d.DeliveredAt == nil || d.LastError != "" {
			t.Fatalf("delivered: %+v %v", d, err)
		}
		dd, atts, err := s.DeliveryByID(ctx, d.ID)
		if err != nil || dd.ID != d.ID || len(atts) != 2 || atts[0].OK || atts[0].StatusCode != 503 || !atts[1].OK || atts[1].Attempt != 2 {
			t.Fatalf("attempts: %+v %v", atts, err)
		}
		raw, _ := json.Marshal(dd.Payload)
		if len(raw) < 20 {
			t.Fatalf("payload: %s", raw)
		}
		if n, err := s.PruneDeliveries(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
			t.Fatalf("prune: %d %v", n, err)
		}
	})
}

// TestHealthRoundsOnReplicas runs rounds of several "replicas" at once on one
// PostgreSQL database: each alert opens once, each event is queued once per channel, and
// concurrent claims never hand out the same delivery twice.
func TestHealthRoundsOnReplicas(t *testing.T) {
	t.Parallel()
	url := storetest.NewPostgresDB(t)
	var replicas []*store.Store
	for range 4 {
		s, err := store.Open(context.Background(), store.Options{DatabaseURL: url, Box: storetest.Box(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		if _, err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, s)
	}
	ctx := context.Background()
	s := replicas[0]
	var hosts []string
	for i := range 20 {
		h, _ := enrollHost(t, s, "h"+string(rune('a'+i)))
		hosts = append(hosts, h.ID)
	}
	ch, err := s.CreateChannel(ctx, store.ChannelInput{Name: "hook", Type: store.ChannelWebhook, Config: []byte(`{}`), Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRule(ctx, store.RuleInput{Name: "all", ChannelID: ch.ID, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	plan := func(r store.HealthRound) store.HealthPlan {
		var p store.HealthPlan
		for _, h := range hosts {
			p.Open = append(p.Open, store.AlertChange{HostID: h, Condition: store.ConditionAgentOffline, Severity: store.SeverityWarning})
		}
		return p
	}
	var (
		mu       sync.Mutex
		opened   int
		queued   int
		skipped  int
		wg       sync.WaitGroup
		now      = time.Now()
		start    = make(chan struct{})
		failures []error
	)
	for i := range 16 {
		wg.Go(func() {
			<-start
			out, err := replicas[i%len(replicas)].RunHealthRound(ctx, now, plan)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failures = append(failures, err)
				return
			}
			opened += len(out.Opened)
			queued += out.Deliveries
			if out.Skipped {
				skipped++
			}
		})
	}
	close(start)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatal(failures)
	}
	if opened != len(hosts) || queued != len(hosts) {
		t.Fatalf("opened %d alerts and queued %d notifications for %d hosts (%d rounds skipped)", opened, queued, len(hosts), skipped)
	}
	t.Logf("16 concurrent rounds: %d skipped by the advisory lock", skipped)

	claimedBy := map[int64]int{}
	start = make(chan struct{})
	for i := range 8 {
		wg.Go(func() {
			<-start
			for {
				ds, err := replicas[i%len(replicas)].ClaimDeliveries(ctx, now, 3, time.Hour)
				mu.Lock()
				if err != nil {
					failures = append(failures, err)
				}
				for _, d := range ds {
					claimedBy[d.ID]++
				}
				mu.Unlock()
				if len(ds) == 0 || err != nil {
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatal(failures)
	}
	if len(claimedBy) != len(hosts) {
		t.Fatalf("claimed %d distinct deliveries, want %d", len(claimedBy), len(hosts))
	}
	for id, n := range claimedBy {
		if n != 1 {
			t.Fatalf("delivery %d claimed %d times", id, n)
		}
	}
}
