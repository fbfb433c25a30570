package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// windowTable renders the server-side numbers of a measured window.
func windowTable(w window, names []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| measured over %.0f s | value |\n|---|---|\n", w.Seconds)
	for i, n := range names {
		if i < len(w.ServerCPU) {
			name := "server"
			if n != "" {
				name += " " + n
			}
			fmt.Fprintf(&b, "| %s CPU | %.2f %% of one core |\n", name, w.ServerCPU[i])
			fmt.Fprintf(&b, "| %s RSS at end / highest sample | %s / %s |\n", name, mib(w.ServerRSS[i]), mib(w.ServerMaxRSS[i]))
		}
	}
	fmt.Fprintf(&b, "| PostgreSQL transactions (pg_stat_database xact_commit+xact_rollback) | %.2f /s (%d in all) |\n", w.Xacts, w.XactsAbsolute)
	fmt.Fprintf(&b, "| rows inserted / updated / deleted | %.1f / %.1f / %.1f per s |\n", w.TupInserted, w.TupUpdated, w.TupDeleted)
	fmt.Fprintf(&b, "| rows fetched / returned | %.1f / %.1f per s |\n", w.TupFetched, w.TupReturned)
	fmt.Fprintf(&b, "| PostgreSQL backends of the benchmark database, CPU | %.2f %% of one core |\n", w.PGCPU)
	fmt.Fprintf(&b, "| fleetsim CPU | %.1f %% of one core |\n", w.SimCPU)
	other := w.MachineBusy*2 - w.PGCPU - w.SimCPU
	for _, c := range w.ServerCPU {
		other -= c
	}
	fmt.Fprintf(&b, "| whole machine busy | %.1f %% of 2 cores (everything else: %.0f %% of one core) |\n", w.MachineBusy, max(0, other))
	return b.String()
}

func reqTable(rep *simReport, names ...string) string {
	var b strings.Builder
	b.WriteString("| request | count (window) | errors | p50 ms | p90 ms | p99 ms | max ms |\n|---|---|---|---|---|---|---|\n")
	for _, n := range names {
		q, ok := rep.Requests[n]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %.2f | %.2f | %.2f | %.2f |\n", n, q.Measured, q.MeasuredErrs, q.Ms["p50"], q.Ms["p90"], q.Ms["p99"], q.Ms["max"])
	}
	return b.String()
}

func notes(rep *simReport) string {
	if rep == nil || len(rep.Notes) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\nSimulator notes:\n")
	for _, n := range rep.Notes[:min(len(rep.Notes), 10)] {
		fmt.Fprintf(&b, "- `%s`\n", n)
	}
	return b.String()
}

// statements renders the statements PostgreSQL logged in the window, and their rate.
func statements(sl *statementLog, w window) (string, float64, bool) {
	n, kinds, err := sl.count(w.From, w.To)
	if err != nil {
		return "", 0, false
	}
	var b strings.Builder
	rate := float64(n) / w.Seconds
	fmt.Fprintf(&b, "\nStatements PostgreSQL logged for the benchmark database in the window (`log_statement = 'all'` set on that database only): **%d, %.2f/s**.\n", n, rate)
	if len(kinds) > 0 {
		b.WriteString("\n| statement (first words) | count |\n|---|---|\n")
		keys := make([]string, 0, len(kinds))
		for k := range kinds {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, c string) int { return kinds[c] - kinds[a] })
		for _, k := range keys[:min(len(keys), 12)] {
			fmt.Fprintf(&b, "| `%s` | %d |\n", strings.ReplaceAll(k, "|", "\\|"), kinds[k])
		}
	}
	return b.String(), rate, true
}

