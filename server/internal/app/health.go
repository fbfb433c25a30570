package app

import (
	"context"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/restic-manager/restic-manager/common/buildinfo"
	"github.com/restic-manager/restic-manager/server/internal/health"
	"github.com/restic-manager/restic-manager/server/internal/metrics"
	"github.com/restic-manager/restic-manager/server/internal/notifications"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// newHealth builds the fleet-health parts: metrics, the notifier and the evaluator,
// wired so that a round that queues notifications wakes the notifier at once.
func (s *Server) newHealth() error {
	cfg := s.cfg
	if cfg.Metrics {
		s.Metrics = metrics.New(metrics.Config{Token: cfg.MetricsToken, OnlineWindow: 2*cfg.PollHold + cfg.LastSeenFlush + time.Minute,
			Version: buildinfo.Version()}, s.Store, s.Hub.Waiting, s.logger)
		s.Metrics.RegisterIngest(s.Ingest)
	}
	var noteHooks notifications.Hooks
	if s.Metrics != nil {
		noteHooks.Attempted = s.Metrics.NotificationAttempt
	}
	s.Notifier = notifications.New(notifications.Config{MaxAttempts: cfg.NotifyMaxAttempts, PublicURL: cfg.PublicURL},
		s.Store, s.logger, noteHooks)
	ev, err := health.New(health.Config{Interval: cfg.HealthInterval, OfflineAfter: cfg.OfflineAfter, Slack: cfg.ObjectiveSlack,
		DefaultObjective: cfg.DefaultObjective, MinResticVersion: cfg.MinResticVersion}, s.Store, s.logger,
		health.Hooks{AfterRound: func(out store.HealthOutcome, took time.Duration, err error) {
			if s.Metrics != nil {
				s.Metrics.HealthRound(out, took, err)
			}
			if err == nil && out.Deliveries > 0 {
				s.Notifier.Wake()
			}
		}})
	if err != nil {
		return err
	}
	s.Health = ev
	return nil
}

func (s *Server) middleware() []gin.HandlerFunc {
	if s.Metrics == nil {
		return nil
	}
	return []gin.HandlerFunc{s.Metrics.Middleware()}
}

// runHealth runs the evaluator (when its interval is set) and the notifier until ctx
// ends; the returned func waits for them.
func (s *Server) runHealth(ctx context.Context) func() {
	var wg sync.WaitGroup
	if s.cfg.HealthInterval > 0 {
		wg.Go(func() { s.Health.Run(ctx) })
		wg.Go(func() { s.Notifier.Run(ctx) })
	}
	return wg.Wait
}
