// Package httpapi assembles the server's HTTP router: middleware shared by every API
// (request logging, panic recovery to a JSON 500, trusted proxies), health checks, and
// the mounting points of the agent and operator APIs.
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/httpx"
)

// Mounter adds routes to a group.
type Mounter interface {
	Register(g *gin.RouterGroup)
}

// Pinger checks the database.
type Pinger interface {
	PingContext(ctx context.Context) error
}

// SchemaChecker tells whether every embedded migration has been applied.
type SchemaChecker interface {
	SchemaVersion(ctx context.Context) (int64, error)
	LatestSchemaVersion() (int64, error)
}

// Options configure the router.
type Options struct {
	Logger         *slog.Logger
	TrustedProxies []string
	Agent          Mounter // mounted at /api/v1/agent
	Operator       Mounter // mounted at /api/v1
	DB             Pinger
	Schema         SchemaChecker     // when set, /readyz also needs every migration applied
	Middleware     []gin.HandlerFunc // run for every request after logging and recovery (metrics)
	Version        string
	Extra          func(e *gin.Engine) // static assets, docs
}

// New returns the router.
func New(o Options) (*gin.Engine, error) {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	if err := e.SetTrustedProxies(o.TrustedProxies); err != nil {
		return nil, fmt.Errorf("httpapi: trusted proxies: %w", err)
	}
	e.Use(requestLog(o.Logger), recovery(o.Logger))
	e.Use(o.Middleware...)
	e.NoRoute(httpx.NoRoute)
	e.NoMethod(httpx.NoMethod)

	e.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok", "version": o.Version}) })
	e.GET("/readyz", func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		if err := o.DB.PingContext(ctx); err != nil {
			c.JSON(http.StatusServiceUnavailable, protocol.Error{Code: "database_unavailable", Message: "database unreachable"})
			return
		}
		if o.Schema != nil {
			have, err := o.Schema.SchemaVersion(ctx)
			want, werr := o.Schema.LatestSchemaVersion()
			if err != nil || werr != nil || have < want {
				c.JSON(http.StatusServiceUnavailable, protocol.Error{Code: "migrations_pending",
					Message: fmt.Sprintf("database schema at version %d, this server needs %d: run `server migrate`", have, want)})
				return
			}
		}
		c.JSON(http.StatusOK, gin.H{"status": "ready"})
	})
	if o.Agent != nil {
		o.Agent.Register(e.Group("/api/v1/agent"))
	}
	if o.Operator != nil {
		o.Operator.Register(e.Group("/api/v1"))
	}
	if o.Extra != nil {
		o.Extra(e)
	}
	return e, nil
}

func requestLog(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelDebug
		switch {
		case status >= 500:
			level = slog.LevelError
		case status >= 400:
			level = slog.LevelInfo
		}
		if !logger.Enabled(c.Request.Context(), level) {
			return // the common case: a successful request below the log level
		}
		attrs := []any{"method", c.Request.Method, "path", c.FullPath(), "status", status,
			"duration_ms", time.Since(start).Milliseconds(), "client", c.ClientIP()}
		if len(c.Errors) > 0 {
			attrs = append(attrs, "err", c.Errors.String())
		}
		// The raw path and query are not logged: they may hold ids operators consider
		// private, and never hold secrets, which travel only in headers and bodies.
		logger.Log(c.Request.Context(), level, "http request", attrs...)
	}
}

func recovery(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				logger.Error("panic in handler", "path", c.FullPath(), "panic", fmt.Sprint(r))
				c.AbortWithStatusJSON(http.StatusInternalServerError, protocol.Error{Code: protocol.CodeInternal, Message: "internal error"})
			}
		}()
		c.Next()
	}
}
