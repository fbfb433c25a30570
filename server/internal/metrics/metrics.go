// Package metrics exports Prometheus metrics at /metrics: the fleet's state read from the
// database at scrape time (the same on every replica: last successful backup per host,
// objectives, repository sizes and snapshot counts, hosts online, queued commands, active
// jobs, open alerts) and this process's own counters (request latencies, long polls held,
// jobs finished and their durations as seen by the health evaluator, notification
// attempts, evaluation rounds). With a token configured, /metrics needs
// "Authorization: Bearer <token>".
package metrics

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

const ns = "restic_manager"

// Source reads the fleet's state (implemented by *store.Store).
type Source interface {
	FleetMetrics(ctx context.Context, onlineSince time.Time) (store.FleetMetrics, error)
}

// Config tunes the metrics.
type Config struct {
	// Token, when set, must be sent as "Authorization: Bearer <token>".
	Token string
	// OnlineWindow: a host seen within it is online (as in the operator API).
	OnlineWindow time.Duration
	// CacheTTL: fleet metrics read from the database are reused this long, so frequent
	// scrapes of many replicas do not each query it (default 10 s; negative: never).
	CacheTTL time.Duration
	Version  string
	Now      func() time.Time
}

// Metrics holds the registry and this process's instruments.
type Metrics struct {
	cfg      Config
	reg      *prometheus.Registry
	httpDur  *prometheus.HistogramVec
	jobs     *prometheus.CounterVec
	jobDur   *prometheus.HistogramVec
	rounds   *prometheus.CounterVec
	roundDur prometheus.Histogram
	alerts   *prometheus.CounterVec
	notes    *prometheus.CounterVec
	noteDur  *prometheus.HistogramVec
	routes   routeObservers
}

// routeKey names one series of the request histogram.
type routeKey struct {
	method, route string
	code          int
}

// routeObservers remembers the request histogram's series by method, route and status,
// so that a request costs one map lookup, not label hashing and a status string. It
// holds exactly the series the histogram holds (never deleted), so it is bounded alike.
type routeObservers struct {
	mu sync.RWMutex
	m  map[routeKey]prometheus.Observer
}

func (r *routeObservers) get(vec *prometheus.HistogramVec, k routeKey) prometheus.Observer {
	r.mu.RLock()
	o, ok := r.m[k]
	r.mu.RUnlock()
	if ok {
		return o
	}
	o = vec.WithLabelValues(k.method, k.route, strconv.Itoa(k.code))
	r.mu.Lock()
	if r.m == nil {
		r.m = map[routeKey]prometheus.Observer{}
	}
	r.m[k] = o
	r.mu.Unlock()
	return o
}

// New registers every metric. waiting reports the long polls held by this process.
func New(cfg Config, src Source, waiting func() int, logger *slog.Logger) *Metrics {
	if cfg.OnlineWindow <= 0 {
		cfg.OnlineWindow = 2 * time.Minute
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	m := &Metrics{cfg: cfg, reg: prometheus.NewRegistry()}
	m.httpDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "http_request_duration_seconds",
		Help:    "HTTP requests served by this process, by method, route and status (long polls are held on purpose).",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}, []string{"method", "route", "code"})
	m.jobs = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "jobs_finished_total",
		Help: "Jobs that finished, by kind and status, counted by the replica whose health evaluation noticed them (sum over replicas)."},
		[]string{"kind", "status"})
	m.jobDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "job_duration_seconds",
		Help:    "Run time of finished jobs (start to finish), by kind and status.",
		Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400}}, []string{"kind", "status"})
	m.rounds = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "health_evaluations_total",
		Help: "Health evaluation rounds of this process: done, skipped (another replica held the lock) or failed."}, []string{"result"})
	m.roundDur = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "health_evaluation_duration_seconds",
		Help: "Duration of this process's health evaluation rounds.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 14)})
	m.alerts = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "alerts_transitions_total",
		Help: "Alerts opened, escalated and resolved by this process's evaluations, by condition."}, []string{"condition", "transition"})
	m.notes = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "notification_attempts_total",
		Help: "Notification delivery attempts of this process, by target (webhook, email, chat, ping) and outcome (delivered, retry, failed)."},
		[]string{"target", "outcome"})
	m.noteDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "notification_duration_seconds",
		Help: "Duration of notification delivery attempts, by target.", Buckets: prometheus.ExponentialBuckets(0.01, 2, 12)}, []string{"target"})
	build := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "build_info", Help: "The server's version.",
		ConstLabels: prometheus.Labels{"version": cfg.Version}})
	build.Set(1)
	polls := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "long_polls_held",
		Help: "Agent long polls this process holds now."}, func() float64 { return float64(waiting()) })
	m.reg.MustRegister(m.httpDur, m.jobs, m.jobDur, m.rounds, m.roundDur, m.alerts, m.notes, m.noteDur, build, polls,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&fleet{cfg: cfg, src: src, logger: logger})
	return m
}

