package health

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC) // a Tuesday

func newEval(t *testing.T, cfg Config) *Evaluator {
	t.Helper()
	e, err := New(cfg, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func ptr[T any](v T) *T { return &v }

func TestObjective(t *testing.T) {
	e := newEval(t, Config{DefaultObjective: 72 * time.Hour})
	sched := func(cron, tz string) store.BackupSchedule {
		return store.BackupSchedule{ID: cron, Cron: cron, Timezone: tz, CreatedAt: t0.Add(-24 * time.Hour)}
	}
	cases := []struct {
		name   string
		f      store.HostFacts
		want   time.Duration
		source string
	}{
		{"daily", store.HostFacts{Schedules: []store.BackupSchedule{sched("0 3 * * *", "Europe/Berlin")}}, 49 * time.Hour, store.ObjectiveFromSchedules},
		{"hourly", store.HostFacts{Schedules: []store.BackupSchedule{sched("@hourly", "")}}, 3 * time.Hour, store.ObjectiveFromSchedules},
		{"weekdays: the weekend is the longest gap", store.HostFacts{Schedules: []store.BackupSchedule{sched("0 22 * * 1-5", "UTC")}}, 2*72*time.Hour + time.Hour, store.ObjectiveFromSchedules},
		{"the most frequent schedule wins", store.HostFacts{Schedules: []store.BackupSchedule{sched("0 3 * * 0", "UTC"), sched("0 */6 * * *", "UTC")}}, 13 * time.Hour, store.ObjectiveFromSchedules},
		{"override", store.HostFacts{OverrideSeconds: 3600, Schedules: []store.BackupSchedule{sched("@daily", "")}}, time.Hour, store.ObjectiveFromOverride},
		{"default without schedules", store.HostFacts{}, 72 * time.Hour, store.ObjectiveFromDefault},
		{"unparseable cron falls back to the default", store.HostFacts{Schedules: []store.BackupSchedule{sched("nope", "")}}, 72 * time.Hour, store.ObjectiveFromDefault},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, source, _ := e.Objective(c.f, t0)
			if got != c.want || source != c.source {
				t.Fatalf("got %s from %q, want %s from %q", got, source, c.want, c.source)
			}
		})
	}
	if got, source, _ := newEval(t, Config{}).Objective(store.HostFacts{}, t0); got != 0 || source != "" {
		t.Fatalf("no schedule, no default: %s %q", got, source)
	}
}

func TestPlan(t *testing.T) {
	e := newEval(t, Config{MinResticVersion: "0.16.0", OfflineAfter: 15 * time.Minute})
	daily := []store.BackupSchedule{{ID: "s", Cron: "0 3 * * *", Timezone: "UTC", CreatedAt: t0.Add(-30 * 24 * time.Hour)}}
	host := func(id string, lastBackup time.Duration) store.HostFacts {
		f := store.HostFacts{Host: store.EventHost{ID: id, Name: id}, CreatedAt: t0.Add(-60 * 24 * time.Hour), LastSeenAt: ptr(t0.Add(-time.Minute)),
			ResticVersion: "0.18.0", Schedules: daily}
		if lastBackup >= 0 {
			f.LastBackupAt = ptr(t0.Add(-lastBackup))
		}
		return f
	}
	type want struct {
		state string
		open  map[string]string // condition → severity
	}
	cases := []struct {
		name string
		f    store.HostFacts
		want want
	}{
		{"fresh backup", host("a", 2*time.Hour), want{store.ObjectiveOK, nil}},
		{"one run missed: at risk", host("a", 40*time.Hour), want{store.ObjectiveAtRisk, map[string]string{store.ConditionBackupObjective: store.SeverityWarning}}},
		{"objective violated", host("a", 50*time.Hour), want{store.ObjectiveViolated, map[string]string{store.ConditionBackupObjective: store.SeverityCritical}}},
		{"never backed up: measured from the schedule's creation", host("a", -1), want{store.ObjectiveViolated, map[string]string{store.ConditionBackupObjective: store.SeverityCritical}}},
		{"no schedule: not judged", func() store.HostFacts { f := host("a", -1); f.Schedules = nil; return f }(), want{store.ObjectiveNone, nil}},
		{"offline", func() store.HostFacts {
			f := host("a", time.Hour)
			f.LastSeenAt = ptr(t0.Add(-16 * time.Minute))
			return f
		}(),
			want{store.ObjectiveOK, map[string]string{store.ConditionAgentOffline: store.SeverityWarning}}},
		{"never seen since enrolment", func() store.HostFacts { f := host("a", time.Hour); f.LastSeenAt = nil; return f }(),
			want{store.ObjectiveOK, map[string]string{store.ConditionAgentOffline: store.SeverityWarning}}},
		{"locked, check failed, old restic", func() store.HostFacts {
			f := host("a", time.Hour)
			f.LockedRepos, f.LastCheckStatus, f.ResticVersion = 2, protocol.JobFailed, "0.14.0"
			return f
		}(), want{store.ObjectiveOK, map[string]string{store.ConditionRepositoryLocked: store.SeverityWarning,
			store.ConditionCheckFailed: store.SeverityCritical, store.ConditionResticOutdated: store.SeverityWarning}}},
		{"a later check succeeded; unknown restic version", func() store.HostFacts {
			f := host("a", time.Hour)
			f.LastCheckStatus, f.ResticVersion = protocol.JobSucceeded, ""
			return f
		}(), want{store.ObjectiveOK, nil}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := e.Plan(store.HealthRound{Now: t0, Hosts: []store.HostFacts{c.f}})
			if len(p.Health) != 1 || p.Health[0].ObjectiveState != c.want.state {
				t.Fatalf("health %+v, want %s", p.Health, c.want.state)
			}
			got := map[string]string{}
			for _, o := range p.Open {
				got[o.Condition] = o.Severity
				if o.Message == "" {
					t.Errorf("%s: no message", o.Condition)
				}
			}
			if len(got) != len(c.want.open) {
				t.Fatalf("opened %v, want %v", got, c.want.open)
			}
			for k, v := range c.want.open {
				if got[k] != v {
					t.Fatalf("opened %v, want %v", got, c.want.open)
				}
			}
			if len(p.Escalate)+len(p.Resolve) != 0 {
				t.Fatalf("nothing was open: %+v", p)
			}
		})
	}

	// With alerts open: escalation, no downgrade, resolution, and the alerts of hosts
	// that left the fleet.
	open := []store.OpenAlert{
		{Alert: store.Alert{ID: "1", HostID: "a", Condition: store.ConditionBackupObjective, Severity: store.SeverityWarning}},
		{Alert: store.Alert{ID: "2", HostID: "a", Condition: store.ConditionAgentOffline, Severity: store.SeverityWarning}},
		{Alert: store.Alert{ID: "3", HostID: "b", Condition: store.ConditionBackupObjective, Severity: store.SeverityCritical}},
		{Alert: store.Alert{ID: "4", HostID: "gone", Condition: store.ConditionCheckFailed, Severity: store.SeverityCritical}},
	}
	p := e.Plan(store.HealthRound{Now: t0, Hosts: []store.HostFacts{host("a", 50*time.Hour), host("b", 40*time.Hour)}, OpenAlerts: open})
	if len(p.Open) != 0 || len(p.Escalate) != 1 || p.Escalate[0].ID != "1" || p.Escalate[0].Severity != store.SeverityCritical {
		t.Fatalf("escalation: %+v", p)
	}
	if len(p.Resolve) != 2 || p.Resolve[0].ID != "2" || p.Resolve[1].ID != "4" || p.Resolve[1].Resolution != "host decommissioned" {
		t.Fatalf("resolution: %+v", p.Resolve)
	}
}