// scenarioIdle: 10,000 agents long-polling.
func (r *runner) scenarioIdle(ctx context.Context, f *fleetDB) error {
	sl := r.startStatementLog(ctx, f.name)
	defer r.stopStatementLog(ctx, sl)
	srv, err := r.startServer(ctx, "idle", f.url)
	if err != nil {
		return err
	}
	defer srv.stop()
	hold, err := serverHold(ctx, srv.url, f.creds)
	if err != nil {
		return err
	}
	// Agents started over less than one hold would keep answering in a burst and then a
	// lull every hold (jitter spreads them only slowly): start them over one hold at
	// least, so that any window sees the steady rate.
	ramp := max(25*time.Second, hold)
	args := []string{"run", "-mode", "idle", "-creds", f.creds, "-urls", srv.url, "-ramp", r.dur(ramp.String()), "-settle", r.dur("10s"), "-measure", r.dur("60s")}
	w, rep, err := r.measured(ctx, f.name, []*server{srv}, args, nil, 4*time.Minute+ramp)
	if err != nil {
		return err
	}
	polls := rep.Requests["poll"]
	holdText := "the server's default"
	if r.pollHold > 0 {
		holdText = "set with `-poll-hold`"
	}
	body := fmt.Sprintf("%d agents long-poll one server (hold %.0f s, %s; the agents ask wait=%.0f as the real agent does). "+
		"Started evenly over %.0f s (hello, first poll with the schedule set, its acknowledgement; all of them done %.0f s after the first hello), "+
		"measured for %.0f s after 10 s of settling.\n\n",
		rep.Agents, hold.Seconds(), holdText, hold.Seconds()+5, ramp.Seconds(), rep.Values["startup_seconds"], w.Seconds)
	body += windowTable(w, []string{""})
	body += fmt.Sprintf("\nPolls answered in the window: %d (%.0f/s), errors %d; poll duration p50 %.0f ms (the hold).\n",
		polls.Measured, float64(polls.Measured)/w.Seconds, polls.MeasuredErrs, polls.Ms["p50"])
	st, rate, ok := statements(sl, w)
	body += st
	body += notes(rep)
	r.results = append(r.results, section{title: "1. Idle fleet", body: body})
	r.row("1 idle", "server CPU", "≤ 5 % of one core", fmt.Sprintf("%.2f %%", w.ServerCPU[0]), boolp(w.ServerCPU[0] <= 5))
	r.row("1 idle", "server RSS", "≤ 1 GiB", mib(w.ServerMaxRSS[0]), boolp(w.ServerMaxRSS[0] <= 1<<30))
	if ok {
		r.row("1 idle", "PostgreSQL statements", "≤ 1 /s", fmt.Sprintf("%.2f statements/s (%.2f transactions/s)", rate, w.Xacts), boolp(rate <= 1))
	} else {
		r.row("1 idle", "PostgreSQL statements", "≤ 1 /s", fmt.Sprintf("%.2f transactions/s", w.Xacts), boolp(w.Xacts <= 1))
	}
	r.idle = &w
	r.idleRep = rep
	return nil
}

