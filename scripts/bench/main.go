// Command bench runs the fleet benchmarks of docs/benchmarks.md: it starts the server
// binary on fresh PostgreSQL databases, drives it with scripts/fleetsim, samples the
// server's CPU and RSS from /proc and PostgreSQL's counters from pg_stat_database, and
// writes the results into docs/benchmarks.md (between the results markers).
//
// Run it through scripts/bench/run.sh, which builds the binaries and raises the file
// descriptor limit:
//
//	bash scripts/bench/run.sh                 # every scenario (about 12 minutes)
//	bash scripts/bench/run.sh -scenarios 1,2  # some of them
//
// Only loopback addresses are used; every loop is bounded in count and time.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	// secretKey is a fixed benchmark key (32 bytes of base64); nothing secret is stored.
	secretKey     = "YmVuY2htYXJrLWtleS0wMTIzNDU2Nzg5YWJjZGVmMDE="
	adminEmail    = "bench@example.com"
	adminPassword = "bench-password-0123456789"
)

type runner struct {
	work       string
	serverBin  string
	simBin     string
	driverBin  string // agentapi test binary with TestFleetsimDriver
	agentBin   string
	adminURL   string
	agents     int
	ingestJobs int
	histHosts  int
	histJobs   int
	keep       bool
	quick      bool
	pgLog      string
	useDriver  bool
	pollHold   time.Duration // RM_POLL_HOLD of every server started; 0: the server's default
	admin      *pgxpool.Pool
	dbs        []string
	log        io.Writer
	results    []section
	summary    []summaryRow
	opMode     string // "operator API" or "store driver"
	idle       *window
	idleRep    *simReport
}

type section struct {
	title string
	body  string
}

