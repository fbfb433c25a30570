// Package app wires the server together: configuration, store, notification bus, hub,
// APIs and the HTTP server, and runs them until the context ends.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/restic-manager/restic-manager/common/buildinfo"
	"github.com/restic-manager/restic-manager/server/internal/agentapi"
	"github.com/restic-manager/restic-manager/server/internal/apispec"
	"github.com/restic-manager/restic-manager/server/internal/auth"
	"github.com/restic-manager/restic-manager/server/internal/browse"
	"github.com/restic-manager/restic-manager/server/internal/config"
	"github.com/restic-manager/restic-manager/server/internal/dispatch"
	"github.com/restic-manager/restic-manager/server/internal/health"
	"github.com/restic-manager/restic-manager/server/internal/httpapi"
	"github.com/restic-manager/restic-manager/server/internal/hub"
	"github.com/restic-manager/restic-manager/server/internal/ingest"
	"github.com/restic-manager/restic-manager/server/internal/lastseen"
	"github.com/restic-manager/restic-manager/server/internal/metrics"
	"github.com/restic-manager/restic-manager/server/internal/notifications"
	"github.com/restic-manager/restic-manager/server/internal/notify"
	"github.com/restic-manager/restic-manager/server/internal/operatorapi"
	"github.com/restic-manager/restic-manager/server/internal/secrets"
	"github.com/restic-manager/restic-manager/server/internal/store"
	"github.com/restic-manager/restic-manager/server/internal/webui"
	"github.com/restic-manager/restic-manager/web"
)

// OpenStore opens and migrates the configured database, creating the data directory
// and the server key on first start.
func OpenStore(ctx context.Context, cfg config.Config, logger *slog.Logger) (*store.Store, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("app: data dir: %w", err)
	}
	key, err := secrets.LoadOrCreateKey(cfg.SecretKey, cfg.KeyPath())
	if err != nil {
		return nil, err
	}
	box, err := secrets.NewBox(key)
	if err != nil {
		return nil, err
	}
	s, err := store.Open(ctx, store.Options{DatabaseURL: cfg.DatabaseURL, SQLitePath: cfg.SQLitePath(), Box: box, Logger: logger})
	if err != nil {
		return nil, err
	}
	v, err := s.Migrate(ctx)
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	logger.Info("database ready", "dialect", s.Dialect(), "schema_version", v)
	return s, nil
}

// Server is a running server's parts, exposed for tests and subcommands.
type Server struct {
	Store      *store.Store
	Hub        *hub.Hub
	Bus        notify.Bus
	Dispatcher *dispatch.Dispatcher
	Handler    http.Handler
	cfg        config.Config
	logger     *slog.Logger
	lastSeen   *lastseen.Batcher
	Ingest     *ingest.Writer
	agent      *agentapi.API
	closers    []func()
	// Browse coordinates browse, search, diff and download requests (package browse).
	Browse *browse.Service

	// Fleet health: the evaluator, the notification sender and the metrics (nil when
	// -metrics=false). Tests drive Health and Notifier with RunOnce.
	Health   *health.Evaluator
	Notifier *notifications.Notifier
	Metrics  *metrics.Metrics
}

// busHandler routes notifications to the hub and credential revocations to the agent API.
type busHandler struct {
	hub    *hub.Hub
	agent  func() *agentapi.API
	browse func() *browse.Service
}

func (b busHandler) Apply(ev notify.Event) {
	if ev.BrowseRequest != "" { // news of a browse request: wakes operators, not polls
		if s := b.browse(); s != nil {
			s.Wake(ev.BrowseRequest)
		}
		return
	}
	if ev.CredentialsChanged {
		if a := b.agent(); a != nil {
			a.ForgetHost(ev.HostID)
		}
	}
	b.hub.Apply(ev)
}

func (b busHandler) Reset() {
	b.hub.Reset()
	if s := b.browse(); s != nil {
		s.WakeAll()
	}
}

// Option adjusts a server built by New (tests use it to change protocol bounds).
type Option func(*agentapi.Config)

