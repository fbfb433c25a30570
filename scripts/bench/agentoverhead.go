package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Scenario 5: the same backup with restic alone and through the agent, interleaved.

const (
	datasetFiles = 20_000
	datasetBytes = 2 << 30
	repoPassword = "bench-repo-password"
)

// makeDataset writes 20,000 files of incompressible data, 2 GiB in all, in 100
// folders (sizes vary from about 1 KiB to about 200 KiB around the mean).
func makeDataset(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return nil
	}
	cc := rand.NewChaCha8([32]byte{1, 2, 3})
	rng := rand.New(cc)
	mean := datasetBytes / datasetFiles
	buf := make([]byte, 2*mean)
	var written int64
	for i := 0; i < datasetFiles; i++ {
		sub := filepath.Join(dir, fmt.Sprintf("d%03d", i%100))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return err
		}
		size := 1024 + rng.IntN(2*mean-2048)
		if i == datasetFiles-1 {
			size = int(max(1024, min(int64(len(buf)), datasetBytes-written)))
		}
		_, _ = cc.Read(buf[:size])
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%05d.bin", i)), buf[:size], 0o644); err != nil {
			return err
		}
		written += int64(size)
	}
	return os.WriteFile(filepath.Join(dir, ".complete"), nil, 0o644)
}

type opClient struct {
	base, token string
	hc          *http.Client
}

func (o *opClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = strings.NewReader(string(raw))
	}
	req, err := http.NewRequestWithContext(ctx, method, o.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+o.token)
	resp, err := o.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, tail(string(raw), 300))
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

