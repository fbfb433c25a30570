//go:build windows

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"
)

const (
	serviceName    = "restic-manager-agent"
	serviceDisplay = "restic-manager agent"
	serviceUsage   = `  service-install    register "agent run" as a Windows service (automatic start)
  service-uninstall  remove the Windows service
`
)

const startHint = "Start the service: agent service-install, then: Start-Service restic-manager-agent"

// runService runs the agent under the Service Control Manager when it started us.
func runService(args []string) (int, bool) {
	isService, err := svc.IsWindowsService()
	if err != nil || !isService {
		return 0, false
	}
	h := &serviceHandler{args: serviceArgs(args)}
	if err := svc.Run(serviceName, h); err != nil {
		return exitError, true
	}
	return h.code, true
}

// serviceArgs makes sure the service runs "run" and logs to a file (it has no console).
func serviceArgs(args []string) []string {
	if len(args) == 0 || args[0] != "run" {
		args = append([]string{"run"}, args...)
	}
	hasLog := false
	for _, a := range args {
		if a == "--log-file" || a == "-log-file" || len(a) > 11 && (a[:11] == "--log-file=" || a[:10] == "-log-file=") {
			hasLog = true
		}
	}
	if !hasLog {
		logFile := defaultPaths(os.Getenv).LogFile
		_ = os.MkdirAll(filepath.Dir(logFile), 0o700)
		args = append(args, "--log-file", logFile)
	}
	return args
}

type serviceHandler struct {
	args []string
	code int
}

// Execute implements svc.Handler.
func (h *serviceHandler) Execute(_ []string, requests <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- run(ctx, h.args, os.Getenv, io.Discard, io.Discard) }()
	accepts := svc.AcceptStop | svc.AcceptShutdown
	status <- svc.Status{State: svc.Running, Accepts: accepts}
	for {
		select {
		case code := <-done:
			h.code = code
			return false, uint32(code)
		case req := <-requests:
			switch req.Cmd {
			case svc.Interrogate:
				status <- req.CurrentStatus
			case svc.Stop, svc.Shutdown:
				status <- svc.Status{State: svc.StopPending, WaitHint: uint32((90 * time.Second).Milliseconds())}
				cancel()
			}
		}
	}
}

// serviceCommand handles service-install and service-uninstall.
func serviceCommand(args []string, getenv func(string) string, stdout, stderr io.Writer) (int, bool) {
	switch args[0] {
	case "service-install":
		fs := flag.NewFlagSet("service-install", flag.ContinueOnError)
		fs.SetOutput(stderr)
		cfgFlag := fs.String("config", "", "config file the service uses (default "+configPath("", getenv)+")")
		if err := fs.Parse(args[1:]); err != nil {
			return exitUsage, true
		}
		if err := installService(configPath(*cfgFlag, getenv)); err != nil {
			fmt.Fprintf(stderr, "agent service-install: %v\n", err)
			return exitError, true
		}
		fmt.Fprintf(stdout, "Service %s installed; start it with: Start-Service %s\n", serviceName, serviceName)
		return exitOK, true
	case "service-uninstall":
		if err := uninstallService(); err != nil {
			fmt.Fprintf(stderr, "agent service-uninstall: %v\n", err)
			return exitError, true
		}
		fmt.Fprintf(stdout, "Service %s removed.\n", serviceName)
		return exitOK, true
	}
	return 0, false
}

func installService(configFile string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find executable: %w", err)
	}
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connect to the service manager (run as Administrator): %w", err)
	}
	defer m.Disconnect()
	if s, err := m.OpenService(serviceName); err == nil {
		s.Close()
		return errors.New("service " + serviceName + " already exists")
	}
	s, err := m.CreateService(serviceName, exe, mgr.Config{
		DisplayName:      serviceDisplay,
		Description:      "Runs restic backups for restic-manager; talks to the server over outbound HTTPS only.",
		StartType:        mgr.StartAutomatic,
		DelayedAutoStart: true,
	}, "run", "--config", configFile)
	if err != nil {
		return fmt.Errorf("create service: %w", err)
	}
	defer s.Close()
	// Restart after a crash, but not in a tight loop.
	_ = s.SetRecoveryActions([]mgr.RecoveryAction{
		{Type: mgr.ServiceRestart, Delay: 30 * time.Second},
		{Type: mgr.ServiceRestart, Delay: 2 * time.Minute},
		{Type: mgr.ServiceRestart, Delay: 10 * time.Minute},
	}, uint32((24 * time.Hour).Seconds()))
	return nil
}

func uninstallService() error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connect to the service manager (run as Administrator): %w", err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(serviceName)
	if err != nil {
		return fmt.Errorf("open service: %w", err)
	}
	defer s.Close()
	if err := s.Delete(); err != nil {
		return fmt.Errorf("delete service: %w", err)
	}
	return nil
}
