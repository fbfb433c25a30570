// Package operatorapi serves the operator API under /api/v1/: accounts and sessions,
// API and enrollment tokens, hosts, repositories, schedules, jobs with their logs (and a
// live Server-Sent Events follow), snapshots, repository statistics and the audit log.
// Every route but login, setup and server info needs a session or an API token (see
// package auth); the role each route needs is in its swag annotations' description.
//
// Conventions: JSON bodies are decoded strictly with a size limit; errors are
// {code, message, details} with stable codes; every listing answers {items,
// next_cursor} and takes ?limit= (1–500, default 50) and ?cursor=; ids in paths that
// are not UUIDs answer 404; every state-changing action writes an audit entry.
package operatorapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/auth"
	"github.com/restic-manager/restic-manager/server/internal/browse"
	"github.com/restic-manager/restic-manager/server/internal/dispatch"
	"github.com/restic-manager/restic-manager/server/internal/httpx"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// Body limit of every operator request.
const limitBody = 64 << 10

// Stable error codes of the operator API (besides those of protocol and auth).
const (
	CodeLastAdmin          = "last_admin"
	CodeSetupDone          = "setup_done"
	CodeSetupTokenInvalid  = "setup_token_invalid"
	CodeHostDecommissioned = "host_decommissioned"
)

// Config tunes the operator API.
type Config struct {
	Version string
	// OnlineWindow: a host seen within it is online (default 2 min: several polls).
	OnlineWindow time.Duration
	// StreamPoll is how often a live log follow looks for news (default 1 s);
	// StreamHeartbeat how often it sends a comment to keep proxies from cutting it (15 s).
	StreamPoll      time.Duration
	StreamHeartbeat time.Duration
	// Notifier sends a channel's test message (health_*.go).
	Notifier NotificationTester
	// Browse answers browse, search, diff and download requests and Restorer queues
	// restores (browse_*.go); without Browse those routes are not mounted.
	Browse   *browse.Service
	Restorer Restorer
}

func (c *Config) defaults() {
	if c.OnlineWindow <= 0 {
		c.OnlineWindow = 2 * time.Minute
	}
	if c.StreamPoll <= 0 {
		c.StreamPoll = time.Second
	}
	if c.StreamHeartbeat <= 0 {
		c.StreamHeartbeat = 15 * time.Second
	}
}

// Dispatcher performs the changes an agent must hear about.
type Dispatcher interface {
	EnqueueRun(ctx context.Context, hostID string, req store.RunRequest) (store.Job, error)
	CancelJob(ctx context.Context, hostID, jobID, reason string) (store.Job, error)
	CreateRepository(ctx context.Context, hostID string, in store.RepositoryInput) (store.Repository, error)
	UpdateRepository(ctx context.Context, hostID, id string, in store.RepositoryUpdate) (store.Repository, error)
	DeleteRepository(ctx context.Context, hostID, id string) error
	CreateSchedule(ctx context.Context, hostID string, in store.ScheduleInput) (store.Schedule, error)
	UpdateSchedule(ctx context.Context, hostID, id string, in store.ScheduleInput) (store.Schedule, error)
	DeleteSchedule(ctx context.Context, hostID, id string) error
	DecommissionHost(ctx context.Context, hostID string) (store.Host, error)
}

var _ Dispatcher = (*dispatch.Dispatcher)(nil)

// API holds the operator handlers.
type API struct {
	cfg    Config
	store  *store.Store
	disp   Dispatcher
	auth   *auth.Service
	logger *slog.Logger
	now    func() time.Time
}

// New returns the operator API.
func New(cfg Config, s *store.Store, d Dispatcher, a *auth.Service, logger *slog.Logger) *API {
	cfg.defaults()
	return &API{cfg: cfg, store: s, disp: d, auth: a, logger: logger, now: time.Now}
}