// Registry exposes the registry (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Middleware times every request by its route pattern (never the raw path: ids would
// make the series unbounded).
func (m *Metrics) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		m.routes.get(m.httpDur, routeKey{c.Request.Method, route, c.Writer.Status()}).Observe(time.Since(start).Seconds())
	}
}

// Handler serves /metrics, checking the token when one is configured.
func (m *Metrics) Handler() gin.HandlerFunc {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	return func(c *gin.Context) {
		if m.cfg.Token != "" {
			got, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(m.cfg.Token)) != 1 {
				c.Header("WWW-Authenticate", `Bearer realm="metrics"`)
				c.AbortWithStatusJSON(http.StatusUnauthorized, protocol.Error{Code: protocol.CodeUnauthorized, Message: "missing or invalid metrics token"})
				return
			}
		}
		h.ServeHTTP(c.Writer, c.Request)
	}
}

// HealthRound records an evaluation round and the jobs it saw finish.
func (m *Metrics) HealthRound(out store.HealthOutcome, took time.Duration, err error) {
	switch {
	case err != nil:
		m.rounds.WithLabelValues("failed").Inc()
		return
	case out.Skipped:
		m.rounds.WithLabelValues("skipped").Inc()
		return
	}
	m.rounds.WithLabelValues("done").Inc()
	m.roundDur.Observe(took.Seconds())
	for _, a := range out.Opened {
		m.alerts.WithLabelValues(a.Condition, "opened").Inc()
	}
	for _, a := range out.Escalated {
		m.alerts.WithLabelValues(a.Condition, "escalated").Inc()
	}
	for _, a := range out.Resolved {
		m.alerts.WithLabelValues(a.Condition, "resolved").Inc()
	}
	for _, j := range out.Jobs {
		if !protocol.IsTerminal(j.Status) {
			continue
		}
		m.jobs.WithLabelValues(j.Kind, j.Status).Inc()
		if j.StartedAt != nil && j.FinishedAt != nil {
			m.jobDur.WithLabelValues(j.Kind, j.Status).Observe(j.DurationSeconds)
		}
	}
}

// NotificationAttempt records one delivery attempt.
func (m *Metrics) NotificationAttempt(target, outcome string, took time.Duration) {
	m.notes.WithLabelValues(target, outcome).Inc()
	m.noteDur.WithLabelValues(target).Observe(took.Seconds())
}

// fleet collects the database-derived metrics at scrape time, cached briefly.
type fleet struct {
	cfg    Config
	src    Source
	logger *slog.Logger

	mu     sync.Mutex
	at     time.Time
	cached []prometheus.Metric
}

var (
	descLastBackup  = prometheus.NewDesc(ns+"_host_last_backup_success_timestamp_seconds", "Unix time of the host's last successful (or warning) backup job.", []string{"host_id", "host"}, nil)
	descObjective   = prometheus.NewDesc(ns+"_host_backup_objective_seconds", "The host's backup objective: the longest its last successful backup may be ago.", []string{"host_id", "host"}, nil)
	descObjState    = prometheus.NewDesc(ns+"_host_objective_state", "1 for the host's current objective state (ok, at_risk, violated, none, unknown).", []string{"host_id", "host", "state"}, nil)
	descHostOnline  = prometheus.NewDesc(ns+"_host_online", "1 when the host's agent was seen recently.", []string{"host_id", "host"}, nil)
	descHosts       = prometheus.NewDesc(ns+"_hosts", "Hosts by status (online, offline, decommissioned).", []string{"status"}, nil)
	descAgents      = prometheus.NewDesc(ns+"_agents_online", "Agents seen recently.", nil, nil)
	descObjCounts   = prometheus.NewDesc(ns+"_hosts_by_objective_state", "Hosts that are not decommissioned, by objective state.", []string{"state"}, nil)
	descRepoSize    = prometheus.NewDesc(ns+"_repository_size_bytes", "Stored size of the repository (latest stats sample).", []string{"repository_id", "repository", "host_id", "host"}, nil)
	descRepoRestore = prometheus.NewDesc(ns+"_repository_restore_size_bytes", "Size of the repository's data when restored (latest stats sample).", []string{"repository_id", "repository", "host_id", "host"}, nil)
	descRepoSnaps   = prometheus.NewDesc(ns+"_repository_snapshots", "Snapshots in the repository (latest stats sample).", []string{"repository_id", "repository", "host_id", "host"}, nil)
	descRepoLocked  = prometheus.NewDesc(ns+"_repository_locked", "1 when the latest stats sample found a lock.", []string{"repository_id", "repository", "host_id", "host"}, nil)
	descRepoStatsAt = prometheus.NewDesc(ns+"_repository_stats_timestamp_seconds", "Unix time of the repository's latest stats sample.", []string{"repository_id", "repository", "host_id", "host"}, nil)
	descCommands    = prometheus.NewDesc(ns+"_commands_queued", "Commands not yet acknowledged by their agents.", nil, nil)
	descActiveJobs  = prometheus.NewDesc(ns+"_jobs_active", "Jobs queued or running, by kind and status.", []string{"kind", "status"}, nil)
	descOpenAlerts  = prometheus.NewDesc(ns+"_alerts_open", "Open alerts by condition and severity.", []string{"condition", "severity"}, nil)
	descScrapeOK    = prometheus.NewDesc(ns+"_fleet_metrics_up", "1 when the fleet metrics could be read from the database.", nil, nil)
)

