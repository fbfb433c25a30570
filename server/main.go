// Command server is the Restic Manager server: it keeps the fleet's state, serves the
// agent protocol, the operator API and the web UI.
//
//	server [serve] [flags]          run the server (default)
//	server migrate [flags]          apply database migrations and exit
//	server enroll-token [flags]     create an enrollment token and print it
//	server version                  print the version
//
//	@title						Restic Manager API
//	@version					1
//	@description				Operator and agent APIs of Restic Manager, a fleet backup manager for restic.
//	@BasePath					/api/v1
//	@securityDefinitions.apikey	AgentCredential
//	@in							header
//	@name						Authorization
//	@description				"Bearer <host credential>" from enrolment.
//	@securityDefinitions.apikey	OperatorToken
//	@in							header
//	@name						Authorization
//	@description				"Bearer <API token>": an operator API token (rmt_...) created with POST /api-tokens. Its role is the lower of its own and its owner's.
//	@securityDefinitions.apikey	SessionCSRF
//	@in							header
//	@name						X-CSRF-Token
//	@description				Browser session from POST /auth/login: the HttpOnly cookie rm_session authenticates; state-changing requests must also send the session's CSRF token (the login answer's csrf_token, also in the rm_csrf cookie) in this header.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/restic-manager/restic-manager/common/buildinfo"
	"github.com/restic-manager/restic-manager/server/internal/app"
	"github.com/restic-manager/restic-manager/server/internal/config"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "server:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stderr)
	case "migrate":
		return migrate(ctx, args, getenv, stdout, stderr)
	case "enroll-token":
		return enrollToken(ctx, args, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, buildinfo.Version())
		return nil
	default:
		return fmt.Errorf("unknown command %q (serve, migrate, enroll-token, version)", cmd)
	}
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := config.Load(args, getenv, stderr)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	logger.Info("starting", "config", cfg.String())
	s, err := app.OpenStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer s.Close()
	srv, err := app.New(ctx, cfg, s, logger)
	if err != nil {
		return err
	}
	defer srv.Close()
	return srv.Serve(ctx, func(addr net.Addr) {
		if err := app.WriteAddrFile(cfg.AddrFile, addr); err != nil {
			logger.Error("addr file", "err", err)
		}
	})
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(args, getenv, stderr)
	if err != nil {
		return err
	}
	s, err := app.OpenStore(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintln(stdout, "migrations applied")
	return nil
}

func enrollToken(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("enroll-token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid")
	uses := fs.Int("uses", 1, "how many hosts may enrol with it")
	desc := fs.String("description", "", "what the token is for")
	// The remaining flags are the server's own (database, data dir).
	var rest []string
	for i := 0; i < len(args); i++ {
		name := strings.TrimLeft(strings.SplitN(args[i], "=", 2)[0], "-")
		if name == "ttl" || name == "uses" || name == "description" {
			if err := fs.Parse(args[i : i+min(2, len(args)-i)]); err != nil {
				return err
			}
			if !strings.Contains(args[i], "=") {
				i++
			}
			continue
		}
		rest = append(rest, args[i])
	}
	cfg, err := config.Load(rest, getenv, stderr)
	if err != nil {
		return err
	}
	s, err := app.OpenStore(ctx, cfg, newLogger(cfg, io.Discard))
	if err != nil {
		return err
	}
	defer s.Close()
	tok, rec, err := s.CreateEnrollmentToken(ctx, store.NewEnrollmentToken{Description: *desc, CreatedBy: "cli", TTL: *ttl, MaxUses: *uses})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "enrollment token %s: valid until %s for %d host(s)\n", rec.ID, rec.ExpiresAt.Format(time.RFC3339), rec.MaxUses)
	fmt.Fprintln(stdout, tok)
	return nil
}