// Register mounts the routes on g, the /api/v1 group.
func (a *API) Register(g *gin.RouterGroup) {
	g.GET("/info", a.info)
	g.POST("/auth/login", a.login)
	g.POST("/auth/setup", a.setup)

	authed := g.Group("", a.auth.Authenticate)
	authed.POST("/auth/logout", a.logout)
	authed.GET("/auth/me", a.me)
	authed.POST("/auth/password", a.changePassword)
	authed.GET("/auth/sessions", a.listSessions)
	authed.DELETE("/auth/sessions/:id", a.revokeSession)

	view := authed.Group("", auth.Require(store.RoleViewer))
	view.GET("/hosts", a.listHosts)
	view.GET("/hosts/summary", a.hostSummary)
	view.GET("/hosts/:id", a.getHost)
	view.GET("/hosts/:id/repositories", a.listRepositories)
	view.GET("/hosts/:id/repositories/:rid", a.getRepository)
	view.GET("/hosts/:id/repositories/:rid/snapshots", a.listSnapshots)
	view.GET("/hosts/:id/repositories/:rid/stats", a.repositoryStats)
	view.GET("/hosts/:id/schedules", a.listSchedules)
	view.GET("/hosts/:id/schedules/:sid", a.getSchedule)
	view.GET("/schedules/preview", a.previewCron)
	view.GET("/jobs", a.listJobs)
	view.GET("/jobs/:id", a.getJob)
	view.GET("/jobs/:id/logs", a.jobLogs)
	view.GET("/jobs/:id/events", a.jobEvents)
	view.GET("/api-tokens", a.listAPITokens)

	op := authed.Group("", auth.Require(store.RoleOperator))
	op.PATCH("/hosts/:id", a.updateHost)
	op.POST("/hosts/:id/decommission", a.decommissionHost)
	op.POST("/hosts/:id/repositories", a.createRepository)
	op.PATCH("/hosts/:id/repositories/:rid", a.updateRepository)
	op.DELETE("/hosts/:id/repositories/:rid", a.deleteRepository)
	op.POST("/hosts/:id/repositories/:rid/test", a.testRepository)
	op.POST("/hosts/:id/schedules", a.createSchedule)
	op.PUT("/hosts/:id/schedules/:sid", a.replaceSchedule)
	op.DELETE("/hosts/:id/schedules/:sid", a.deleteSchedule)
	op.POST("/hosts/:id/schedules/:sid/enable", a.enableSchedule)
	op.POST("/hosts/:id/schedules/:sid/disable", a.disableSchedule)
	op.POST("/hosts/:id/schedules/:sid/run", a.runSchedule)
	op.POST("/hosts/:id/jobs", a.runJob)
	op.POST("/jobs/:id/cancel", a.cancelJob)
	op.GET("/enrollment-tokens", a.listEnrollmentTokens)
	op.POST("/enrollment-tokens", a.createEnrollmentToken)
	op.DELETE("/enrollment-tokens/:id", a.revokeEnrollmentToken)
	op.POST("/api-tokens", a.createAPIToken)
	op.DELETE("/api-tokens/:id", a.revokeAPIToken)

	admin := authed.Group("", auth.Require(store.RoleAdmin))
	admin.GET("/users", a.listUsers)
	admin.POST("/users", a.createUser)
	admin.GET("/users/:id", a.getUser)
	admin.PATCH("/users/:id", a.updateUser)
	admin.DELETE("/users/:id", a.deleteUser)
	admin.DELETE("/users/:id/sessions", a.revokeUserSessions)
	admin.GET("/audit", a.listAudit)

	a.registerHealth(view, op)
	a.registerBrowse(g, view, op)
}

// fail maps the operator API's own sentinel errors, then answers like httpx.Fail.
func fail(c *gin.Context, err error) {
	switch {
	case errors.Is(err, store.ErrLastAdmin):
		err = httpx.Errorf(http.StatusConflict, CodeLastAdmin, "%s", store.ErrLastAdmin.Error())
	case errors.Is(err, store.ErrSetupDone):
		err = httpx.Errorf(http.StatusConflict, CodeSetupDone, "%s", store.ErrSetupDone.Error())
	case errors.Is(err, store.ErrSetupTokenInvalid):
		err = httpx.Errorf(http.StatusUnauthorized, CodeSetupTokenInvalid, "%s", store.ErrSetupTokenInvalid.Error())
	}
	httpx.Fail(c, err)
}

