package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// clkTck is USER_HZ, 100 on every Linux platform Go runs on.
const clkTck = 100

// procCPU returns a process's user+system CPU time in ticks (utime+stime, not children).
func procCPU(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(raw)
	// The command name may hold spaces: fields start after the last ')'.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("proc %d: bad stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("proc %d: short stat", pid)
	}
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ut + st, nil
}

// procChildCPU returns the CPU ticks of a process's waited-for children (cutime+cstime).
func procChildCPU(pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 15 {
		return 0
	}
	cu, _ := strconv.ParseInt(f[13], 10, 64)
	cs, _ := strconv.ParseInt(f[14], 10, 64)
	return cu + cs
}

// procRSS returns VmRSS and VmHWM in bytes.
func procRSS(pid int) (rss, hwm int64) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			rss = n << 10
		case "VmHWM":
			hwm = n << 10
		}
	}
	return rss, hwm
}

// machineCPU returns busy and total ticks of the whole machine from /proc/stat.
func machineCPU() (busy, total int64) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	f := strings.Fields(line)
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total
}

// server is one running server process.
type server struct {
	name string
	cmd  *exec.Cmd
	url  string
	dir  string
	log  *os.File
	done chan error
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// startServer runs the server binary on a loopback port against dbURL.
func (r *runner) startServer(ctx context.Context, name, dbURL string, extraArgs ...string) (*server, error) {
	dir := filepath.Join(r.work, "srv-"+name+"-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	addrFile := filepath.Join(dir, "addr")
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	args := append([]string{"serve", "-listen", "127.0.0.1:0", "-addr-file", addrFile, "-data-dir", dir, "-log-level", "warn"}, extraArgs...)
	cmd := exec.Command(r.serverBin, args...)
	cmd.Env = append(os.Environ(),
		"RM_DATABASE_URL="+dbURL,
		"RM_SECRET_KEY="+secretKey,
		"RM_ADMIN_EMAIL="+adminEmail,
		"RM_ADMIN_PASSWORD="+adminPassword,
	)
	if r.pollHold > 0 {
		cmd.Env = append(cmd.Env, "RM_POLL_HOLD="+r.pollHold.String())
	}
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	s := &server{name: name, cmd: cmd, dir: dir, log: logf, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if raw, err := os.ReadFile(addrFile); err == nil && strings.TrimSpace(string(raw)) != "" {
			s.url = "http://" + strings.TrimSpace(string(raw))
			break
		}
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("server %s exited: %v (log %s)", name, err, logf.Name())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("server %s did not start (log %s)", name, logf.Name())
		}
	}
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				r.logf("server %s pid %d at %s", name, s.pid(), s.url)
				return s, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.stop()
	return nil, fmt.Errorf("server %s not ready", name)
}

// stop sends SIGTERM and waits (SIGKILL after 20 s).
func (s *server) stop() {
	if s == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.log.Close()
}

// simProc is a running fleetsim with its phase marks.
type simProc struct {
	cmd   *exec.Cmd
	marks chan mark
	done  chan error
	lines []string
	mu    sync.Mutex
}

type mark struct {
	name string
	at   time.Time
}

func (r *runner) startSim(args ...string) (*simProc, error) {
	cmd := exec.Command(r.simBin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	errf, err := os.Create(filepath.Join(r.work, fmt.Sprintf("fleetsim-%d.log", time.Now().UnixNano())))
	if err != nil {
		return nil, err
	}
	cmd.Stderr = errf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &simProc{cmd: cmd, marks: make(chan mark, 32), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.lines = append(p.lines, line)
			p.mu.Unlock()
			if rest, ok := strings.CutPrefix(line, "@phase "); ok {
				f := strings.Fields(rest)
				if len(f) == 2 {
					ns, _ := strconv.ParseInt(f[1], 10, 64)
					select {
					case p.marks <- mark{name: f[0], at: time.Unix(0, ns)}:
					default:
					}
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		p.done <- cmd.Wait()
		errf.Close()
		close(p.marks)
	}()
	return p, nil
}

// waitMark waits for the named phase mark (skipping others), up to limit.
func (p *simProc) waitMark(name string, limit time.Duration) (time.Time, error) {
	t := time.NewTimer(limit)
	defer t.Stop()
	for {
		select {
		case m, ok := <-p.marks:
			if !ok {
				return time.Time{}, fmt.Errorf("fleetsim ended before mark %q", name)
			}
			if m.name == name {
				return m.at, nil
			}
		case <-t.C:
			return time.Time{}, fmt.Errorf("no mark %q within %s", name, limit)
		}
	}
}

func (p *simProc) wait(limit time.Duration) error {
	for range p.marks { // drain
	}
	select {
	case err := <-p.done:
		return err
	case <-time.After(limit):
		_ = p.cmd.Process.Kill()
		return fmt.Errorf("fleetsim did not end within %s", limit)
	}
}

func (p *simProc) kill() {
	if p != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
	}
}

// sampler follows CPU and memory of the servers, the simulator and the PostgreSQL
// backends serving the benchmark database, once a second.
type sampler struct {
	r       *runner
	db      string
	servers []*server
	sim     *simProc
	mu      sync.Mutex
	maxRSS  map[int]int64
	pgTicks map[int]int64 // per backend pid: last seen ticks
	pgTotal int64         // accumulated ticks of backends of db
	stop    chan struct{}
	done    chan struct{}
}

func (r *runner) newSampler(db string, sim *simProc, servers ...*server) *sampler {
	s := &sampler{r: r, db: db, servers: servers, sim: sim, maxRSS: map[int]int64{}, pgTicks: map[int]int64{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go s.loop()
	return s
}

func (s *sampler) loop() {
	defer close(s.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		s.sample()
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
	}
}

func (s *sampler) close() {
	close(s.stop)
	<-s.done
}

func (s *sampler) sample() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sv := range s.servers {
		rss, _ := procRSS(sv.pid())
		s.maxRSS[sv.pid()] = max(s.maxRSS[sv.pid()], rss)
	}
	pids := s.r.backendPIDs(s.db)
	for _, pid := range pids {
		ticks, err := procCPU(pid)
		if err != nil {
			continue
		}
		prev, seen := s.pgTicks[pid]
		if seen {
			s.pgTotal += ticks - prev
		}
		s.pgTicks[pid] = ticks
	}
}

// snapshot is everything read at one phase mark.
type snapshot struct {
	at          time.Time
	serverTicks map[int]int64
	serverRSS   map[int]int64
	simTicks    int64
	pgTicks     int64
	busy, total int64
	db          pgCounters
}

func (s *sampler) snap(ctx context.Context) snapshot {
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	sn := snapshot{at: time.Now(), serverTicks: map[int]int64{}, serverRSS: map[int]int64{}, pgTicks: s.pgTotal}
	for _, sv := range s.servers {
		sn.serverTicks[sv.pid()], _ = procCPU(sv.pid())
		sn.serverRSS[sv.pid()], _ = procRSS(sv.pid())
	}
	if s.sim != nil {
		sn.simTicks, _ = procCPU(s.sim.cmd.Process.Pid)
	}
	sn.busy, sn.total = machineCPU()
	sn.db, _ = s.r.counters(ctx, s.db)
	return sn
}

// window is what happened between two snapshots.
type window struct {
	From, To      time.Time
	Seconds       float64
	ServerCPU     []float64 // % of one core, per server
	ServerRSS     []int64   // at the end
	ServerMaxRSS  []int64   // highest sample in the run
	SimCPU        float64
	PGCPU         float64 // backends of the benchmark database
	MachineBusy   float64 // % of all cores
	Xacts         float64 // committed + rolled back transactions per second
	TupInserted   float64
	TupUpdated    float64
	TupFetched    float64
	TupReturned   float64
	TupDeleted    float64
	XactsAbsolute int64
}

func (s *sampler) window(a, b snapshot) window {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := b.at.Sub(a.at).Seconds()
	w := window{From: a.at, To: b.at, Seconds: sec}
	for _, sv := range s.servers {
		pid := sv.pid()
		w.ServerCPU = append(w.ServerCPU, float64(b.serverTicks[pid]-a.serverTicks[pid])/clkTck/sec*100)
		w.ServerRSS = append(w.ServerRSS, b.serverRSS[pid])
		w.ServerMaxRSS = append(w.ServerMaxRSS, s.maxRSS[pid])
	}
	w.SimCPU = float64(b.simTicks-a.simTicks) / clkTck / sec * 100
	w.PGCPU = float64(b.pgTicks-a.pgTicks) / clkTck / sec * 100
	if b.total > a.total {
		w.MachineBusy = float64(b.busy-a.busy) / float64(b.total-a.total) * 100
	}
	d := b.db.sub(a.db)
	w.XactsAbsolute = d.XactCommit + d.XactRollback
	w.Xacts = float64(w.XactsAbsolute) / sec
	w.TupInserted = float64(d.TupInserted) / sec
	w.TupUpdated = float64(d.TupUpdated) / sec
	w.TupFetched = float64(d.TupFetched) / sec
	w.TupReturned = float64(d.TupReturned) / sec
	w.TupDeleted = float64(d.TupDeleted) / sec
	return w
}
