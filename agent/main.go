// Command agent is the restic-manager agent: it enrols a host with the server once
// ("agent enroll"), then runs as a service ("agent run") that long-polls the server
// over outbound HTTPS, runs restic jobs and schedules, and reports back.
// "agent status" shows what the service is doing.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // schedules name IANA time zones; Windows has no zoneinfo of its own
)

// version is set at build time with -ldflags "-X main.version=1.2.3".
var version = "dev"

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
	// exitConfig means a restart cannot help (revoked credential, protocol mismatch,
	// bad config); the systemd unit does not restart on it (RestartPreventExitStatus).
	exitConfig = 78
)

func main() {
	if code, handled := runService(os.Args[1:]); handled {
		os.Exit(code)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: agent <command> [flags]

commands:
  enroll    exchange a one-time enrollment token for a host credential and write the config
  run       run the agent service (foreground)
  status    show what the service is doing and when it last reached the server
  version   print the agent version
%s
Run "agent <command> -h" for the flags of a command.
The config file is %s by default; override it with --config or $RM_AGENT_CONFIG.
`

// run is the whole program minus the process: arguments, environment and output are
// passed in. It returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr, getenv)
		return exitUsage
	}
	switch args[0] {
	case "enroll":
		return cmdEnroll(ctx, args[1:], getenv, stdout, stderr)
	case "run":
		return cmdRun(ctx, args[1:], getenv, stdout, stderr)
	case "status":
		return cmdStatus(args[1:], getenv, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "restic-manager agent %s\n", version)
		return exitOK
	case "help", "-h", "--help":
		printUsage(stdout, getenv)
		return exitOK
	}
	if code, ok := serviceCommand(args, getenv, stdout, stderr); ok {
		return code
	}
	fmt.Fprintf(stderr, "agent: unknown command %q\n\n", args[0])
	printUsage(stderr, getenv)
	return exitUsage
}
