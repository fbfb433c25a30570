package main

import (
	"encoding/json"
	"os"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// maxSamples bounds the memory of one recorder; past it, samples are kept by
// reservoir-free decimation (every other one), which keeps percentiles honest enough.
const maxSamples = 2_000_000

// recorder keeps every latency sample of one kind of request while the simulator is
// measuring, plus counts over the whole run.
type recorder struct {
	mu      sync.Mutex
	samples []float64 // milliseconds, measured window only
	stride  int
	skip    int
	total   atomic.Int64 // whole run
	errors  atomic.Int64 // whole run
	mCount  atomic.Int64 // measured window
	mErrors atomic.Int64 // measured window
}

type recorders struct {
	mu sync.Mutex
	m  map[string]*recorder
	// measuring is set between the measure-start and measure-end marks.
	measuring atomic.Bool
}

func newRecorders() *recorders { return &recorders{m: map[string]*recorder{}} }

func (rs *recorders) get(name string) *recorder {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r := rs.m[name]
	if r == nil {
		r = &recorder{stride: 1}
		rs.m[name] = r
	}
	return r
}

// ok records a successful request's latency.
func (rs *recorders) ok(name string, d time.Duration) { rs.okAlways(name, d, false) }

// okAlways records d; with always it is kept even outside the measured window.
func (rs *recorders) okAlways(name string, d time.Duration, always bool) {
	r := rs.get(name)
	r.total.Add(1)
	if !always && !rs.measuring.Load() {
		return
	}
	r.mCount.Add(1)
	r.mu.Lock()
	r.skip++
	if r.skip >= r.stride {
		r.skip = 0
		r.samples = append(r.samples, float64(d)/float64(time.Millisecond))
		if len(r.samples) >= maxSamples {
			half := r.samples[:0]
			for i := 0; i < len(r.samples); i += 2 {
				half = append(half, r.samples[i])
			}
			r.samples = half
			r.stride *= 2
		}
	}
	r.mu.Unlock()
}

// fail records a failed request.
func (rs *recorders) fail(name string) {
	r := rs.get(name)
	r.total.Add(1)
	r.errors.Add(1)
	if rs.measuring.Load() {
		r.mCount.Add(1)
		r.mErrors.Add(1)
	}
}

// Summary is one recorder's numbers in the JSON report.
type Summary struct {
	Total        int64              `json:"total"`
	Errors       int64              `json:"errors"`
	Measured     int64              `json:"measured"`
	MeasuredErrs int64              `json:"measured_errors"`
	Percentiles  map[string]float64 `json:"ms,omitempty"` // p50 … max, mean (measured window)
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted)-1) + 0.5)
	return sorted[min(i, len(sorted)-1)]
}

func (r *recorder) summary() Summary {
	r.mu.Lock()
	s := slices.Clone(r.samples)
	r.mu.Unlock()
	sort.Float64s(s)
	out := Summary{Total: r.total.Load(), Errors: r.errors.Load(), Measured: r.mCount.Load(), MeasuredErrs: r.mErrors.Load()}
	if len(s) > 0 {
		var sum float64
		for _, v := range s {
			sum += v
		}
		out.Percentiles = map[string]float64{
			"p50": percentile(s, 0.50), "p90": percentile(s, 0.90), "p95": percentile(s, 0.95),
			"p99": percentile(s, 0.99), "p999": percentile(s, 0.999), "max": s[len(s)-1], "mean": sum / float64(len(s)),
		}
	}
	return out
}

// Report is what the simulator writes to -out.
type Report struct {
	Mode         string             `json:"mode"`
	Agents       int                `json:"agents"`
	Started      time.Time          `json:"started"`
	MeasureStart time.Time          `json:"measure_start"`
	MeasureEnd   time.Time          `json:"measure_end"`
	Requests     map[string]Summary `json:"requests"`
	Values       map[string]float64 `json:"values"`
	Timeline     []TimelinePoint    `json:"timeline,omitempty"`
	Notes        []string           `json:"notes,omitempty"`
}

// TimelinePoint samples a gauge once a second.
type TimelinePoint struct {
	T       float64 `json:"t"` // seconds since measure start
	Backlog int64   `json:"backlog_lines"`
	Running int64   `json:"running_jobs"`
}

func (rs *recorders) summaries() map[string]Summary {
	rs.mu.Lock()
	names := make([]string, 0, len(rs.m))
	for n := range rs.m {
		names = append(names, n)
	}
	rs.mu.Unlock()
	out := map[string]Summary{}
	for _, n := range names {
		out[n] = rs.get(n).summary()
	}
	return out
}

func writeJSON(path string, v any) error {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if path == "" || path == "-" {
		_, err = os.Stdout.Write(append(raw, '\n'))
		return err
	}
	return os.WriteFile(path, append(raw, '\n'), 0o644)
}