type jobView struct {
	ID         string     `json:"id"`
	Status     string     `json:"status"`
	Error      string     `json:"error"`
	StartedAt  *time.Time `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
}

// runJob starts a job through the operator API and waits for its end. It returns the
// job and the time from the request to the moment its end was seen (polled every 20 ms).
func (o *opClient) runJob(ctx context.Context, hostID, repoID, kind string, paths []string) (jobView, time.Duration, error) {
	body := map[string]any{"kind": kind, "repository_id": repoID}
	if len(paths) > 0 {
		body["paths"] = paths
	}
	t0 := time.Now()
	var j jobView
	if err := o.do(ctx, http.MethodPost, "/api/v1/hosts/"+hostID+"/jobs", body, &j); err != nil {
		return j, 0, err
	}
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
		if err := o.do(ctx, http.MethodGet, "/api/v1/jobs/"+j.ID, nil, &j); err != nil {
			return j, 0, err
		}
		switch j.Status {
		case "succeeded", "warning":
			return j, time.Since(t0), nil
		case "failed", "cancelled":
			return j, time.Since(t0), fmt.Errorf("job %s %s: %s", kind, j.Status, j.Error)
		}
	}
	return j, 0, fmt.Errorf("job %s did not finish in time", kind)
}

func (r *runner) scenarioAgent(ctx context.Context) error {
	if r.agentBin == "" {
		r.results = append(r.results, section{title: "5. Agent overhead", body: "Not run: the agent binary was not built (`go build ./agent` failed when the runner started).\n"})
		return nil
	}
	restic, err := exec.LookPath("restic")
	if err != nil {
		r.results = append(r.results, section{title: "5. Agent overhead", body: "Not run: no restic on PATH.\n"})
		return nil
	}
	resticVersion, _ := exec.Command(restic, "version").Output()
	dataDir := filepath.Join(r.datasetDir(), "dataset")
	t0 := time.Now()
	if err := makeDataset(dataDir); err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	r.logf("dataset ready in %s", time.Since(t0).Round(time.Second))

	name, dbURL, err := r.createDB(ctx, "agent")
	if err != nil {
		return err
	}
	_ = name
	srv, err := r.startServer(ctx, "agent", dbURL)
	if err != nil {
		return err
	}
	defer srv.stop()
	tok, err := r.enrollToken(ctx, dbURL, 1)
	if err != nil {
		return err
	}
	adir := filepath.Join(r.work, "agent-home")
	if err := os.RemoveAll(adir); err != nil {
		return err
	}
	cfg := filepath.Join(adir, "agent.yaml")
	if out, err := exec.CommandContext(ctx, r.agentBin, "enroll", "-server", srv.url, "-token", tok, "-config", cfg,
		"-state-dir", filepath.Join(adir, "state"), "-restic", restic).CombinedOutput(); err != nil {
		return fmt.Errorf("agent enroll: %v: %s", err, out)
	}
	var hostID string
	if raw, err := os.ReadFile(cfg); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "host_id:"); ok {
				hostID = strings.Trim(strings.TrimSpace(v), `"'`)
			}
		}
	}
	if hostID == "" {
		return errors.New("no host_id in the agent config")
	}
	agent := exec.Command(r.agentBin, "run", "-config", cfg, "-startup-jitter", "0", "-log-file", filepath.Join(adir, "agent.log"))
	agent.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := agent.Start(); err != nil {
		return err
	}
	defer func() {
		_ = agent.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = agent.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = agent.Process.Kill()
		}
	}()
	opTok, err := r.operatorToken(ctx, srv.url)
	if err != nil {
		return fmt.Errorf("operator API: %w", err)
	}
	op := &opClient{base: srv.url, token: opTok, hc: &http.Client{Timeout: 30 * time.Second}}

	// Idle: let it settle, then 30 s of nothing.
	time.Sleep(10 * time.Second)
	apid := agent.Process.Pid
	c0, _ := procCPU(apid)
	i0 := time.Now()
	time.Sleep(20 * time.Second)
	c1, _ := procCPU(apid)
	idleCPU := float64(c1-c0) / clkTck / time.Since(i0).Seconds() * 100
	idleRSS, _ := procRSS(apid)

	type result struct {
		mode                 string
		wall, e2e            time.Duration
		agentCPU, agentTicks float64
		resticCPU            float64 // seconds of user+system CPU of restic
	}
	var results []result
	runs := 3
	if r.quick {
		runs = 1
	}
	for i := 0; i <= runs; i++ { // run 0 warms the page cache and is not counted
		order := []string{"restic", "agent"}
		if i%2 == 0 { // ABBA: neither mode always follows the other
			order = []string{"agent", "restic"}
		}
		for _, mode := range order {
			// Flush the previous run's repository writes, so that no run pays for another's.
			syscall.Sync()
			repo := filepath.Join(adir, fmt.Sprintf("repo-%s-%d", mode, i))
			switch mode {
			case "restic":
				// RESTIC_PROGRESS_FPS=1 as the agent sets it: without it restic --json prints
				// up to 60 status lines a second, which costs restic itself time.
				env := append(os.Environ(), "RESTIC_PASSWORD="+repoPassword, "RESTIC_REPOSITORY="+repo,
					"RESTIC_CACHE_DIR="+filepath.Join(adir, "cache-restic"), "RESTIC_PROGRESS_FPS=1")
				initCmd := exec.CommandContext(ctx, restic, "init")
				initCmd.Env = env
				if out, err := initCmd.CombinedOutput(); err != nil {
					return fmt.Errorf("restic init: %v: %s", err, out)
				}
				cmd := exec.CommandContext(ctx, restic, "backup", "--json", "--", dataDir)
				cmd.Env = env
				var errOut strings.Builder
				cmd.Stdout = io.Discard // the agent reads and parses this JSON stream; restic alone writes it nowhere
				cmd.Stderr = &errOut
				t := time.Now()
				if err := cmd.Run(); err != nil {
					return fmt.Errorf("restic backup: %v: %s", err, tail(errOut.String(), 500))
				}
				if i > 0 {
					st := cmd.ProcessState
					results = append(results, result{mode: mode, wall: time.Since(t), resticCPU: (st.UserTime() + st.SystemTime()).Seconds()})
				}
			case "agent":
				var rp struct {
					ID string `json:"id"`
				}
				if err := op.do(ctx, http.MethodPost, "/api/v1/hosts/"+hostID+"/repositories", map[string]any{
					"name": fmt.Sprintf("bench-%d", i), "url": repo, "password": repoPassword}, &rp); err != nil {
					return err
				}
				if _, _, err := op.runJob(ctx, hostID, rp.ID, "init", nil); err != nil {
					return err
				}
				a0, _ := procCPU(apid)
				ch0 := procChildCPU(apid)
				j, e2e, err := op.runJob(ctx, hostID, rp.ID, "backup", []string{dataDir})
				if err != nil {
					return err
				}
				a1, _ := procCPU(apid)
				ch1 := procChildCPU(apid)
				if i > 0 && j.StartedAt != nil && j.FinishedAt != nil {
					wall := j.FinishedAt.Sub(*j.StartedAt)
					results = append(results, result{mode: mode, wall: wall, e2e: e2e, resticCPU: float64(ch1-ch0) / clkTck,
						agentTicks: float64(a1 - a0), agentCPU: float64(a1-a0) / clkTck / e2e.Seconds() * 100})
				}
			}
			r.logf("scenario 5: run %d %s done", i, mode)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "A backup of the same data set (%d files, %s of random data in 100 folders) into a fresh local repository, "+
		"with `%s` alone (`restic backup --json -- DIR` with RESTIC_PROGRESS_FPS=1: the agent's flags and environment) and through the agent (`agent run`, job started with the operator API), "+
		"interleaved in ABBA order with a sync before each run, %d counted runs each after one warm-up pair. Agent wall time is the job's started_at → finished_at as the agent reported them; "+
		"end-to-end adds the run-now request, the poll delivery and the operator's 20 ms status polling.\n\n",
		datasetFiles, mib(datasetBytes), strings.TrimSpace(string(resticVersion)), runs)
	b.WriteString("| run | restic alone | through the agent | ratio | agent end-to-end | restic CPU alone / under the agent | agent CPU during the job |\n|---|---|---|---|---|---|---|\n")
	var alone, viaAgent, ratios, cpuRatios []float64
	var agentCPU []float64
	for i := 0; i+1 < len(results); i += 2 {
		a, g := results[i], results[i+1]
		if a.mode != "restic" {
			a, g = g, a
		}
		alone = append(alone, a.wall.Seconds())
		viaAgent = append(viaAgent, g.wall.Seconds())
		ratios = append(ratios, safeDiv(g.wall.Seconds(), a.wall.Seconds()))
		cpuRatios = append(cpuRatios, safeDiv(g.resticCPU, a.resticCPU))
		agentCPU = append(agentCPU, g.agentCPU)
		fmt.Fprintf(&b, "| %d | %.2f s | %.2f s | %.3f | %.2f s | %.1f s / %.1f s | %.2f %% of one core |\n", i/2+1, a.wall.Seconds(), g.wall.Seconds(),
			ratios[len(ratios)-1], g.e2e.Seconds(), a.resticCPU, g.resticCPU, g.agentCPU)
	}
	med := func(v []float64) float64 {
		if len(v) == 0 {
			return 0
		}
		s := slices.Clone(v)
		slices.Sort(s)
		return s[len(s)/2]
	}
	ratio := safeDiv(med(viaAgent), med(alone))
	fmt.Fprintf(&b, "\nMedian wall time: restic alone %.2f s, through the agent %.2f s: **ratio %.3f** (pairwise ratios %.3f … %.3f; restic's own CPU time under the agent / alone: median %.3f). Agent process CPU while restic ran (restic itself excluded): median %.2f %% of one core.\n",
		med(alone), med(viaAgent), ratio, slices.Min(append([]float64{9}, ratios...)), slices.Max(append([]float64{0}, ratios...)), med(cpuRatios), med(agentCPU))
	fmt.Fprintf(&b, "\nAgent idle (after 10 s, over 20 s, holding its long poll): RSS %s, CPU %.3f %% of one core.\n", mib(idleRSS), idleCPU)
	r.results = append(r.results, section{title: "5. Agent overhead", body: b.String()})
	r.row("5 agent", "wall-time ratio agent / restic", "≤ 1.02", fmt.Sprintf("%.3f", ratio), boolp(ratio <= 1.02 && ratio > 0))
	r.row("5 agent", "idle RSS", "≤ 25 MB", fmt.Sprintf("%.1f MB", float64(idleRSS)/1e6), boolp(idleRSS <= 25e6))
	r.row("5 agent", "idle CPU", "~0 %", fmt.Sprintf("%.3f %%", idleCPU), boolp(idleCPU < 0.5))
	r.row("5 agent", "agent CPU while restic runs", "≤ 2 % of one core", fmt.Sprintf("%.2f %%", med(agentCPU)), boolp(med(agentCPU) <= 2))
	return nil
}

// datasetDir keeps the 2 GiB data set between runs (RM_BENCH_DATASET_DIR), else in the work dir.
func (r *runner) datasetDir() string {
	if d := os.Getenv("RM_BENCH_DATASET_DIR"); d != "" {
		return d
	}
	return r.work
}
