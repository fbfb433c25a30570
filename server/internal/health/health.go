// Package health evaluates the fleet: for every host, its backup objective (the maximum
// age of its last successful backup) and whether it is ok, at risk or violated, and the
// other conditions an operator must hear about — agent offline, repository locked, check
// failed, restic too old. Each condition that holds opens one alert per host; the alert
// resolves when the condition ends, and its history stays.
//
// One round reads the whole fleet with a constant number of queries (see
// store.RunHealthRound), decides in memory (Plan, a pure function of the facts and the
// clock), and writes the changes in the same transaction, together with the
// notifications the routing rules ask for. The clock is injected: tests drive it.
package health

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/dispatch"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// Config tunes the evaluation.
type Config struct {
	// Interval between rounds; 0 or less: Run does nothing (RunOnce still works).
	Interval time.Duration
	// OfflineAfter: an agent not seen for this long is offline (default 15 min).
	OfflineAfter time.Duration
	// Slack is added to twice a backup schedule's longest interval to derive the
	// objective (default 1 h): a daily backup gets 49 h.
	Slack time.Duration
	// DefaultObjective applies to hosts without an enabled backup schedule and without
	// an override (0: such hosts are not judged).
	DefaultObjective time.Duration
	// AtRiskRatio: past this fraction of the objective a host is at risk (default 0.75).
	AtRiskRatio float64
	// MinResticVersion: hosts with an older restic get a restic_outdated alert ("" off).
	MinResticVersion string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (c *Config) defaults() {
	if c.OfflineAfter <= 0 {
		c.OfflineAfter = 15 * time.Minute
	}
	if c.Slack <= 0 {
		c.Slack = time.Hour
	}
	if c.AtRiskRatio <= 0 || c.AtRiskRatio >= 1 {
		c.AtRiskRatio = 0.75
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Store runs a round (implemented by *store.Store).
type Store interface {
	RunHealthRound(ctx context.Context, now time.Time, plan func(store.HealthRound) store.HealthPlan) (store.HealthOutcome, error)
}

// Hooks are told about every round (metrics, waking the notifier). Nil hooks are skipped.
type Hooks struct {
	AfterRound func(out store.HealthOutcome, took time.Duration, err error)
}

// Evaluator runs evaluation rounds.
type Evaluator struct {
	cfg    Config
	store  Store
	logger *slog.Logger
	hooks  Hooks
	minVer []int

	mu      sync.Mutex
	gaps    map[string]gapEntry // cron+zone → longest interval between fires
	started time.Time           // the clock at the first round
}

type gapEntry struct {
	gap time.Duration
	at  time.Time
}

// New returns an evaluator.
func New(cfg Config, s Store, logger *slog.Logger, hooks Hooks) (*Evaluator, error) {
	cfg.defaults()
	e := &Evaluator{cfg: cfg, store: s, logger: logger, hooks: hooks, gaps: map[string]gapEntry{}}
	if cfg.MinResticVersion != "" {
		v, ok := parseVersion(cfg.MinResticVersion)
		if !ok {
			return nil, fmt.Errorf("health: minimum restic version %q is not major.minor.patch", cfg.MinResticVersion)
		}
		e.minVer = v
	}
	return e, nil
}

// Run evaluates every Interval until ctx ends. Errors are logged; the next round tries again.
func (e *Evaluator) Run(ctx context.Context) {
	if e.cfg.Interval <= 0 {
		return
	}
	t := time.NewTicker(e.cfg.Interval)
	defer t.Stop()
	for {
		if _, err := e.RunOnce(ctx); err != nil && ctx.Err() == nil {
			e.logger.Error("health evaluation failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce runs one round at the clock's current time.
func (e *Evaluator) RunOnce(ctx context.Context) (store.HealthOutcome, error) {
	now := e.cfg.Now()
	e.mu.Lock()
	if e.started.IsZero() {
		e.started = now
	}
	e.mu.Unlock()
	start := time.Now()
	out, err := e.store.RunHealthRound(ctx, now, e.Plan)
	took := time.Since(start)
	if e.hooks.AfterRound != nil {
		e.hooks.AfterRound(out, took, err)
	}
	if err != nil {
		return out, fmt.Errorf("health: %w", err)
	}
	if !out.Skipped {
		if len(out.Opened)+len(out.Escalated)+len(out.Resolved) > 0 {
			e.logger.Info("health round", "hosts", out.Hosts, "opened", len(out.Opened), "escalated", len(out.Escalated),
				"resolved", len(out.Resolved), "notifications", out.Deliveries, "took_ms", took.Milliseconds())
		}
	}
	return out, nil
}

// desired is a condition that holds for a host.
type desired struct {
	severity string
	message  string
	details  map[string]any
}

// Plan decides a round: every host's objective state, and which alerts open, escalate
// and resolve. It is a pure function of the round's facts and time.
func (e *Evaluator) Plan(r store.HealthRound) store.HealthPlan {
	now := r.Now
	open := make(map[[2]string]store.OpenAlert, len(r.OpenAlerts))
	for _, a := range r.OpenAlerts {
		open[[2]string{a.HostID, a.Condition}] = a
	}
	p := store.HealthPlan{Health: make([]store.HostHealth, 0, len(r.Hosts))}
	// After the server starts, agents get OfflineAfter to reconnect before any is called
	// offline: a server that was down must not greet its operators with an alert for
	// every host. Offline alerts already open stay open meanwhile.
	e.mu.Lock()
	started := e.started
	e.mu.Unlock()
	hold := map[string]bool{store.ConditionAgentOffline: !started.IsZero() && now.Sub(started) < e.cfg.OfflineAfter}
	seen := make(map[string]bool, len(r.Hosts))
	for _, f := range r.Hosts {
		seen[f.Host.ID] = true
		hh, want := e.evaluateHost(f, now)
		p.Health = append(p.Health, hh)
		for _, cond := range store.Conditions {
			if hold[cond] {
				continue
			}
			d, wanted := want[cond]
			cur, isOpen := open[[2]string{f.Host.ID, cond}]
			switch {
			case wanted && !isOpen:
				p.Open = append(p.Open, store.AlertChange{HostID: f.Host.ID, Condition: cond, Severity: d.severity, Message: d.message, Details: d.details})
			case wanted && store.SeverityRank(d.severity) > store.SeverityRank(cur.Severity):
				p.Escalate = append(p.Escalate, store.AlertChange{ID: cur.ID, HostID: f.Host.ID, Condition: cond, Severity: d.severity, Message: d.message, Details: d.details})
			case !wanted && isOpen:
				p.Resolve = append(p.Resolve, store.AlertChange{ID: cur.ID, HostID: f.Host.ID, Condition: cond, Resolution: "condition ended"})
			}
		}
	}
	for _, a := range r.OpenAlerts {
		if !seen[a.HostID] {
			p.Resolve = append(p.Resolve, store.AlertChange{ID: a.ID, HostID: a.HostID, Condition: a.Condition, Resolution: "host decommissioned"})
		}
	}
	return p
}

func (e *Evaluator) evaluateHost(f store.HostFacts, now time.Time) (store.HostHealth, map[string]desired) {
	want := map[string]desired{}
	hh := store.HostHealth{HostID: f.Host.ID, ObjectiveState: store.ObjectiveNone, LastBackupAt: f.LastBackupAt, StateSince: now, UpdatedAt: now}

	objective, source, since := e.Objective(f, now)
	if objective > 0 {
		hh.ObjectiveSeconds, hh.ObjectiveSource = int64(objective/time.Second), source
		ref := since
		if f.LastBackupAt != nil {
			ref = *f.LastBackupAt
		}
		age := max(now.Sub(ref), 0)
		details := map[string]any{"objective_seconds": hh.ObjectiveSeconds, "objective_source": source, "age_seconds": int64(age / time.Second)}
		what := "no successful backup yet (objective " + human(objective) + ")"
		if f.LastBackupAt != nil {
			details["last_backup_at"] = f.LastBackupAt.UTC().Format(time.RFC3339)
			what = "last successful backup " + human(age) + " ago (objective " + human(objective) + ")"
		}
		switch {
		case age > objective:
			hh.ObjectiveState = store.ObjectiveViolated
			want[store.ConditionBackupObjective] = desired{store.SeverityCritical, "Backup objective violated: " + what, details}
		case float64(age) > e.cfg.AtRiskRatio*float64(objective):
			hh.ObjectiveState = store.ObjectiveAtRisk
			want[store.ConditionBackupObjective] = desired{store.SeverityWarning, "Backup objective at risk: " + what, details}
		default:
			hh.ObjectiveState = store.ObjectiveOK
		}
	}

	seen := f.CreatedAt
	if f.LastSeenAt != nil {
		seen = *f.LastSeenAt
	}
	if away := now.Sub(seen); away > e.cfg.OfflineAfter {
		msg := "Agent offline: never connected since enrolment " + human(away) + " ago"
		details := map[string]any{"offline_after_seconds": int64(e.cfg.OfflineAfter / time.Second)}
		if f.LastSeenAt != nil {
			msg = "Agent offline: last seen " + human(away) + " ago"
			details["last_seen_at"] = f.LastSeenAt.UTC().Format(time.RFC3339)
		}
		want[store.ConditionAgentOffline] = desired{store.SeverityWarning, msg, details}
	}
	if f.LockedRepos > 0 {
		msg := "Repository locked: the latest statistics found a lock in " + strconv.Itoa(f.LockedRepos) + " repository"
		if f.LockedRepos > 1 {
			msg += "s"
		}
		want[store.ConditionRepositoryLocked] = desired{store.SeverityWarning, msg, map[string]any{"locked_repositories": f.LockedRepos}}
	}
	if f.LastCheckStatus == protocol.JobFailed {
		want[store.ConditionCheckFailed] = desired{store.SeverityCritical, "Repository check failed: the latest check job failed", nil}
	}
	if e.minVer != nil && f.ResticVersion != "" {
		if v, ok := parseVersion(f.ResticVersion); ok && less(v, e.minVer) {
			want[store.ConditionResticOutdated] = desired{store.SeverityWarning,
				"restic " + f.ResticVersion + " is older than the required " + e.cfg.MinResticVersion,
				map[string]any{"restic_version": f.ResticVersion, "min_restic_version": e.cfg.MinResticVersion}}
		}
	}
	return hh, want
}

// Objective returns a host's backup objective, where it comes from, and since when it
// applies (what a host that never backed up is measured from). Zero: not judged.
func (e *Evaluator) Objective(f store.HostFacts, now time.Time) (time.Duration, string, time.Time) {
	if f.OverrideSeconds > 0 {
		since := f.CreatedAt
		if f.OverrideAt != nil {
			since = *f.OverrideAt
		}
		return time.Duration(f.OverrideSeconds) * time.Second, store.ObjectiveFromOverride, since
	}
	var (
		best  time.Duration
		since time.Time
	)
	for _, sc := range f.Schedules {
		gap := e.longestGap(sc.Cron, sc.Timezone, now)
		if gap <= 0 {
			continue
		}
		if obj := 2*gap + e.cfg.Slack; best == 0 || obj < best {
			best = obj
		}
		if since.IsZero() || sc.CreatedAt.Before(since) {
			since = sc.CreatedAt
		}
	}
	if best > 0 {
		return best, store.ObjectiveFromSchedules, since
	}
	if e.cfg.DefaultObjective > 0 {
		return e.cfg.DefaultObjective, store.ObjectiveFromDefault, f.CreatedAt
	}
	return 0, "", time.Time{}
}

// longestGap returns the longest interval between consecutive fires of a cron schedule
// over its next 32 fires (a weekday-only schedule's is the weekend), cached for a day.
func (e *Evaluator) longestGap(expr, tz string, now time.Time) time.Duration {
	key := expr + "\x00" + tz
	e.mu.Lock()
	g, ok := e.gaps[key]
	e.mu.Unlock()
	if ok && now.Sub(g.at).Abs() < 24*time.Hour {
		return g.gap
	}
	fires, err := dispatch.NextFires(expr, tz, now, 33)
	var gap time.Duration
	if err == nil {
		for i := 1; i < len(fires); i++ {
			gap = max(gap, fires[i].Sub(fires[i-1]))
		}
	}
	e.mu.Lock()
	e.gaps[key] = gapEntry{gap: gap, at: now}
	e.mu.Unlock()
	return gap
}

// parseVersion reads "major.minor.patch" (a leading "v" and a suffix such as "-dev" are ignored).
func parseVersion(s string) ([]int, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	parts := strings.SplitN(s, ".", 3)
	if len(parts) < 2 {
		return nil, false
	}
	out := make([]int, 3)
	for i, p := range parts {
		end := 0
		for end < len(p) && p[end] >= '0' && p[end] <= '9' {
			end++
		}
		if end == 0 {
			return nil, false
		}
		out[i], _ = strconv.Atoi(p[:end])
	}
	return out, true
}

func less(a, b []int) bool {
	for i := range 3 {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// human prints a duration the way an operator reads it: "3d 4h", "5h 12m", "40m", "20s".
func human(d time.Duration) string {
	d = d.Round(time.Second)
	days, hours, mins := int(d/(24*time.Hour)), int(d/time.Hour)%24, int(d/time.Minute)%60
	switch {
	case days > 0 && hours > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case days > 0:
		return fmt.Sprintf("%dd", days)
	case hours > 0 && mins > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	case hours > 0:
		return fmt.Sprintf("%dh", hours)
	case mins > 0:
		return fmt.Sprintf("%dm", mins)
	}
	return fmt.Sprintf("%ds", int(d/time.Second))
}