// principal returns the authenticated principal (routes behind Authenticate only).
func principal(c *gin.Context) auth.Principal {
	p, _ := auth.PrincipalOf(c)
	return p
}

// audit records a state-changing action by the request's principal. A failure is
// logged: the action already happened and is not undone.
func (a *API) audit(c *gin.Context, action, targetType, targetID string, details map[string]any) {
	e := store.AuditEntry{Action: action, TargetType: targetType, TargetID: targetID, RemoteAddr: c.ClientIP(), Details: details}
	if p, ok := auth.PrincipalOf(c); ok {
		e.ActorType, e.ActorID, e.ActorName = p.Actor()
	} else {
		e.ActorType = store.AuditActorAnonymous
	}
	a.auditEntry(c.Request.Context(), e)
}

func (a *API) auditEntry(ctx context.Context, e store.AuditEntry) {
	if err := a.store.AddAudit(context.WithoutCancel(ctx), e); err != nil {
		a.logger.Error("audit entry not written", "action", e.Action, "target", e.TargetID, "err", err)
	}
}

// pathID reads a UUID path parameter; anything else is an unknown id (404).
func pathID(c *gin.Context, name string) (string, bool) {
	id := c.Param(name)
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		httpx.Fail(c, httpx.ErrNotFound)
		return "", false
	}
	return id, true
}

// page reads ?limit= and ?cursor=.
func page(c *gin.Context) (store.PageRequest, bool) {
	p := store.PageRequest{Cursor: c.Query("cursor")}
	if raw := c.Query("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > store.MaxPageLimit {
			httpx.Fail(c, fieldError("limit", "must be an integer from 1 to %d", store.MaxPageLimit))
			return p, false
		}
		p.Limit = n
	}
	if len(p.Cursor) > 1024 {
		httpx.Fail(c, fieldError("cursor", "is not one this server issued"))
		return p, false
	}
	return p, true
}

// queryTime reads an optional RFC 3339 time from the query.
func queryTime(c *gin.Context, name string) (time.Time, bool) {
	raw := c.Query(name)
	if raw == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		httpx.Fail(c, fieldError(name, "must be an RFC 3339 time such as 2024-05-01T00:00:00Z"))
		return time.Time{}, false
	}
	return t, true
}

func fieldError(field, format string, args ...any) *httpx.Error {
	e := httpx.Validation(field+": "+format, args...)
	e.Details = map[string]string{"field": field}
	return e
}

// decode reads the JSON body strictly.
func decode(c *gin.Context, v any) bool {
	if err := httpx.Decode(c, limitBody, v); err != nil {
		httpx.Fail(c, err)
		return false
	}
	return true
}

// decodeOptional reads a JSON body when there is one.
func decodeOptional(c *gin.Context, v any) bool {
	if c.Request.ContentLength == 0 {
		return true
	}
	return decode(c, v)
}

// hostFor loads the host of a path; writable refuses a decommissioned host.
func (a *API) hostFor(c *gin.Context, writable bool) (store.Host, bool) {
	id, ok := pathID(c, "id")
	if !ok {
		return store.Host{}, false
	}
	h, err := a.store.Host(c.Request.Context(), id)
	if err != nil {
		fail(c, err)
		return store.Host{}, false
	}
	if writable && h.DecommissionedAt != nil {
		httpx.Fail(c, httpx.Errorf(http.StatusConflict, CodeHostDecommissioned, "the host is decommissioned"))
		return store.Host{}, false
	}
	return h, true
}

func (a *API) onlineSince() time.Time { return a.now().Add(-a.cfg.OnlineWindow) }

// info describes the server.
//
//	@Summary		Server info
//	@Description	Version and protocol versions, and whether the first admin still has to be created. Needs no authentication.
//	@Tags			server
//	@Produce		json
//	@Success		200	{object}	Info
//	@Router			/info [get]
func (a *API) info(c *gin.Context) {
	n, err := a.store.CountUsers(c.Request.Context())
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, Info{Version: a.cfg.Version, ProtocolVersion: protocol.Version, MinProtocolVersion: protocol.MinVersion,
		SetupRequired: n == 0, ServerTime: a.now().UTC()})
}