// New builds a server on an open store.
func New(ctx context.Context, cfg config.Config, s *store.Store, logger *slog.Logger, opts ...Option) (*Server, error) {
	srv := &Server{Store: s, cfg: cfg, logger: logger}
	srv.Hub = hub.New(s)
	handler := busHandler{hub: srv.Hub, agent: func() *agentapi.API { return srv.agent }, browse: func() *browse.Service { return srv.Browse }}
	if s.Dialect() == store.DialectPostgres {
		pg, err := notify.NewPostgres(ctx, cfg.DatabaseURL, handler, logger)
		if err != nil {
			return nil, err
		}
		srv.Bus = pg
		srv.closers = append(srv.closers, pg.Close)
	} else {
		srv.Bus = notify.NewLocal(handler)
	}
	srv.lastSeen = lastseen.New(s, cfg.LastSeenFlush, logger)
	srv.Dispatcher = dispatch.New(s, srv.Bus, logger)
	srv.Browse = browse.New(browse.Config{Wait: cfg.BrowseWait, DownloadMaxBytes: cfg.DownloadMaxBytes,
		DownloadRetention: cfg.DownloadRetention}, s, srv.Bus, logger.With("component", "browse"))
	agentCfg := agentapi.Config{
		PollHold: cfg.PollHold, Lease: cfg.CommandLease, ServerVersion: buildinfo.Version(),
		RecommendedAgentVersion: cfg.RecommendedAgentVersion, AgentPackageSource: cfg.AgentPackageSource,
		AgentChangelog: cfg.AgentChangelog,
	}
	for _, o := range opts {
		o(&agentCfg)
	}
	// SQLite has one connection: more than one flusher would only queue on it.
	ingestCfg := ingest.Config{}
	if s.Dialect() == store.DialectSQLite {
		ingestCfg.Flushers = 1
	}
	srv.Ingest = ingest.New(ingestCfg, s, logger.With("component", "ingest"))
	srv.agent = agentapi.New(agentCfg, s, srv.Hub, srv.Bus, srv.lastSeen, srv.Ingest, logger)
	authSvc := auth.New(auth.Config{SecureCookies: cfg.TLSCert != "" || strings.HasPrefix(cfg.PublicURL, "https://")}, s, logger)
	if err := authSvc.Bootstrap(ctx, cfg.AdminEmail, cfg.AdminPassword, cfg.PublicURL); err != nil {
		srv.Close()
		return nil, err
	}
	onlineWindow := 2*cfg.PollHold + cfg.LastSeenFlush + time.Minute
	if err := srv.newHealth(); err != nil {
		srv.Close()
		return nil, err
	}
	operator := operatorapi.New(operatorapi.Config{Version: buildinfo.Version(),
		OnlineWindow: onlineWindow, Notifier: srv.Notifier, Browse: srv.Browse, Restorer: srv.Dispatcher}, s, srv.Dispatcher, authSvc, logger)
	sqlDB, err := s.SQLDB()
	if err != nil {
		return nil, err
	}
	router, err := httpapi.New(httpapi.Options{
		Logger: logger, TrustedProxies: cfg.TrustedProxies, Agent: srv.agent, Operator: operator, DB: sqlDB, Version: buildinfo.Version(),
		Schema: s, Middleware: srv.middleware(),
		Extra: func(e *gin.Engine) {
			if srv.Metrics != nil {
				e.GET("/metrics", srv.Metrics.Handler())
			}
			apispec.Register(e)
			webui.Register(e, web.Dist())
		},
	})
	if err != nil {
		return nil, err
	}
	srv.Handler = router
	return srv, nil
}

// Close releases what New opened (not the store).
func (s *Server) Close() {
	for _, c := range s.closers {
		c()
	}
}

// Serve listens and serves until ctx ends, then shuts down gracefully. ready, when not
// nil, receives the bound address.
func (s *Server) Serve(ctx context.Context, ready func(addr net.Addr)) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("app: listen: %w", err)
	}
	if s.cfg.PprofListen != "" {
		_, stopPprof, err := servePprof(s.cfg.PprofListen, s.logger)
		if err != nil {
			_ = ln.Close()
			return err
		}
		defer stopPprof()
	}
	hs := &http.Server{
		Handler:           s.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		// Must exceed the longest poll hold (capped at 4 min by config) plus slack.
		WriteTimeout: 5 * time.Minute,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	if s.cfg.TLSCert != "" {
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		if err := s.Bus.Run(runCtx); err != nil {
			s.logger.Error("notification bus stopped", "err", err)
		}
	}()
	lastSeenDone := make(chan struct{})
	go func() {
		defer close(lastSeenDone)
		s.lastSeen.Run(runCtx)
	}()
	// Reports are written until the HTTP server has shut down (stop after Shutdown):
	// a request still in flight then is answered, not dropped.
	ingestDone := make(chan struct{})
	go func() {
		defer close(ingestDone)
		s.Ingest.Run(runCtx)
	}()
	healthDone := s.runHealth(runCtx)
	defer healthDone()
	go s.Browse.Run(runCtx) // expires unanswered browse requests, drops old download bytes

	errc := make(chan error, 1)
	go func() {
		if s.cfg.TLSCert != "" {
			errc <- hs.ServeTLS(ln, s.cfg.TLSCert, s.cfg.TLSKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	scheme := "http"
	if s.cfg.TLSCert != "" {
		scheme = "https"
	}
	s.logger.Info("server listening", "addr", ln.Addr().String(), "scheme", scheme, "version", buildinfo.Version())
	if ready != nil {
		ready(ln.Addr())
	}
	select {
	case err := <-errc:
		stop()
		<-lastSeenDone
		<-ingestDone
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("app: serve: %w", err)
	case <-ctx.Done():
	}
	s.logger.Info("shutting down")
	s.agent.Drain()
	s.Browse.Drain()
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	err = hs.Shutdown(shutCtx)
	stop()
	<-lastSeenDone
	<-ingestDone
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("app: shutdown: %w", err)
	}
	return nil
}

// WriteAddrFile writes the bound address for scripts that start the server on port 0.
func WriteAddrFile(path string, addr net.Addr) error {
	if path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("app: addr file: %w", err)
	}
	return os.WriteFile(path, []byte(strings.TrimSpace(addr.String())+"\n"), 0o644)
}