// Describe sends nothing: the fleet collector is unchecked (its series come and go
// with hosts and repositories).
func (f *fleet) Describe(chan<- *prometheus.Desc) {}

// Collect sends the fleet metrics.
func (f *fleet) Collect(ch chan<- prometheus.Metric) {
	for _, m := range f.snapshot() {
		ch <- m
	}
}

func (f *fleet) snapshot() []prometheus.Metric {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if f.cached != nil && f.cfg.CacheTTL > 0 && now.Sub(f.at) < f.cfg.CacheTTL {
		return f.cached
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fm, err := f.src.FleetMetrics(ctx, f.cfg.Now().Add(-f.cfg.OnlineWindow))
	if err != nil {
		f.logger.Warn("metrics: fleet metrics not read", "err", err)
		return []prometheus.Metric{prometheus.MustNewConstMetric(descScrapeOK, prometheus.GaugeValue, 0)}
	}
	out := []prometheus.Metric{prometheus.MustNewConstMetric(descScrapeOK, prometheus.GaugeValue, 1)}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		out = append(out, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...))
	}
	states := map[string]int{}
	for _, s := range store.ObjectiveStates {
		states[s] = 0
	}
	for _, h := range fm.Hosts {
		if h.LastBackupAt != nil {
			gauge(descLastBackup, float64(h.LastBackupAt.UnixMilli())/1000, h.ID, h.Name)
		}
		if h.ObjectiveSeconds > 0 {
			gauge(descObjective, float64(h.ObjectiveSeconds), h.ID, h.Name)
		}
		gauge(descObjState, 1, h.ID, h.Name, h.ObjectiveState)
		gauge(descHostOnline, b2f(h.Online), h.ID, h.Name)
		states[h.ObjectiveState]++
	}
	for s, n := range states {
		gauge(descObjCounts, float64(n), s)
	}
	for _, r := range fm.Repositories {
		l := []string{r.ID, r.Name, r.HostID, r.HostName}
		gauge(descRepoSize, float64(r.TotalSize), l...)
		gauge(descRepoRestore, float64(r.RestoreSize), l...)
		gauge(descRepoSnaps, float64(r.SnapshotsCount), l...)
		gauge(descRepoLocked, b2f(r.Locked), l...)
		gauge(descRepoStatsAt, float64(r.At.UnixMilli())/1000, l...)
	}
	gauge(descHosts, float64(fm.HostCounts.Online), store.HostOnline)
	gauge(descHosts, float64(fm.HostCounts.Offline), store.HostOffline)
	gauge(descHosts, float64(fm.HostCounts.Decommissioned), store.HostDecommissioned)
	gauge(descAgents, float64(fm.HostCounts.Online))
	gauge(descCommands, float64(fm.CommandsQueued))
	for _, kind := range protocol.JobKinds {
		for _, st := range []string{protocol.JobQueued, protocol.JobRunning} {
			gauge(descActiveJobs, float64(fm.ActiveJobs[[2]string{kind, st}]), kind, st)
		}
	}
	for cond, bySev := range fm.OpenAlerts {
		for _, sev := range store.Severities {
			gauge(descOpenAlerts, float64(bySev[sev]), cond, sev)
		}
	}
	f.cached, f.at = out, now
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
