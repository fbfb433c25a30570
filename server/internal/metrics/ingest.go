package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/restic-manager/restic-manager/server/internal/ingest"
)

// IngestSource is the job-report writer of this process (implemented by *ingest.Writer).
type IngestSource interface {
	Stats() ingest.StatsSnapshot
	Queued() int
}

// RegisterIngest exports the ingest writer's counters: how many progress and log
// reports it stored, in how many groups (commits), and how many wait now.
func (m *Metrics) RegisterIngest(src IngestSource) {
	counter := func(name, help string, v func(ingest.StatsSnapshot) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Subsystem: "ingest", Name: name, Help: help},
			func() float64 { return v(src.Stats()) })
	}
	m.reg.MustRegister(
		counter("reports_total", "Job progress and log reports stored by this process.",
			func(s ingest.StatsSnapshot) float64 { return float64(s.Reports) }),
		counter("log_lines_total", "Log lines in the reports stored by this process (resent lines included).",
			func(s ingest.StatsSnapshot) float64 { return float64(s.Lines) }),
		counter("groups_total", "Groups of reports written, one statement and commit each on PostgreSQL (failed ones included).",
			func(s ingest.StatsSnapshot) float64 { return float64(s.Groups) }),
		counter("group_failures_total", "Groups the database refused (their reports are then retried one by one).",
			func(s ingest.StatsSnapshot) float64 { return float64(s.Failures) }),
		counter("write_seconds_total", "Time spent writing groups.",
			func(s ingest.StatsSnapshot) float64 { return s.FlushSeconds }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: "ingest", Name: "queued_reports",
			Help: "Reports waiting for a writer now."}, func() float64 { return float64(src.Queued()) }),
	)
}
