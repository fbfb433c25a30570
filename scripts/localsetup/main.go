// Command localsetup is the part of scripts/run.sh that talks to the API: it enrols the
// local agent and gives it a local restic repository, a nightly backup schedule and a
// first backup, so a new user sees a host and a snapshot at once. It uses the generated
// API client, like any automation would.
//
//	localsetup enroll    -server URL -email E -password-file F -agent BIN -config CFG -state DIR -restic BIN
//	localsetup provision -server URL -email E -password-file F -config CFG -data DIR -paths P1,P2
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/restic-manager/restic-manager/common/apiclient"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "localsetup:", err)
		os.Exit(1)
	}
}

type opts struct {
	server, email, passwordFile, agent, config, state, restic, data, paths string
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: localsetup enroll|provision [flags]")
	}
	var o opts
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.StringVar(&o.server, "server", "http://127.0.0.1:8080", "server URL")
	fs.StringVar(&o.email, "email", "", "admin email")
	fs.StringVar(&o.passwordFile, "password-file", "", "file holding the admin password")
	fs.StringVar(&o.agent, "agent", "", "agent binary")
	fs.StringVar(&o.config, "config", "", "agent config file")
	fs.StringVar(&o.state, "state", "", "agent state dir")
	fs.StringVar(&o.restic, "restic", "restic", "restic binary")
	fs.StringVar(&o.data, "data", "", "data dir (the local repository goes under it)")
	fs.StringVar(&o.paths, "paths", "/etc", "comma-separated paths the demo schedule backs up")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	c, err := login(ctx, o)
	if err != nil {
		return err
	}
	switch args[0] {
	case "enroll":
		return enroll(ctx, c, o)
	case "provision":
		return provision(ctx, c, o)
	}
	return fmt.Errorf("unknown command %q", args[0])
}

// login opens a session and returns a client that sends its cookie and CSRF token.
func login(ctx context.Context, o opts) (*apiclient.ClientWithResponses, error) {
	pw, err := os.ReadFile(o.passwordFile)
	if err != nil {
		return nil, fmt.Errorf("admin password: %w", err)
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 60 * time.Second}
	var csrf string
	c, err := apiclient.NewClientWithResponses(o.server+"/api/v1", apiclient.WithHTTPClient(hc),
		apiclient.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			if csrf != "" {
				req.Header.Set("X-CSRF-Token", csrf)
			}
			return nil
		}))
	if err != nil {
		return nil, err
	}
	resp, err := c.PostAuthLoginWithResponse(ctx, apiclient.LoginRequest{Email: o.email, Password: strings.TrimSpace(string(pw))})
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	if resp.JSON200 == nil {
		return nil, fmt.Errorf("login: %s %s", resp.Status(), resp.Body)
	}
	csrf = resp.JSON200.CsrfToken
	return c, nil
}

func enroll(ctx context.Context, c *apiclient.ClientWithResponses, o opts) error {
	if _, err := os.Stat(o.config); err == nil {
		fmt.Println("local agent already enrolled:", o.config)
		return nil
	}
	desc, ttl, uses := "local agent (scripts/run.sh)", 600, 1
	tok, err := c.PostEnrollmentTokensWithResponse(ctx, apiclient.EnrollmentTokenCreate{Description: &desc, TtlSeconds: &ttl, MaxUses: &uses})
	if err != nil {
		return err
	}
	if tok.JSON201 == nil {
		return fmt.Errorf("enrollment token: %s %s", tok.Status(), tok.Body)
	}
	token := tok.JSON201.Token
	cmd := exec.CommandContext(ctx, o.agent, "enroll", "--server", o.server, "--config", o.config, "--state-dir", o.state, "--restic", o.restic)
	cmd.Env = append(os.Environ(), "RM_ENROLL_TOKEN="+token)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("agent enroll: %w", err)
	}
	return nil
}

