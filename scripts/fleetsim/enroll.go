package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// cmdEnroll enrols N simulated hosts through POST /api/v1/agent/enroll with one
// multi-use enrollment token, in parallel.
func cmdEnroll(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("enroll", flag.ContinueOnError)
	base := fs.String("url", "", "server base URL (loopback)")
	token := fs.String("token", "", "enrollment token with at least -n uses")
	n := fs.Int("n", 100, "hosts to enrol")
	conc := fs.Int("concurrency", 32, "parallel enrolments")
	prefix := fs.String("prefix", "sim", "hostname prefix")
	out := fs.String("out", "creds.jsonl", "where to write host ids and credentials")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkLoopback(*base); err != nil {
		return err
	}
	if *n < 1 || *n > 100_000 {
		return fmt.Errorf("-n must be between 1 and 100000")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	hc := &http.Client{Transport: newTransport(*conc * 2), Timeout: 60 * time.Second}
	creds := make([]Cred, *n)
	var (
		next   atomic.Int64
		failed atomic.Int64
		wg     sync.WaitGroup
		errMu  sync.Mutex
		first  error
	)
	start := time.Now()
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= *n {
					return
				}
				name := fmt.Sprintf("%s-%06d", *prefix, i)
				var resp protocol.EnrollResponse
				var err error
				for attempt := 0; attempt < 5; attempt++ { // bounded retries on 5xx / network errors
					err = doJSON(ctx, hc, http.MethodPost, *base+protocol.PathEnroll, "",
						protocol.EnrollRequest{Token: *token, Hostname: name, OS: "linux", Arch: "amd64", AgentVersion: "fleetsim"}, &resp)
					if ae, ok := err.(*apiError); err == nil || (ok && ae.Status < 500) {
						break
					}
					time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
				}
				if err != nil {
					failed.Add(1)
					errMu.Lock()
					if first == nil {
						first = fmt.Errorf("enrol %s: %w", name, err)
					}
					errMu.Unlock()
					cancel()
					return
				}
				creds[i] = Cred{HostID: resp.HostID, Credential: resp.Credential, Hostname: name}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	if ctx.Err() != nil {
		return fmt.Errorf("enrol: %w", ctx.Err())
	}
	el := time.Since(start)
	fmt.Fprintf(os.Stderr, "enrolled %d hosts in %s (%.0f/s)\n", *n, el.Round(time.Millisecond), float64(*n)/el.Seconds())
	fmt.Printf("@enrolled %d %.3f\n", *n, el.Seconds())
	return writeJSONL(*out, creds)
}

// operator is a client of the operator API, authenticated with an API token.
type operator struct {
	base, token string
	hc          *http.Client
}

type idOnly struct {
	ID string `json:"id"`
}

func (o *operator) createRepo(ctx context.Context, hostID, name string) (string, error) {
	var r idOnly
	err := doJSON(ctx, o.hc, http.MethodPost, o.base+"/api/v1/hosts/"+hostID+"/repositories", o.token,
		map[string]any{"name": name, "url": "/srv/restic/" + name, "password": "pw-" + name}, &r)
	return r.ID, err
}

func (o *operator) runNow(ctx context.Context, hostID, repoID, kind string) (string, error) {
	body := map[string]any{"kind": kind, "repository_id": repoID}
	if kind == protocol.KindBackup {
		body["paths"] = []string{"/srv/data"}
	}
	var r idOnly
	err := doJSON(ctx, o.hc, http.MethodPost, o.base+"/api/v1/hosts/"+hostID+"/jobs", o.token, body, &r)
	return r.ID, err
}

// cmdRepos creates one repository for each of the first K hosts through the operator API.
func cmdRepos(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("repos", flag.ContinueOnError)
	base := fs.String("operator-url", "", "server base URL (loopback)")
	token := fs.String("operator-token", "", "operator API token (rmt_…)")
	credsPath := fs.String("creds", "creds.jsonl", "hosts from fleetsim enroll")
	n := fs.Int("n", 100, "hosts to give a repository")
	conc := fs.Int("concurrency", 8, "parallel requests")
	out := fs.String("out", "repos.jsonl", "where to write host and repository ids")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkLoopback(*base); err != nil {
		return err
	}
	creds, err := readJSONL[Cred](*credsPath, *n)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	op := &operator{base: *base, token: *token, hc: &http.Client{Transport: newTransport(*conc * 2), Timeout: 60 * time.Second}}
	refs := make([]RepoRef, len(creds))
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(creds) {
					return
				}
				id, err := op.createRepo(ctx, creds[i].HostID, "bench")
				if err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("repository for %s: %w", creds[i].HostID, err)
					}
					mu.Unlock()
					cancel()
					return
				}
				refs[i] = RepoRef{HostID: creds[i].HostID, RepositoryID: id}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return writeJSONL(*out, refs)
}
