package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

const (
	beginMarker = "<!-- bench:results:begin (written by scripts/bench; edit outside the markers) -->"
	endMarker   = "<!-- bench:results:end -->"
)

func machine() string {
	var b strings.Builder
	cpu := "unknown CPU"
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if raw, err := os.ReadFile("/proc/meminfo"); err == nil {
		line, _, _ := strings.Cut(string(raw), "\n")
		var kb int64
		fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "MemTotal:")), "%d", &kb)
		mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
	}
	kernel, _ := exec.Command("uname", "-r").Output()
	fmt.Fprintf(&b, "%d × %s, %s RAM, Linux %s, %s", runtime.NumCPU(), cpu, mem, strings.TrimSpace(string(kernel)), runtime.Version())
	return b.String()
}

func (r *runner) render(took time.Duration, command string, scenarios []string) string {
	var b strings.Builder
	b.WriteString(beginMarker + "\n\n")
	pgVersion := ""
	_ = r.admin.QueryRow(nilCtx(), "SHOW server_version").Scan(&pgVersion)
	fmt.Fprintf(&b, "## Results\n\n- **Date**: %s\n- **Machine**: %s; PostgreSQL %s on the same machine; server, PostgreSQL and simulator share the 2 cores\n- **Command**: `%s` (scenarios %s; took %s)\n- **Run now** came %s\n- **Statements**: PostgreSQL transactions from `pg_stat_database` (`xact_commit + xact_rollback`) of the benchmark database: `pg_stat_statements` is not loaded on this server (it needs `shared_preload_libraries`). Each statement outside an explicit transaction is one transaction; an explicit transaction counts once.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), machine(), pgVersion, command, strings.Join(scenarios, ","), took.Round(time.Second),
		map[string]string{"operator API": "through the operator API over HTTP", "store driver": "from a stand-in operator process (no operator API in the server binary)", "": "(not used)"}[r.opMode])
	b.WriteString("### Summary\n\n| scenario | metric | target | measured | |\n|---|---|---|---|---|\n")
	for _, row := range r.summary {
		verdict := ""
		if row.ok != nil {
			verdict = "✅"
			if !*row.ok {
				verdict = "❌"
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", row.scenario, row.metric, row.target, row.measured, verdict)
	}
	for _, s := range r.results {
		fmt.Fprintf(&b, "\n### %s\n\n%s", s.title, s.body)
	}
	b.WriteString("\n" + endMarker + "\n")
	return b.String()
}

// writeResults replaces the results between the markers of path (creating the file
// with a short head when it does not exist).
func writeResults(path, results string) error {
	old, err := os.ReadFile(path)
	doc := string(old)
	switch {
	case err != nil && !os.IsNotExist(err):
		return err
	case err != nil || !strings.Contains(doc, beginMarker):
		if doc == "" {
			doc = "# Benchmarks\n\n"
		}
		doc = strings.TrimRight(doc, "\n") + "\n\n" + results
	default:
		i := strings.Index(doc, beginMarker)
		j := strings.Index(doc, endMarker)
		if j < i {
			return fmt.Errorf("%s: results markers out of order", path)
		}
		doc = doc[:i] + strings.TrimSuffix(results, "\n") + doc[j+len(endMarker):]
	}
	return os.WriteFile(path, []byte(doc), 0o644)
}

func nilCtx() context.Context { return context.Background() }
