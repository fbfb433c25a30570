package agentapi_test

// TestFleetsimDriver is not a test: scripts/bench runs it (skipped unless
// RM_FLEETSIM_DRIVER_DB is set) as a stand-in operator when the server binary has no
// operator API to call. It opens the benchmark's database like a server replica does
// (same store, same dispatcher, PostgreSQL NOTIFY for the wake-up) and either creates one
// repository per host, or creates "run now" jobs. The agents it targets are simulated by
// scripts/fleetsim against the real server processes, which receive the wake-ups over
// LISTEN/NOTIFY exactly as from another replica.
//
//	RM_FLEETSIM_DRIVER_DB          database URL (required)
//	RM_FLEETSIM_DRIVER_SECRET_KEY  the servers' RM_SECRET_KEY (base64)
//	RM_FLEETSIM_DRIVER_PHASE       repos | dispatch | all
//	RM_FLEETSIM_DRIVER_CREDS       fleetsim creds.jsonl (repos phase)
//	RM_FLEETSIM_DRIVER_REPOS       repos.jsonl, written by the repos phase, read by the others
//	RM_FLEETSIM_DRIVER_COUNT       hosts (repos), runs (dispatch) or jobs (all)
//	RM_FLEETSIM_DRIVER_RATE        runs per second (dispatch)
//	RM_FLEETSIM_DRIVER_KIND        job kind (default snapshots)

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/config"
	"github.com/restic-manager/restic-manager/server/internal/dispatch"
	"github.com/restic-manager/restic-manager/server/internal/notify"
	"github.com/restic-manager/restic-manager/server/internal/secrets"
	"github.com/restic-manager/restic-manager/server/internal/servertest"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

type driverNopHandler struct{}

func (driverNopHandler) Apply(notify.Event) {}
func (driverNopHandler) Reset()             {}

type driverRef struct {
	HostID       string `json:"host_id"`
	RepositoryID string `json:"repository_id,omitempty"`
}

