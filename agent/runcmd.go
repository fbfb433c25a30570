package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/restic-manager/restic-manager/agent/internal/client"
	"github.com/restic-manager/restic-manager/agent/internal/config"
	"github.com/restic-manager/restic-manager/agent/internal/daemon"
	"github.com/restic-manager/restic-manager/agent/internal/hooks"
	"github.com/restic-manager/restic-manager/agent/internal/restic"
	"github.com/restic-manager/restic-manager/agent/internal/state"
)

func cmdRun(ctx context.Context, args []string, getenv func(string) string, _ io.Writer, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgFlag := fs.String("config", "", "config file (default "+configPath("", getenv)+")")
	logFormat := fs.String("log-format", "json", "log format: json or text")
	logFile := fs.String("log-file", "", "append logs to this file instead of stderr")
	jitter := fs.Duration("startup-jitter", 10*time.Second, "largest random delay before the first contact (0 disables)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	path := configPath(*cfgFlag, getenv)
	cfg, err := config.Load(path)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintf(stderr, "agent run: config %s: %v\n", path, err)
		return exitConfig
	}

	out := stderr
	if *logFile != "" {
		f, err := os.OpenFile(*logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			fmt.Fprintf(stderr, "agent run: log file: %v\n", err)
			return exitError
		}
		defer f.Close()
		out = f
	}
	level := new(slog.LevelVar)
	if cfg.LogLevel != "" {
		var l slog.Level
		if err := l.UnmarshalText([]byte(strings.ToUpper(strings.Replace(cfg.LogLevel, "warning", "warn", 1)))); err == nil {
			level.Set(l)
		}
	}
	var handler slog.Handler
	if *logFormat == "text" {
		handler = slog.NewTextHandler(out, &slog.HandlerOptions{Level: level})
	} else {
		handler = slog.NewJSONHandler(out, &slog.HandlerOptions{Level: level})
	}
	logger := slog.New(handler)

	if *jitter <= 0 {
		*jitter = -1 // daemon.Config: negative disables
	}
	if err := runDaemon(ctx, cfg, logger, level, *jitter); err != nil {
		logger.Error("agent stopped", "error", err)
		if errors.Is(err, daemon.ErrRevoked) || errors.Is(err, daemon.ErrProtocol) {
			return exitConfig
		}
		return exitError
	}
	return exitOK
}

// runDaemon wires the service together and runs it until ctx is done.
func runDaemon(ctx context.Context, cfg *config.Config, logger *slog.Logger, level *slog.LevelVar, jitter time.Duration) error {
	logger.Info("agent starting", "version", version, "config", cfg)
	store, err := state.Open(cfg.StateDir)
	if err != nil {
		return err
	}
	api, err := client.New(client.Options{
		BaseURL: cfg.ServerURL, Credential: cfg.Credential, CAFile: cfg.CAFile,
		UserAgent: userAgent(), Logger: logger.With("component", "client"),
	})
	if err != nil {
		return err
	}
	runner := restic.New(cfg.ResticBinary, logger.With("component", "restic"))
	runner.CacheDir = filepath.Join(cfg.StateDir, "cache")
	hostname, _ := os.Hostname()
	d, err := daemon.New(daemon.Config{
		HostID: cfg.HostID, ServerURL: cfg.ServerURL, Hostname: hostname,
		OS: runtime.GOOS, Arch: runtime.GOARCH, AgentVersion: version, StartupJitter: jitter,
	}, daemon.Deps{
		API: api, Runner: runner, Hooks: hooks.New(hookMap(cfg)), Validate: restic.ValidateSpec,
		Store: store, Logger: logger, Level: level,
	})
	if err != nil {
		return err
	}
	return d.Run(ctx)
}

func hookMap(cfg *config.Config) map[string]hooks.Hook {
	out := make(map[string]hooks.Hook, len(cfg.Hooks))
	for name, h := range cfg.Hooks {
		out[name] = hooks.Hook{Command: h.Command, Timeout: h.HookTimeout()}
	}
	return out
}
