// Package browse answers operators who browse, search, diff and download snapshots
// through the hosts' agents, which only make outbound requests.
//
// A question the cache cannot answer becomes a browse request: a row in the database and
// a command.browse on the host's long poll (in one transaction), then a wake-up on the
// notification bus so the poll is answered at once on whichever replica holds it. The
// agent runs restic and posts the outcome to any replica, which stores it and publishes
// a wake-up naming the request; the replica holding the operator's HTTP request wakes and
// reads the outcome from the database. Every waiter also re-reads the database every
// second: a notification is only a hint.
//
// Listings are cached per (repository, snapshot, directory) in compressed chunks and
// never expire (snapshots are immutable); an index stores every directory of a snapshot
// at once, so it browses and searches by name without restic. Find and diff results are
// kept with their request. Download bytes are relayed through the database in chunks,
// so the agent may post to one replica while the browser reads from another, and a
// browser that lost its connection resumes with a new ticket and a Range header.
package browse

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/restic-manager/restic-manager/server/internal/notify"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// Config tunes the service. Zero values take defaults.
type Config struct {
	// Wait is how long an operator request waits for the agent by default (25 s);
	// MaxWait bounds what a client may ask for (60 s).
	Wait, MaxWait time.Duration
	// RequestTTL: a request the agent has not answered, or has gone silent on, for this
	// long fails (10 min).
	RequestTTL time.Duration
	// DownloadMaxBytes limits one download (4 GiB); DownloadRetention is how long its
	// bytes stay in the database (1 h); TicketTTL how long a ticket may wait for its
	// use (5 min).
	DownloadMaxBytes  int64
	DownloadRetention time.Duration
	TicketTTL         time.Duration
	// FindCacheTTL is how long a find over every snapshot is reused (1 min); a find in
	// one snapshot and a diff are reused for good.
	FindCacheTTL time.Duration
	// MaxResults bounds the matches of a find and the changes of a diff (10 000).
	MaxResults int
	// Recheck is how often a waiter re-reads the database without a wake-up (1 s).
	Recheck time.Duration
	// JanitorInterval is how often expired requests and downloads are cleaned (30 s).
	JanitorInterval time.Duration
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Wait, 25*time.Second)
	def(&c.MaxWait, 60*time.Second)
	def(&c.RequestTTL, 10*time.Minute)
	def(&c.DownloadRetention, time.Hour)
	def(&c.TicketTTL, 5*time.Minute)
	def(&c.FindCacheTTL, time.Minute)
	def(&c.Recheck, time.Second)
	def(&c.JanitorInterval, 30*time.Second)
	if c.DownloadMaxBytes <= 0 {
		c.DownloadMaxBytes = 4 << 30
	}
	if c.MaxResults <= 0 {
		c.MaxResults = 10_000
	}
	c.Wait = min(c.Wait, c.MaxWait)
}

// Service coordinates browse requests. It is safe for concurrent use.
type Service struct {
	cfg    Config
	store  *store.Store
	bus    notify.Bus
	logger *slog.Logger

	mu      sync.Mutex
	waiters map[string]map[chan struct{}]struct{}

	draining  chan struct{}
	drainOnce sync.Once
}

// Drain makes every waiting operator request answer now (202, or what it has) and new
// ones not wait: the server shuts down.
func (s *Service) Drain() { s.drainOnce.Do(func() { close(s.draining) }) }

// New returns a Service.
func New(cfg Config, s *store.Store, bus notify.Bus, logger *slog.Logger) *Service {
	cfg.defaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, store: s, bus: bus, logger: logger, waiters: map[string]map[chan struct{}]struct{}{},
		draining: make(chan struct{})}
}

// Config returns the effective configuration.
func (s *Service) Config() Config { return s.cfg }

// Wake wakes whoever waits for news of a request (called for bus events).
func (s *Service) Wake(requestID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.waiters[requestID] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// WakeAll wakes every waiter (events may have been lost).
func (s *Service) WakeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, set := range s.waiters {
		for ch := range set {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}

// subscribe registers for wake-ups of a request; subscribe before reading its state.
func (s *Service) subscribe(id string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	set := s.waiters[id]
	if set == nil {
		set = map[chan struct{}]struct{}{}
		s.waiters[id] = set
	}
	set[ch] = struct{}{}
	s.mu.Unlock()
	return ch, func() {
		s.mu.Lock()
		delete(s.waiters[id], ch)
		if len(s.waiters[id]) == 0 {
			delete(s.waiters, id)
		}
		s.mu.Unlock()
	}
}

// Waiting returns the number of waiting operator requests.
func (s *Service) Waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, set := range s.waiters {
		n += len(set)
	}
	return n
}

func (s *Service) publish(ctx context.Context, ev notify.Event) {
	if err := s.bus.Publish(context.WithoutCancel(ctx), ev); err != nil {
		s.logger.Warn("browse: wake-up not published", "host", ev.HostID, "err", err)
	}
}

// WaitFor clamps a client's wait (negative: the default).
func (s *Service) WaitFor(d time.Duration) time.Duration {
	if d < 0 {
		return s.cfg.Wait
	}
	return min(d, s.cfg.MaxWait)
}

// wait blocks until the request is done, the wait ends or ctx ends, and returns the
// request as last read.
func (s *Service) wait(ctx context.Context, id string, wait time.Duration) (store.BrowseRequest, error) {
	news, unsubscribe := s.subscribe(id)
	defer unsubscribe()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(s.cfg.Recheck)
	defer tick.Stop()
	for {
		r, err := s.store.BrowseRequest(ctx, id)
		if err != nil || r.Done() {
			return r, err
		}
		select {
		case <-news:
		case <-tick.C:
		case <-deadline.C:
			return r, nil
		case <-s.draining:
			return r, nil
		case <-ctx.Done():
			return r, ctx.Err()
		}
	}
}

// Run cleans up until ctx ends: unanswered requests fail (waking their waiters),
// expired downloads lose their bytes, the cache of forgotten snapshots goes.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.JanitorInterval)
	defer t.Stop()
	lastPurge := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ids, err := s.store.ExpireBrowseRequests(ctx)
		if err != nil && !errors.Is(err, context.Canceled) {
			s.logger.Warn("browse: expiring requests", "err", err)
		}
		for _, id := range ids {
			s.Wake(id)
		}
		if _, err := s.store.PurgeDownloads(ctx); err != nil && !errors.Is(err, context.Canceled) {
			s.logger.Warn("browse: purging downloads", "err", err)
		}
		if time.Since(lastPurge) > time.Hour {
			lastPurge = time.Now()
			if err := s.store.PurgeBrowseCache(ctx); err != nil {
				s.logger.Warn("browse: purging the listing cache", "err", err)
			}
			if err := s.store.PurgeBrowseRequests(ctx, time.Now().Add(-24*time.Hour)); err != nil {
				s.logger.Warn("browse: purging old requests", "err", err)
			}
		}
	}
}