// scenarioBaseline: the same fleet polling every 3 s without holding.
func (r *runner) scenarioBaseline(ctx context.Context, f *fleetDB) error {
	sl := r.startStatementLog(ctx, f.name)
	defer r.stopStatementLog(ctx, sl)
	srv, err := r.startServer(ctx, "baseline", f.url)
	if err != nil {
		return err
	}
	defer srv.stop()
	args := []string{"run", "-mode", "baseline", "-creds", f.creds, "-urls", srv.url, "-ramp", r.dur("25s"), "-settle", r.dur("25s"), "-measure", r.dur("40s"), "-baseline-interval", "3s"}
	w, rep, err := r.measured(ctx, f.name, []*server{srv}, args, nil, 4*time.Minute)
	if err != nil {
		return err
	}
	polls := rep.Requests["poll"]
	body := fmt.Sprintf("%d agents poll every 3 s without a hold (wait=5: the server holds at most wait−5 s, so it answers at once), "+
		"as GitLab Runner does by default. Started evenly over 25 s (hello, first poll with the schedule set, its acknowledgement; all of them done %.0f s after the first hello), measured for %.0f s after 25 s of settling (the per-statement table shows whether start-up work was still going on).\n\n", rep.Agents, rep.Values["startup_seconds"], w.Seconds)
	body += windowTable(w, []string{""})
	body += fmt.Sprintf("\nPolls answered in the window: %d (%.0f/s), errors %d; p50 %.2f ms, p99 %.2f ms.\n",
		polls.Measured, float64(polls.Measured)/w.Seconds, polls.MeasuredErrs, polls.Ms["p50"], polls.Ms["p99"])
	if r.idle != nil && r.idleRep != nil {
		ip := r.idleRep.Requests["poll"]
		body += fmt.Sprintf("\n| | long poll (scenario 1) | short poll every 3 s | ratio |\n|---|---|---|---|\n"+
			"| requests/s | %.0f | %.0f | %.1f× |\n| server CPU, %% of one core | %.2f | %.2f | %.1f× |\n"+
			"| PostgreSQL transactions/s | %.2f | %.2f | |\n| server RSS | %s | %s | |\n",
			float64(ip.Measured)/r.idle.Seconds, float64(polls.Measured)/w.Seconds, safeDiv(float64(polls.Measured)/w.Seconds, float64(ip.Measured)/r.idle.Seconds),
			r.idle.ServerCPU[0], w.ServerCPU[0], safeDiv(w.ServerCPU[0], r.idle.ServerCPU[0]),
			r.idle.Xacts, w.Xacts, mib(r.idle.ServerMaxRSS[0]), mib(w.ServerMaxRSS[0]))
	}
	st, _, _ := statements(sl, w)
	body += st
	body += notes(rep)
	r.results = append(r.results, section{title: "4. Baseline: short polling every 3 s", body: body})
	r.row("4 baseline", "requests/s, server CPU", "(comparison)", fmt.Sprintf("%.0f/s, %.1f %% of one core", float64(polls.Measured)/w.Seconds, w.ServerCPU[0]), nil)
	return nil
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// scenarioDispatch: run now → the agent holds the command, one and two replicas.
func (r *runner) scenarioDispatch(ctx context.Context, f *fleetDB) error {
	rate, count := 20, 600
	if r.quick {
		count = 150
	}
	for _, replicas := range []int{1, 2} {
		var servers []*server
		var urls []string
		for i := 0; i < replicas; i++ {
			s, err := r.startServer(ctx, fmt.Sprintf("dispatch%d-%d", replicas, i), f.url)
			if err != nil {
				for _, s := range servers {
					s.stop()
				}
				return err
			}
			servers = append(servers, s)
			urls = append(urls, s.url)
		}
		args := []string{"run", "-mode", "dispatch", "-creds", f.creds, "-urls", strings.Join(urls, ","), "-ramp", r.dur("25s"), "-settle", r.dur("8s"), "-measure", r.dur("35s")}
		hooks := map[string]func(){}
		via := ""
		if f.opToken != "" {
			args = append(args, "-operator-token", f.opToken, "-repos", f.repos, "-dispatch-rate", strconv.Itoa(rate), "-dispatch-count", strconv.Itoa(count))
			via = "through the operator API (`POST /api/v1/hosts/{id}/jobs`) on replica 0"
		} else {
			hooks["measure-start"] = func() {
				if err := r.driver(ctx, f.url, "dispatch", map[string]string{"REPOS": f.repos, "COUNT": strconv.Itoa(count), "RATE": strconv.Itoa(rate)}); err != nil {
					r.logf("driver: %v", err)
				}
			}
			via = "by a stand-in operator process (TestFleetsimDriver: the server's store and dispatcher, waking the replicas through PostgreSQL NOTIFY)"
		}
		w, rep, err := r.measured(ctx, f.name, servers, args, hooks, 4*time.Minute)
		for _, s := range servers {
			s.stop()
		}
		if err != nil {
			return err
		}
		names := []string{""}
		if replicas == 2 {
			names = []string{"0", "1"}
		}
		body := fmt.Sprintf("%d agents long-polling %d replica(s) on one PostgreSQL; %d run-now requests at %d/s to distinct hosts, %s. "+
			"`api_to_agent` runs from just before the operator's request is sent to the moment the agent has read the poll answer holding the command; "+
			"`created_to_agent` from the command's created_at (set by the server as it starts the transaction) to the same moment.\n\n",
			rep.Agents, replicas, count, rate, via)
		lat := []string{"dispatch.api_to_agent", "dispatch.created_to_agent", "dispatch.api_call"}
		if replicas == 2 {
			lat = append(lat, "dispatch.api_to_agent.replica0", "dispatch.api_to_agent.replica1", "dispatch.created_to_agent.replica0", "dispatch.created_to_agent.replica1")
		}
		body += reqTable(rep, lat...) + "\n"
		body += windowTable(w, names)
		body += notes(rep)
		title := "2a. Dispatch latency, one server"
		if replicas == 2 {
			title = "2b. Dispatch latency, two replicas on one PostgreSQL"
		}
		r.results = append(r.results, section{title: title, body: body})
		key := "dispatch.api_to_agent"
		if _, ok := rep.Requests[key]; !ok {
			key = "dispatch.created_to_agent"
		}
		got := rep.Requests[key]
		label := fmt.Sprintf("2 dispatch, %d replica(s)", replicas)
		r.row(label, "p50 ("+strings.TrimPrefix(key, "dispatch.")+")", "≤ 20 ms", fmt.Sprintf("%.1f ms (n=%d)", got.Ms["p50"], got.Measured), boolp(got.Ms["p50"] <= 20 && got.Measured > 0))
		r.row(label, "p99", "≤ 100 ms", fmt.Sprintf("%.1f ms", got.Ms["p99"]), boolp(got.Ms["p99"] <= 100 && got.Measured > 0))
	}
	return nil
}

// scenarioIngest: 1,000 concurrent jobs reporting progress every second and 50 log lines
// a second, then a burst of the largest log batches.
func (r *runner) scenarioIngest(ctx context.Context, logRate int, burst bool) error {
	f, err := r.prepareFleet(ctx, r.ingestJobs, "ingest")
	if err != nil {
		return err
	}
	srv, err := r.startServer(ctx, "ingest", f.url)
	if err != nil {
		return err
	}
	defer srv.stop()
	measure := r.dur("45s")
	burstFor := r.dur("10s")
	if !burst {
		measure, burstFor = r.dur("40s"), "0s"
	}
	args := []string{"run", "-mode", "ingest", "-creds", f.creds, "-urls", srv.url, "-ramp", r.dur("10s"), "-settle", r.dur("3s"), "-measure", measure,
		"-ingest-jobs", strconv.Itoa(r.ingestJobs), "-log-rate", strconv.Itoa(logRate), "-burst", burstFor, "-burst-workers", "8", "-burst-batch", "5000"}
	hooks := map[string]func(){}
	if f.opToken != "" {
		args = append(args, "-operator-token", f.opToken, "-repos", f.repos)
	} else {
		hooks["ramped"] = func() {
			if err := r.driver(ctx, f.url, "all", map[string]string{"REPOS": f.repos, "COUNT": strconv.Itoa(r.ingestJobs), "KIND": "backup"}); err != nil {
				r.logf("driver: %v", err)
			}
		}
	}
	w, rep, err := r.measured(ctx, f.name, []*server{srv}, args, hooks, 6*time.Minute)
	if err != nil {
		return err
	}
	body := fmt.Sprintf("%.0f jobs running at once on %d agents, each reporting progress every second and %d log lines a second in batches every 2 s "+
		"(the server's pacing); lines of %d bytes. The jobs' reports start together once every job has started; measured for %.0f s from 5 s later.\n\n",
		rep.Values["jobs_running_at_start"], rep.Agents, logRate, 100, w.Seconds)
	body += reqTable(rep, "progress", "logs", "progress.lag", "logs.lag", "poll.with_news") + "\n"
	body += windowTable(w, []string{""})
	var first, last []int64
	for _, p := range rep.Timeline {
		switch {
		case p.T >= 0 && p.T < w.Seconds/6:
			first = append(first, p.Backlog)
		case p.T >= w.Seconds*5/6 && p.T < w.Seconds:
			last = append(last, p.Backlog)
		}
	}
	avg := func(v []int64) float64 {
		if len(v) == 0 {
			return 0
		}
		return float64(sumInts(v)) / float64(len(v))
	}
	missed := rep.Requests["progress.missed_tick"].Measured + rep.Requests["logs.missed_tick"].Measured
	body += fmt.Sprintf("\nBacklog (lines produced by the simulated restic runs and not yet accepted by the server): %.0f on average in the first sixth, %.0f in the last sixth of the window; %d report ticks missed because the previous report was still in flight.\n",
		avg(first), avg(last), missed)
	body += fmt.Sprintf("Offered load %d lines/s; PostgreSQL inserted %.0f rows/s in the window.\n", logRate*r.ingestJobs, w.TupInserted)
	title := "3. Ingest"
	label := "3 ingest"
	if !burst {
		title = fmt.Sprintf("3b. Ingest at %d log lines a second per job", logRate)
		label = fmt.Sprintf("3b ingest, %d lines/s per job", logRate)
		body += notes(rep)
		r.results = append(r.results, section{title: title, body: body})
		p99 := max(rep.ms("progress", "p99"), rep.ms("logs", "p99"))
		r.row(label, "p99 request latency (progress, logs)", "≤ 50 ms", fmt.Sprintf("%.1f / %.1f ms", rep.ms("progress", "p99"), rep.ms("logs", "p99")), boolp(p99 <= 50))
		return nil
	}
	bl := rep.Values["burst_lines_per_second"]
	body += fmt.Sprintf("\n**Peak log ingest**: 8 senders posting batches of 5,000 lines (the protocol's largest), nothing else running: %.0f lines in %.1f s = **%.0f lines/s**.\n\n",
		rep.Values["burst_lines"], rep.Values["burst_seconds"], bl)
	body += reqTable(rep, "burst.logs") + "\n"
	body += "After the window every job finished and reported its repository's snapshots (30) and stats, all at once:\n\n"
	body += reqTable(rep, "final.finish", "final.snapshots", "final.stats")
	body += notes(rep)
	r.results = append(r.results, section{title: title, body: body})
	p99 := max(rep.ms("progress", "p99"), rep.ms("logs", "p99"))
	r.row(label, "p99 request latency (progress, logs)", "≤ 50 ms", fmt.Sprintf("%.1f / %.1f ms", rep.ms("progress", "p99"), rep.ms("logs", "p99")), boolp(p99 <= 50))
	growing := avg(last) > 2*avg(first)+1000
	r.row(label, "backlog", "not growing", fmt.Sprintf("%.0f → %.0f lines", avg(first), avg(last)), boolp(!growing && missed == 0))
	r.row(label, "peak log ingest", "≥ 100,000 lines/s", fmt.Sprintf("%.0f lines/s", bl), boolp(bl >= 100_000))
	return nil
}

// scenarioHistory: host list page and dashboard summary on 10,000 hosts × 100 jobs.
func (r *runner) scenarioHistory(ctx context.Context) error {
	name, dbURL, err := r.createDB(ctx, "history")
	if err != nil {
		return err
	}
	srv, err := r.startServer(ctx, "history", dbURL) // migrates
	if err != nil {
		return err
	}
	defer srv.stop()
	took, err := r.seedLargeHistory(ctx, dbURL, r.histHosts, r.histJobs)
	if err != nil {
		return err
	}
	r.logf("seeded %d hosts × %d jobs in %s", r.histHosts, r.histJobs, took.Round(time.Millisecond))
	tok, err := r.operatorToken(ctx, srv.url)
	if err != nil {
		r.results = append(r.results, section{title: "6. Large history", body: "Operator API unavailable (`" + err.Error() + "`); see the store benchmark BenchmarkLargeHistory.\n"})
		return nil
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	get := func(path string) ([]byte, time.Duration, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		t0 := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			return nil, 0, err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(t0)
		if resp.StatusCode != http.StatusOK {
			return nil, d, fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, tail(string(b), 300))
		}
		return b, d, err
	}
	// A cursor in the middle of the host list.
	deep := ""
	for i := 0; i < r.histHosts/50/2; i++ {
		b, _, err := get("/api/v1/hosts?limit=50" + cursorParam(deep))
		if err != nil {
			return err
		}
		var page struct {
			NextCursor string `json:"next_cursor"`
		}
		_ = json.Unmarshal(b, &page)
		if page.NextCursor == "" {
			break
		}
		deep = page.NextCursor
	}
	cases := []struct{ name, path string }{
		{"host list, first page (50, by name)", "/api/v1/hosts?limit=50"},
		{"host list, page in the middle", "/api/v1/hosts?limit=50" + cursorParam(deep)},
		{"host list by last seen, newest first", "/api/v1/hosts?limit=50&sort=last_seen&order=desc"},
		{"host list, offline only", "/api/v1/hosts?limit=50&status=offline"},
		{"host list, search", "/api/v1/hosts?limit=50&q=host-0042"},
		{"host list, label filter", "/api/v1/hosts?limit=50&label=env%3Dprod"},
		{"dashboard summary (/hosts/summary)", "/api/v1/hosts/summary"},
		{"job list, first page", "/api/v1/jobs?limit=50"},
		{"job list, failed only", "/api/v1/jobs?limit=50&status=failed"},
	}
	const iters = 200
	var b strings.Builder
	fmt.Fprintf(&b, "%d hosts with %d finished jobs each (%d jobs), inserted with SQL (`seedJobsSQL` in scripts/bench/pg.go) and ANALYZEd; "+
		"each request sent %d times in a row over loopback with an operator API token (seeding took %s).\n\n",
		r.histHosts, r.histJobs, r.histHosts*r.histJobs, iters, took.Round(time.Second))
	b.WriteString("| request | p50 ms | p95 ms | p99 ms | max ms |\n|---|---|---|---|---|\n")
	for _, c := range cases {
		var d []float64
		for i := 0; i < iters && ctx.Err() == nil; i++ {
			_, took, err := get(c.path)
			if err != nil {
				fmt.Fprintf(&b, "| %s | failed: `%s` | | | |\n", c.name, tail(err.Error(), 200))
				d = nil
				break
			}
			d = append(d, float64(took.Microseconds())/1000)
		}
		if len(d) == 0 {
			continue
		}
		slices.Sort(d)
		p := func(q float64) float64 { return d[min(len(d)-1, int(q*float64(len(d)-1)+0.5))] }
		fmt.Fprintf(&b, "| %s | %.2f | %.2f | %.2f | %.2f |\n", c.name, p(0.5), p(0.95), p(0.99), d[len(d)-1])
		switch c.path {
		case "/api/v1/hosts?limit=50":
			r.row("6 history", "host list page p95", "≤ 50 ms", fmt.Sprintf("%.2f ms", p(0.95)), boolp(p(0.95) <= 50))
		case "/api/v1/hosts/summary":
			r.row("6 history", "dashboard summary p95", "≤ 50 ms", fmt.Sprintf("%.2f ms", p(0.95)), boolp(p(0.95) <= 50))
		}
	}
	_ = name
	r.results = append(r.results, section{title: "6. Large history", body: b.String()})
	return nil
}

func cursorParam(c string) string {
	if c == "" {
		return ""
	}
	return "&cursor=" + url.QueryEscape(c)
}

// serverHold asks the server for its poll hold as an agent learns it: from the pacing
// of a hello (with the first credential of the fleet).
func serverHold(ctx context.Context, base, credsPath string) (time.Duration, error) {
	raw, err := os.ReadFile(credsPath)
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	var cred struct {
		Credential string `json:"credential"`
		Hostname   string `json:"hostname"`
	}
	if err := json.Unmarshal([]byte(line), &cred); err != nil {
		return 0, fmt.Errorf("%s: %w", credsPath, err)
	}
	body, _ := json.Marshal(protocol.HelloRequest{ProtocolVersion: protocol.Version, MinProtocolVersion: protocol.MinVersion,
		Hostname: cred.Hostname, OS: "linux", Arch: "amd64", AgentVersion: "fleetsim", ResticVersion: "0.18.0"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+protocol.PathHello, strings.NewReader(string(body)))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+cred.Credential)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var hr protocol.HelloResponse
	if err := json.NewDecoder(resp.Body).Decode(&hr); err != nil || resp.StatusCode != http.StatusOK || hr.Pacing.PollHoldSeconds <= 0 {
		return 0, fmt.Errorf("hello for the poll hold: status %d, %v, pacing %+v", resp.StatusCode, err, hr.Pacing)
	}
	return time.Duration(hr.Pacing.PollHoldSeconds) * time.Second, nil
}