func provision(ctx context.Context, c *apiclient.ClientWithResponses, o opts) error {
	hostID, err := agentHostID(o.config)
	if err != nil {
		return err
	}
	if err := waitFor(ctx, "the local agent to say hello", func() (bool, error) {
		h, err := c.GetHostsIdWithResponse(ctx, hostID)
		if err != nil {
			return false, err
		}
		return h.JSON200 != nil && h.JSON200.ResticVersion != "", nil
	}); err != nil {
		return err
	}
	repos, err := c.GetHostsIdRepositoriesWithResponse(ctx, hostID)
	if err != nil || repos.JSON200 == nil {
		return fmt.Errorf("repositories: %v %s", err, body(repos.Body))
	}
	if len(repos.JSON200.Items) > 0 {
		fmt.Println("local repository already configured")
		return nil
	}
	repoDir := filepath.Join(o.data, "repos", "local")
	password, err := secretFile(filepath.Join(o.data, "local-repository-password"))
	if err != nil {
		return err
	}
	repo, err := c.PostHostsIdRepositoriesWithResponse(ctx, hostID, apiclient.RepositoryCreate{Name: "local", Url: repoDir, Password: password})
	if err != nil || repo.JSON201 == nil {
		return fmt.Errorf("create repository: %v %s", err, body(repo.Body))
	}
	repoID := repo.JSON201.Id
	if _, err := os.Stat(filepath.Join(repoDir, "config")); err != nil {
		job, err := c.PostHostsIdJobsWithResponse(ctx, hostID, apiclient.RunRequest{Kind: "init", RepositoryId: repoID})
		if err != nil || job.JSON202 == nil {
			return fmt.Errorf("init: %v %s", err, body(job.Body))
		}
		if err := waitJob(ctx, c, job.JSON202.Id.String(), "restic init"); err != nil {
			return err
		}
	}
	paths := strings.Split(o.paths, ",")
	enabled, tz := true, "UTC"
	sc, err := c.PostHostsIdSchedulesWithResponse(ctx, hostID, apiclient.ScheduleInput{
		RepositoryId: repoID, Name: "nightly backup", Kind: "backup", Cron: "0 2 * * *", Timezone: &tz, Paths: &paths, Enabled: &enabled,
	})
	if err != nil || sc.JSON201 == nil {
		return fmt.Errorf("create schedule: %v %s", err, body(sc.Body))
	}
	run, err := c.PostHostsIdSchedulesSidRunWithResponse(ctx, hostID, sc.JSON201.Id.String())
	if err != nil || run.JSON202 == nil {
		return fmt.Errorf("run schedule: %v %s", err, body(run.Body))
	}
	return waitJob(ctx, c, run.JSON202.Id.String(), "the first backup")
}

func waitJob(ctx context.Context, c *apiclient.ClientWithResponses, id, what string) error {
	var status string
	err := waitFor(ctx, what, func() (bool, error) {
		j, err := c.GetJobsIdWithResponse(ctx, id)
		if err != nil || j.JSON200 == nil {
			return false, err
		}
		status = string(j.JSON200.Status)
		if j.JSON200.Error != nil && *j.JSON200.Error != "" {
			status += ": " + *j.JSON200.Error
		}
		switch j.JSON200.Status {
		case "succeeded", "warning", "failed", "cancelled":
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	fmt.Printf("%s: %s\n", what, status)
	return nil
}

func waitFor(ctx context.Context, what string, cond func() (bool, error)) error {
	fmt.Printf("waiting for %s…\n", what)
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out waiting for %s", what)
		case <-time.After(time.Second):
		}
	}
}

func agentHostID(config string) (string, error) {
	raw, err := os.ReadFile(config)
	if err != nil {
		return "", fmt.Errorf("agent config: %w", err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "host_id:"); ok {
			return strings.Trim(strings.TrimSpace(v), `"`), nil
		}
	}
	return "", fmt.Errorf("no host_id in %s", config)
}

// secretFile returns the secret in path, creating a random one (mode 0600) first.
func secretFile(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	s := base64.RawURLEncoding.EncodeToString(buf)
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return "", err
	}
	return s, nil
}

func body(b []byte) string {
	if len(b) > 300 {
		b = b[:300]
	}
	return string(b)
}