type summaryRow struct {
	scenario, metric, target, measured string
	ok                                 *bool
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.log, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	r := &runner{log: os.Stderr}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	scen := fs.String("scenarios", "1,4,2,3,3b,6,5", "scenarios to run, in this order (3b: scenario 3 at 10 log lines/s per job)")
	fs.StringVar(&r.work, "work", "", "work directory (binaries, logs); required")
	fs.StringVar(&r.serverBin, "server", "", "server binary")
	fs.StringVar(&r.simBin, "fleetsim", "", "fleetsim binary")
	fs.StringVar(&r.driverBin, "driver", "", "agentapi test binary (for TestFleetsimDriver)")
	fs.StringVar(&r.agentBin, "agent", "", "agent binary (scenario 5)")
	fs.StringVar(&r.adminURL, "pg", envOr("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "PostgreSQL server URL (a database of it to connect to as a superuser)")
	fs.IntVar(&r.agents, "agents", 10_000, "fleet size of scenarios 1, 2 and 4")
	fs.IntVar(&r.ingestJobs, "ingest-jobs", 1000, "concurrent jobs of scenario 3")
	fs.IntVar(&r.histHosts, "history-hosts", 10_000, "hosts of scenario 6")
	fs.IntVar(&r.histJobs, "history-jobs", 100, "jobs per host of scenario 6")
	fs.BoolVar(&r.keep, "keep", false, "keep the benchmark databases")
	fs.BoolVar(&r.useDriver, "use-driver", false, "create repositories and run-now jobs with the store driver even when the operator API is there")
	fs.DurationVar(&r.pollHold, "poll-hold", 0, "the servers' poll hold (RM_POLL_HOLD), e.g. 25s to compare with older runs; 0: the server's default")
	fs.BoolVar(&r.quick, "quick", false, "a quarter of every duration (a smoke run of the runner itself; numbers are not comparable)")
	fs.StringVar(&r.pgLog, "pg-log", "/var/log/postgresql/postgresql-15-main.log", "PostgreSQL's log file, to count the statements of scenarios 1 and 4 exactly (empty: transactions only)")
	out := fs.String("out", "docs/benchmarks.md", "document to write the results into")
	command := fs.String("command", "bash scripts/bench/run.sh", "the command line to record in the document")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	if r.work == "" || r.serverBin == "" || r.simBin == "" {
		return errors.New("-work, -server and -fleetsim are required (use scripts/bench/run.sh)")
	}
	if err := r.openAdmin(ctx); err != nil {
		return err
	}
	defer r.admin.Close()
	defer r.dropDBs()

	started := time.Now()
	list := strings.Split(*scen, ",")
	var fleet *fleetDB
	for _, s := range list {
		if ctx.Err() != nil {
			break
		}
		s = strings.TrimSpace(s)
		r.logf("=== scenario %s", s)
		var err error
		switch s {
		case "1", "2", "4":
			if fleet == nil {
				if fleet, err = r.prepareFleet(ctx, r.agents, "fleet"); err != nil {
					return fmt.Errorf("fleet: %w", err)
				}
			}
			switch s {
			case "1":
				err = r.scenarioIdle(ctx, fleet)
			case "4":
				err = r.scenarioBaseline(ctx, fleet)
			case "2":
				err = r.scenarioDispatch(ctx, fleet)
			}
		case "3":
			err = r.scenarioIngest(ctx, 50, true)
		case "3b":
			err = r.scenarioIngest(ctx, 10, false)
		case "5":
			err = r.scenarioAgent(ctx)
		case "6":
			err = r.scenarioHistory(ctx)
		default:
			err = fmt.Errorf("unknown scenario %q", s)
		}
		if err != nil {
			r.logf("scenario %s failed: %v", s, err)
			r.results = append(r.results, section{title: "Scenario " + s, body: "**Failed:** `" + err.Error() + "`\n"})
		}
	}
	if fleet != nil {
		fleet.close()
	}
	doc := r.render(time.Since(started), *command, list)
	return writeResults(*out, doc)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// fleetDB is an enrolled fleet shared by scenarios 1, 2 and 4.
type fleetDB struct {
	name, url string
	creds     string
	repos     string
	opToken   string // operator API token, or "" when the driver creates commands
	r         *runner
}

func (f *fleetDB) close() {}

// prepareFleet creates a database, enrols n hosts through the real enroll endpoint and
// gives the first min(n, 1000) of them a repository.
func (r *runner) prepareFleet(ctx context.Context, n int, label string) (*fleetDB, error) {
	name, dbURL, err := r.createDB(ctx, label)
	if err != nil {
		return nil, err
	}
	f := &fleetDB{name: name, url: dbURL, r: r, creds: filepath.Join(r.work, label+"-creds.jsonl"), repos: filepath.Join(r.work, label+"-repos.jsonl")}
	srv, err := r.startServer(ctx, label+"-setup", dbURL)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	tok, err := r.enrollToken(ctx, dbURL, n)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if out, err := exec.CommandContext(ctx, r.simBin, "enroll", "-url", srv.url, "-token", tok, "-n", strconv.Itoa(n), "-out", f.creds).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("fleetsim enroll: %v: %s", err, out)
	}
	r.logf("enrolled %d hosts in %s", n, time.Since(t0).Round(time.Millisecond))
	k := min(n, 1000)
	if !r.useDriver {
		f.opToken, err = r.operatorToken(ctx, srv.url)
		if err != nil {
			r.logf("operator API unavailable (%v): using the store driver", err)
		}
	}
	t0 = time.Now()
	if f.opToken != "" {
		r.opMode = "operator API"
		out, err := exec.CommandContext(ctx, r.simBin, "repos", "-operator-url", srv.url, "-operator-token", f.opToken,
			"-creds", f.creds, "-n", strconv.Itoa(k), "-out", f.repos).CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("fleetsim repos: %v: %s", err, out)
		}
	} else {
		r.opMode = "store driver"
		if err := r.driver(ctx, dbURL, "repos", map[string]string{"CREDS": f.creds, "REPOS": f.repos, "COUNT": strconv.Itoa(k)}); err != nil {
			return nil, err
		}
	}
	r.logf("created %d repositories in %s (%s)", k, time.Since(t0).Round(time.Millisecond), r.opMode)
	return f, nil
}

func (r *runner) enrollToken(ctx context.Context, dbURL string, uses int) (string, error) {
	cmd := exec.CommandContext(ctx, r.serverBin, "enroll-token", "-uses", strconv.Itoa(uses), "-ttl", "6h", "-data-dir", filepath.Join(r.work, "enroll"))
	cmd.Env = append(os.Environ(), "RM_DATABASE_URL="+dbURL, "RM_SECRET_KEY="+secretKey, "RM_LOG_LEVEL=error")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("server enroll-token: %v: %s", err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

// operatorToken logs in as the benchmark admin (created by the server from
// RM_ADMIN_EMAIL/RM_ADMIN_PASSWORD) and creates an API token.
func (r *runner) operatorToken(ctx context.Context, base string) (string, error) {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	post := func(path string, body any, hdr map[string]string, out any) error {
		raw, _ := json.Marshal(body)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(string(raw)))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, strings.TrimSpace(string(b)))
		}
		return json.Unmarshal(b, out)
	}
	var login struct {
		CSRFToken string `json:"csrf_token"`
	}
	if err := post("/api/v1/auth/login", map[string]string{"email": adminEmail, "password": adminPassword}, nil, &login); err != nil {
		return "", err
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := post("/api/v1/api-tokens", map[string]string{"name": "bench", "role": "admin"}, map[string]string{"X-CSRF-Token": login.CSRFToken}, &tok); err != nil {
		return "", err
	}
	if tok.Token == "" {
		return "", errors.New("no token in the answer")
	}
	return tok.Token, nil
}

// driver runs TestFleetsimDriver (server/internal/agentapi) for one phase.
func (r *runner) driver(ctx context.Context, dbURL, phase string, env map[string]string) error {
	if r.driverBin == "" {
		return errors.New("no operator API and no -driver binary")
	}
	cmd := exec.CommandContext(ctx, r.driverBin, "-test.run", "^TestFleetsimDriver$", "-test.count", "1", "-test.v", "-test.timeout", "6m")
	cmd.Env = append(os.Environ(), "RM_FLEETSIM_DRIVER_DB="+dbURL, "RM_FLEETSIM_DRIVER_SECRET_KEY="+secretKey, "RM_FLEETSIM_DRIVER_PHASE="+phase)
	for k, v := range env {
		cmd.Env = append(cmd.Env, "RM_FLEETSIM_DRIVER_"+k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("driver %s: %v: %s", phase, err, tail(string(out), 2000))
	}
	return nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// simReport is fleetsim's JSON report.
type simReport struct {
	Agents   int `json:"agents"`
	Requests map[string]struct {
		Total        int64              `json:"total"`
		Errors       int64              `json:"errors"`
		Measured     int64              `json:"measured"`
		MeasuredErrs int64              `json:"measured_errors"`
		Ms           map[string]float64 `json:"ms"`
	} `json:"requests"`
	Values   map[string]float64 `json:"values"`
	Timeline []struct {
		T       float64 `json:"t"`
		Backlog int64   `json:"backlog_lines"`
		Running int64   `json:"running_jobs"`
	} `json:"timeline"`
	Notes []string `json:"notes"`
}

func (s *simReport) ms(name, p string) float64 { return s.Requests[name].Ms[p] }

func readSimReport(path string) (*simReport, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rep simReport
	return &rep, json.Unmarshal(raw, &rep)
}

// measured runs fleetsim with args and samples the servers between the measure-start
// and measure-end marks. onMark, when not nil, is called for every mark name listed in
// hooks as it arrives (in order).
func (r *runner) measured(ctx context.Context, db string, servers []*server, args []string, hooks map[string]func(), limit time.Duration) (window, *simReport, error) {
	reportPath := filepath.Join(r.work, fmt.Sprintf("sim-%d.json", time.Now().UnixNano()))
	args = append(args, "-out", reportPath)
	p, err := r.startSim(args...)
	if err != nil {
		return window{}, nil, err
	}
	defer p.kill()
	smp := r.newSampler(db, p, servers...)
	defer smp.close()
	order := []string{"ramped", "measure-start"}
	if h := hooks["ramped"]; h != nil {
		if _, err := p.waitMark("ramped", limit); err != nil {
			return window{}, nil, err
		}
		go h()
		order = order[1:]
	}
	for _, m := range order {
		if _, err := p.waitMark(m, limit); err != nil {
			return window{}, nil, err
		}
		if h := hooks[m]; h != nil {
			go h()
		}
	}
	a := smp.snap(ctx)
	if _, err := p.waitMark("measure-end", limit); err != nil {
		return window{}, nil, err
	}
	b := smp.snap(ctx)
	w := smp.window(a, b)
	if err := p.wait(limit); err != nil {
		return w, nil, fmt.Errorf("fleetsim: %w", err)
	}
	rep, err := readSimReport(reportPath)
	return w, rep, err
}

func boolp(b bool) *bool { return &b }

func (r *runner) row(scenario, metric, target, measured string, ok *bool) {
	r.summary = append(r.summary, summaryRow{scenario: scenario, metric: metric, target: target, measured: measured, ok: ok})
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func sumInts(v []int64) int64 {
	var s int64
	for _, x := range v {
		s += x
	}
	return s
}

func maxFloat(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return slices.Max(v)
}

// dur scales a duration flag value for -quick runs.
func (r *runner) dur(s string) string {
	if !r.quick {
		return s
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return s
	}
	return max(d/4, time.Second).String()
}
