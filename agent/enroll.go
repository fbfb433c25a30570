package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/restic-manager/restic-manager/agent/internal/client"
	"github.com/restic-manager/restic-manager/agent/internal/config"
	"github.com/restic-manager/restic-manager/agent/internal/state"
	"github.com/restic-manager/restic-manager/common/protocol"
)

// EnvEnrollToken may carry the token instead of --token (keeps it out of shell history).
const EnvEnrollToken = "RM_ENROLL_TOKEN"

func cmdEnroll(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("enroll", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "", "server base URL, e.g. https://backup.example.com (required)")
	token := fs.String("token", "", "one-time enrollment token (or $"+EnvEnrollToken+")")
	cfgFlag := fs.String("config", "", "config file to write (default "+configPath("", getenv)+")")
	stateDir := fs.String("state-dir", "", "state folder (default "+defaultPaths(getenv).StateDir+")")
	caFile := fs.String("ca-file", "", "PEM file of extra CA certificates to trust for the server")
	resticBin := fs.String("restic", "", "restic binary (default "+defaultPaths(getenv).Restic+")")
	force := fs.Bool("force", false, "enrol again even if the config already holds a credential")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *token == "" {
		*token = getenv(EnvEnrollToken)
	}
	if *server == "" || *token == "" {
		fmt.Fprintln(stderr, "agent enroll: --server and --token (or $"+EnvEnrollToken+") are required")
		fs.Usage()
		return exitUsage
	}
	path := configPath(*cfgFlag, getenv)
	cfg, err := enrollConfig(path, *force)
	if err != nil {
		fmt.Fprintf(stderr, "agent enroll: %v\n", err)
		return exitError
	}
	defaults := defaultPaths(getenv)
	cfg.ServerURL = *server
	if *caFile != "" {
		cfg.CAFile = *caFile
	}
	switch {
	case *stateDir != "":
		cfg.StateDir = *stateDir
	case cfg.StateDir == "":
		cfg.StateDir = defaults.StateDir
	}
	switch {
	case *resticBin != "":
		cfg.ResticBinary = *resticBin
	case cfg.ResticBinary == "":
		cfg.ResticBinary = defaults.Restic
	}

	api, err := client.New(client.Options{BaseURL: cfg.ServerURL, CAFile: cfg.CAFile, UserAgent: userAgent()})
	if err != nil {
		fmt.Fprintf(stderr, "agent enroll: %v\n", err)
		return exitError
	}
	hostname, _ := os.Hostname()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	resp, err := api.Enroll(ctx, protocol.EnrollRequest{
		Token: *token, Hostname: hostname, OS: runtime.GOOS, Arch: runtime.GOARCH, AgentVersion: version,
	})
	switch {
	case client.HasCode(err, protocol.CodeEnrollmentToken):
		fmt.Fprintln(stderr, "agent enroll: the server refused the enrollment token (wrong, used or expired): create a new one")
		return exitError
	case err != nil:
		fmt.Fprintf(stderr, "agent enroll: %v\n", err)
		return exitError
	case resp.HostID == "" || resp.Credential == "":
		fmt.Fprintln(stderr, "agent enroll: the server answered without a host id or credential")
		return exitError
	}
	cfg.HostID, cfg.Credential = resp.HostID, resp.Credential

	// The config first: on Windows its folder gets an administrators-only ACL when
	// created, and the state folder is usually inside it.
	if err := config.Save(path, cfg); err != nil {
		fmt.Fprintf(stderr, "agent enroll: %v\n", err)
		fmt.Fprintf(stderr, "agent enroll: the server enrolled host %s but the config was not written; enrol again with a new token\n", resp.HostID)
		return exitError
	}
	if _, err := state.Open(cfg.StateDir); err != nil {
		fmt.Fprintf(stderr, "agent enroll: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stdout, "Enrolled as host %s.\nConfig written to %s (mode 0600); state folder %s.\n", resp.HostID, path, cfg.StateDir)
	fmt.Fprintln(stdout, startHint)
	return exitOK
}

// enrollConfig loads the existing config (its hooks and settings are kept) or starts
// a new one. An existing credential needs --force.
func enrollConfig(path string, force bool) (*config.Config, error) {
	if !config.Exists(path) {
		return &config.Config{}, nil
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	if cfg.Credential != "" && !force {
		return nil, errors.New(path + " already holds a credential for host " + cfg.HostID + ": use --force to enrol again")
	}
	return cfg, nil
}

func userAgent() string {
	return "restic-manager-agent/" + version + " (" + runtime.GOOS + "/" + runtime.GOARCH + ")"
}