func TestVersionsAndDurations(t *testing.T) {
	for _, c := range []struct {
		a, b string
		less bool
	}{{"0.14.0", "0.16.0", true}, {"0.16.0", "0.16.0", false}, {"0.18.1-dev", "0.16.0", false}, {"v0.9.6", "0.10.0", true}} {
		a, _ := parseVersion(c.a)
		b, _ := parseVersion(c.b)
		if less(a, b) != c.less {
			t.Errorf("%s < %s: %t", c.a, c.b, !c.less)
		}
	}
	if _, err := New(Config{MinResticVersion: "latest"}, nil, nil, Hooks{}); err == nil {
		t.Error("a minimum version that is not a version was accepted")
	}
	for d, want := range map[time.Duration]string{49 * time.Hour: "2d 1h", 48 * time.Hour: "2d", 90 * time.Minute: "1h 30m", 40 * time.Minute: "40m", 5 * time.Second: "5s"} {
		if got := human(d); got != want {
			t.Errorf("human(%s) = %q, want %q", d, got, want)
		}
	}
}

// TestOfflineGraceAfterStart: for OfflineAfter after the server starts, agents are not
// called offline (they may not have reconnected yet), and open offline alerts stay.
func TestOfflineGraceAfterStart(t *testing.T) {
	e := newEval(t, Config{OfflineAfter: 15 * time.Minute})
	e.started = t0.Add(-5 * time.Minute)
	away := store.HostFacts{Host: store.EventHost{ID: "a"}, CreatedAt: t0.Add(-time.Hour), LastSeenAt: ptr(t0.Add(-30 * time.Minute))}
	back := store.HostFacts{Host: store.EventHost{ID: "b"}, CreatedAt: t0.Add(-time.Hour), LastSeenAt: ptr(t0)}
	open := []store.OpenAlert{{Alert: store.Alert{ID: "1", HostID: "b", Condition: store.ConditionAgentOffline, Severity: store.SeverityWarning}}}
	if p := e.Plan(store.HealthRound{Now: t0, Hosts: []store.HostFacts{away, back}, OpenAlerts: open}); len(p.Open)+len(p.Resolve) != 0 {
		t.Fatalf("during the grace period: %+v", p)
	}
	p := e.Plan(store.HealthRound{Now: t0.Add(11 * time.Minute), Hosts: []store.HostFacts{away, back}, OpenAlerts: open})
	if len(p.Open) != 1 || p.Open[0].HostID != "a" || len(p.Resolve) != 1 || p.Resolve[0].ID != "1" {
		t.Fatalf("after it: %+v", p)
	}
}
