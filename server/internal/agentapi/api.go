// Package agentapi serves the agent protocol under /api/v1/agent/: enrolment, hello, the
// long poll, command acknowledgements and job, schedule and repository reports. The
// contract is documented in common/protocol and docs/protocol.md.
package agentapi

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/hub"
	"github.com/restic-manager/restic-manager/server/internal/notify"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// Body limits per endpoint class.
const (
	limitSmall     = 64 << 10
	limitLogs      = 4 << 20
	limitFinish    = 2 << 20
	limitSnapshots = 32 << 20
)

// Config sets the pace of the protocol.
type Config struct {
	// PollHold is how long an idle poll is held (default 50 s, as GitLab Runner's and
	// GitHub Actions' long polls: the agent asks for wait = hold + 5 s, below the 60 s
	// idle cut of common proxies).
	PollHold time.Duration
	// Lease is how long a delivered command waits for its acknowledgement before it is
	// delivered again.
	Lease                   time.Duration
	ProgressInterval        time.Duration
	LogInterval             time.Duration
	ServerVersion           string
	RecommendedAgentVersion string
	AgentPackageSource      string
	AgentChangelog          string
	CredentialCacheTTL      time.Duration
	// MinProtocol and MaxProtocol bound the versions this server speaks (defaults:
	// protocol.MinVersion and protocol.Version).
	MinProtocol, MaxProtocol int
}

func (c *Config) defaults() {
	if c.PollHold <= 0 {
		c.PollHold = 50 * time.Second
	}
	if c.Lease <= 0 {
		c.Lease = time.Minute
	}
	if c.ProgressInterval <= 0 {
		c.ProgressInterval = time.Second
	}
	if c.LogInterval <= 0 {
		c.LogInterval = 2 * time.Second
	}
	if c.MinProtocol <= 0 {
		c.MinProtocol = protocol.MinVersion
	}
	if c.MaxProtocol <= 0 {
		c.MaxProtocol = protocol.Version
	}
	if c.CredentialCacheTTL <= 0 {
		c.CredentialCacheTTL = 5 * time.Minute
	}
}

// Toucher records that a host was seen, cheaply.
type Toucher interface {
	Touch(hostID string, t time.Time)
}

// Reporter stores job reports (progress, log batches), grouping concurrent ones
// (implemented by *ingest.Writer).
type Reporter interface {
	Submit(ctx context.Context, r store.JobReport) (store.JobReportResult, error)
}

// API holds the agent protocol handlers.
type API struct {
	cfg       Config
	store     *store.Store
	hub       *hub.Hub
	bus       notify.Bus
	lastSeen  Toucher
	reports   Reporter
	creds     *credCache
	logger    *slog.Logger
	versions  *agentVersions
	idle      idleBody      // the answer to a poll without news, pre-encoded (pollbody.go)
	holds     *holdClock    // when held polls end (holdclock.go)
	noHold    chan struct{} // closed: the end of a hold of 0
	draining  chan struct{}
	drainOnce sync.Once
}

// New returns the agent API.
func New(cfg Config, s *store.Store, h *hub.Hub, bus notify.Bus, lastSeen Toucher, reports Reporter, logger *slog.Logger) *API {
	cfg.defaults()
	a := &API{cfg: cfg, store: s, hub: h, bus: bus, lastSeen: lastSeen, reports: reports, creds: newCredCache(cfg.CredentialCacheTTL),
		logger: logger, versions: newAgentVersions(), draining: make(chan struct{})}
	idle, err := newIdleBody(a.pacing(cfg.PollHold), a.updateNotice())
	if err != nil { // not expected: idle polls are then answered by c.JSON
		logger.Warn("agentapi: idle poll answers are encoded per request", "err", err)
	}
	a.idle = idle
	a.holds = newHoldClock(holdTick)
	a.noHold = make(chan struct{})
	close(a.noHold)
	return a
}

// Drain answers every held poll at once (with no news) and makes new polls answer
// without holding: called when the server shuts down, so agents reconnect promptly.
func (a *API) Drain() { a.drainOnce.Do(func() { close(a.draining) }) }

// ForgetHost drops cached credentials of a host (after a revocation).
func (a *API) ForgetHost(hostID string) { a.creds.ForgetHost(hostID) }

// Register mounts the routes on g, which should be the /api/v1/agent group.
func (a *API) Register(g *gin.RouterGroup) {
	g.POST("/enroll", a.enroll)
	authed := g.Group("", a.authenticate)
	authed.POST("/hello", a.hello)
	g.GET("/poll", a.poll) // authenticates itself (poll.go)
	authed.POST("/commands/:id/result", a.commandResult)
	authed.POST("/jobs/:id/start", a.jobStart)
	authed.POST("/jobs/:id/progress", a.jobProgress)
	authed.POST("/jobs/:id/logs", a.jobLogs)
	authed.POST("/jobs/:id/finish", a.jobFinish)
	authed.POST("/schedules/ack", a.scheduleAck)
	authed.POST("/schedules/:id/fire", a.scheduleFire)
	authed.POST("/repositories/:id/snapshots", a.repoSnapshots)
	authed.POST("/repositories/:id/stats", a.repoStats)
	a.registerBrowse(authed) // browse_reports.go
}

func (a *API) pacing(hold time.Duration) protocol.Pacing {
	return protocol.Pacing{
		PollHoldSeconds:         int(hold / time.Second),
		ProgressIntervalSeconds: int(a.cfg.ProgressInterval / time.Second),
		LogIntervalSeconds:      int(a.cfg.LogInterval / time.Second),
	}
}

// jitter takes up to 1/16 off d, so that polls of a fleet drift apart. It shortens
// rather than lengthens: agents ask for wait = hold + 5 s, which caps the hold at
// exactly the configured value, so added jitter would never apply.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d - rand.N(d/16+1)
}

func (a *API) publish(ctx context.Context, ev notify.Event) {
	if err := a.bus.Publish(context.WithoutCancel(ctx), ev); err != nil {
		a.logger.Warn("agentapi: publish failed", "host", ev.HostID, "err", err)
	}
}
