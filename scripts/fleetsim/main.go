// Command fleetsim simulates a fleet of Restic Manager agents against a real server, over
// the real agent protocol (docs/protocol.md): enrolment, hello, long polls, command
// acknowledgements, job start, progress, log batches, finish, snapshot and stats reports.
// It is the load generator of scripts/bench (docs/benchmarks.md).
//
//	fleetsim enroll -url URL -token TOKEN -n N -out creds.jsonl
//	fleetsim repos  -operator-url URL -operator-token TOKEN -creds creds.jsonl -n K -out repos.jsonl
//	fleetsim run    -creds creds.jsonl -urls URL[,URL2] -mode idle|baseline|dispatch|ingest [flags]
//
// "run" prints phase marks on stdout ("@phase NAME UNIXNANO": ramped, measure-start,
// measure-end, burst-start, burst-end, done) so that a runner can sample the server
// over exactly the measured window, and writes a JSON report to -out.
//
// Every loop is bounded in count and in time; the simulator only ever talks to the URLs
// it is given, which must be loopback addresses.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: fleetsim enroll|repos|run [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "enroll":
		err = cmdEnroll(ctx, os.Args[2:])
	case "repos":
		err = cmdRepos(ctx, os.Args[2:])
	case "run":
		err = cmdRun(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "fleetsim:", err)
		}
		os.Exit(1)
	}
}

// Cred is one enrolled simulated host.
type Cred struct {
	HostID     string `json:"host_id"`
	Credential string `json:"credential"`
	Hostname   string `json:"hostname"`
}

// RepoRef is a repository created for a simulated host.
type RepoRef struct {
	HostID       string `json:"host_id"`
	RepositoryID string `json:"repository_id"`
}

func readJSONL[T any](path string, limit int) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() && (limit <= 0 || len(out) < limit) {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var v T
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

func writeJSONL[T any](path string, items []T) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, it := range items {
		if err := enc.Encode(it); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// checkLoopback refuses any target that is not on this machine's loopback: load is only
// ever sent to a server the benchmark started itself.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s: only loopback targets are allowed", raw)
	}
	return nil
}

func splitURLs(s string) ([]string, error) {
	var out []string
	for _, u := range strings.Split(s, ",") {
		if u = strings.TrimRight(strings.TrimSpace(u), "/"); u != "" {
			if err := checkLoopback(u); err != nil {
				return nil, err
			}
			out = append(out, u)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no server URL")
	}
	return out, nil
}

// phase prints a mark for the runner.
func phase(name string) time.Time {
	now := time.Now()
	fmt.Printf("@phase %s %d\n", name, now.UnixNano())
	return now
}