func driverReadRefs(t *testing.T, path string, limit int) []driverRef {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []driverRef
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() && (limit <= 0 || len(out) < limit) {
		var r driverRef
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func benchEnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func TestFleetsimDriver(t *testing.T) {
	dbURL := os.Getenv("RM_FLEETSIM_DRIVER_DB")
	if dbURL == "" {
		t.Skip("only run by scripts/bench (RM_FLEETSIM_DRIVER_DB unset)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	key, err := secrets.LoadOrCreateKey(os.Getenv("RM_FLEETSIM_DRIVER_SECRET_KEY"), "")
	if err != nil {
		t.Fatal(err)
	}
	box, err := secrets.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := store.Open(ctx, store.Options{DatabaseURL: dbURL, Box: box, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bus, err := notify.NewPostgres(ctx, dbURL, driverNopHandler{}, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	d := dispatch.New(s, bus, logger)
	count := benchEnvInt("RM_FLEETSIM_DRIVER_COUNT", 100)
	kind := os.Getenv("RM_FLEETSIM_DRIVER_KIND")
	if kind == "" {
		kind = protocol.KindSnapshots
	}
	reposPath := os.Getenv("RM_FLEETSIM_DRIVER_REPOS")

	// parallel runs fn for each of n items on 16 workers.
	parallel := func(n int, fn func(i int) error) {
		var (
			next  atomic.Int64
			wg    sync.WaitGroup
			first atomic.Value
		)
		for w := 0; w < 16; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					i := int(next.Add(1)) - 1
					if i >= n {
						return
					}
					if err := fn(i); err != nil {
						first.CompareAndSwap(nil, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if err, _ := first.Load().(error); err != nil {
			t.Fatal(err)
		}
	}
	run := func(ref driverRef) error {
		req := store.RunRequest{Kind: kind, RepositoryID: ref.RepositoryID, ActorType: store.ActorAPI, ActorID: "fleetsim-driver"}
		if kind == protocol.KindBackup {
			req.Paths = []string{"/srv/data"}
		}
		_, err := d.EnqueueRun(ctx, ref.HostID, req)
		return err
	}

	switch phase := os.Getenv("RM_FLEETSIM_DRIVER_PHASE"); phase {
	case "repos":
		hosts := driverReadRefs(t, os.Getenv("RM_FLEETSIM_DRIVER_CREDS"), count)
		start := time.Now()
		parallel(len(hosts), func(i int) error {
			r, err := d.CreateRepository(ctx, hosts[i].HostID, store.RepositoryInput{Name: "bench", URL: "/srv/restic/bench", Password: "pw-bench"})
			hosts[i].RepositoryID = r.ID
			return err
		})
		f, err := os.Create(reposPath)
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriter(f)
		enc := json.NewEncoder(w)
		for _, h := range hosts {
			_ = enc.Encode(h)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		_ = f.Close()
		t.Logf("created %d repositories in %s", len(hosts), time.Since(start))
	case "dispatch":
		refs := driverReadRefs(t, reposPath, 0)
		rate := float64(benchEnvInt("RM_FLEETSIM_DRIVER_RATE", 20))
		tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer tick.Stop()
		var wg sync.WaitGroup
		var failed atomic.Int64
		for i := 0; i < count && ctx.Err() == nil; i++ {
			<-tick.C
			ref := refs[i%len(refs)]
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := run(ref); err != nil {
					failed.Add(1)
					t.Log(err)
				}
			}()
		}
		wg.Wait()
		if failed.Load() > 0 {
			t.Fatalf("%d runs failed", failed.Load())
		}
	case "all":
		refs := driverReadRefs(t, reposPath, count)
		start := time.Now()
		parallel(len(refs), func(i int) error { return run(refs[i]) })
		t.Logf("created %d jobs in %s", len(refs), time.Since(start))
	default:
		t.Fatalf("RM_FLEETSIM_DRIVER_PHASE %q: repos, dispatch or all", phase)
	}
}

// TestFleetsimProfileServer is not a test either: it runs a server in this process on an
// existing benchmark database, so that a fleetsim load can be profiled with pprof
// (skipped unless RM_FLEETSIM_PROFILE_DB is set). It writes the server's URL to
// RM_FLEETSIM_PROFILE_ADDR, waits RM_FLEETSIM_PROFILE_WARMUP seconds (default 40), then
// takes a CPU profile for RM_FLEETSIM_PROFILE_SECONDS (default 60) into
// RM_FLEETSIM_PROFILE_OUT, and a heap profile into the same path + ".heap". The poll hold
// is the server's default (50 s) unless RM_FLEETSIM_PROFILE_HOLD says otherwise. (The
// server binary can also be profiled directly: -pprof-listen, docs/architecture.md.)
//
//	RM_FLEETSIM_PROFILE_DB=postgres://…/rmbench_… RM_FLEETSIM_PROFILE_OUT=/tmp/cpu.prof \
//	  go test -run '^TestFleetsimProfileServer$' -timeout 10m ./server/internal/agentapi/
//	fleetsim run -urls $(cat addr) -creds creds.jsonl -mode idle …
func TestFleetsimProfileServer(t *testing.T) {
	dbURL := os.Getenv("RM_FLEETSIM_PROFILE_DB")
	if dbURL == "" {
		t.Skip("only run by hand for profiling (RM_FLEETSIM_PROFILE_DB unset)")
	}
	hold := 50 * time.Second
	if d, err := time.ParseDuration(os.Getenv("RM_FLEETSIM_PROFILE_HOLD")); err == nil {
		hold = d
	}
	env := servertest.Start(t, servertest.Options{DBURL: dbURL, PollHold: hold, Config: func(c *config.Config) {
		c.LastSeenFlush = 10 * time.Second
		c.SecretKey = os.Getenv("RM_FLEETSIM_DRIVER_SECRET_KEY")
		if c.SecretKey == "" {
			c.SecretKey = "YmVuY2htYXJrLWtleS0wMTIzNDU2Nzg5YWJjZGVmMDE="
		}
	}})
	if err := os.WriteFile(os.Getenv("RM_FLEETSIM_PROFILE_ADDR"), []byte(env.URL+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Duration(benchEnvInt("RM_FLEETSIM_PROFILE_WARMUP", 40)) * time.Second)
	out := os.Getenv("RM_FLEETSIM_PROFILE_OUT")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Duration(benchEnvInt("RM_FLEETSIM_PROFILE_SECONDS", 60)) * time.Second)
	pprof.StopCPUProfile()
	_ = f.Close()
	h, err := os.Create(out + ".heap")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := pprof.WriteHeapProfile(h); err != nil {
		t.Fatal(err)
	}
	t.Logf("held polls at the end: %d", env.Server.Hub.Waiting())
}
