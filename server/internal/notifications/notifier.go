// Package notifications delivers what the health evaluator queued: alert and job events
// to notification channels (a generic webhook with an HMAC-SHA256 signature, email over
// SMTP, chat services through shoutrrr) and Healthchecks-style pings of schedules.
//
// Deliveries live in the database (store.NotificationDelivery), so they survive restarts
// and are shared by replicas: a worker claims due rows with a conditional update (FOR
// UPDATE SKIP LOCKED on PostgreSQL), sends them, and records every attempt. A failure is
// retried with exponential backoff until MaxAttempts; the delivery log shows each try.
package notifications

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/restic-manager/restic-manager/server/internal/store"
)

// Config tunes delivery.
type Config struct {
	// PollInterval: how often due deliveries are looked for without a wake-up (default
	// 5 s; other replicas' events are found this way).
	PollInterval time.Duration
	Workers      int           // parallel sends (default 4)
	Batch        int           // deliveries claimed at once (default 20)
	Lease        time.Duration // a claim not finished by then is taken again (default 2 min)
	MaxAttempts  int           // then the delivery fails for good (default 8)
	BackoffBase  time.Duration // first retry delay, doubled each time (default 30 s)
	BackoffMax   time.Duration // longest retry delay (default 1 h)
	Timeout      time.Duration // per send (default 15 s)
	Retention    time.Duration // finished deliveries are kept this long (default 30 days)
	PublicURL    string        // links in messages point here
	Now          func() time.Time
	HTTPClient   *http.Client
}

func (c *Config) defaults() {
	if c.PollInterval <= 0 {
		c.PollInterval = 5 * time.Second
	}
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.Batch <= 0 {
		c.Batch = 20
	}
	if c.Lease <= 0 {
		c.Lease = 2 * time.Minute
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.BackoffBase <= 0 {
		c.BackoffBase = 30 * time.Second
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = time.Hour
	}
	if c.Timeout <= 0 {
		c.Timeout = 15 * time.Second
	}
	if c.Retention <= 0 {
		c.Retention = 30 * 24 * time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Store is what delivery needs of the database (implemented by *store.Store).
type Store interface {
	ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]store.NotificationDelivery, error)
	FinishAttempt(ctx context.Context, d store.NotificationDelivery, r store.AttemptResult) (store.NotificationDelivery, error)
	CreateTestDelivery(ctx context.Context, ch store.NotificationChannel, ev store.NotificationEvent, now time.Time) (store.NotificationDelivery, error)
	PruneDeliveries(ctx context.Context, before time.Time) (int64, error)
	Channel(ctx context.Context, id string) (store.NotificationChannel, error)
	OpenChannelConfig(ch store.NotificationChannel) ([]byte, error)
	PingURL(ctx context.Context, scheduleID string) (string, error)
}

// Hooks are told about every attempt (metrics). Nil hooks are skipped.
type Hooks struct {
	// Attempted: target is "webhook", "email", "chat" or "ping"; outcome "delivered",
	// "retry" or "failed".
	Attempted func(target, outcome string, took time.Duration)
}

// Notifier sends queued deliveries.
type Notifier struct {
	cfg    Config
	store  Store
	logger *slog.Logger
	hooks  Hooks
	client *http.Client
	wake   chan struct{}
	prune  time.Time
	mu     sync.Mutex // one RunOnce at a time per process
}

// New returns a notifier.
func New(cfg Config, s Store, logger *slog.Logger, hooks Hooks) *Notifier {
	cfg.defaults()
	client := cfg.HTTPClient
	if client == nil {
		// Redirects are not followed: a 3xx is a failure the delivery log shows (a POST
		// turned into a GET elsewhere would be neither delivered nor visible).
		client = &http.Client{Timeout: cfg.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	return &Notifier{cfg: cfg, store: s, logger: logger, hooks: hooks, client: client, wake: make(chan struct{}, 1)}
}

// Wake makes Run look for due deliveries now (after a round queued some).
func (n *Notifier) Wake() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// Run sends due deliveries until ctx ends.
func (n *Notifier) Run(ctx context.Context) {
	t := time.NewTicker(n.cfg.PollInterval)
	defer t.Stop()
	for {
		if _, err := n.RunOnce(ctx); err != nil && ctx.Err() == nil {
			n.logger.Error("notifications: delivery round failed", "err", err)
		}
		n.pruneOld(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-n.wake:
		}
	}
}

func (n *Notifier) pruneOld(ctx context.Context) {
	now := n.cfg.Now()
	if now.Sub(n.prune) < time.Hour {
		return
	}
	n.prune = now
	if k, err := n.store.PruneDeliveries(ctx, now.Add(-n.cfg.Retention)); err != nil {
		n.logger.Warn("notifications: prune failed", "err", err)
	} else if k > 0 {
		n.logger.Info("notifications: pruned old deliveries", "deleted", k)
	}
}

// RunOnce claims and sends every delivery due at the clock's time, batch after batch,
// and returns how many it attempted.
func (n *Notifier) RunOnce(ctx context.Context) (int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	total := 0
	for ctx.Err() == nil {
		ds, err := n.store.ClaimDeliveries(ctx, n.cfg.Now(), n.cfg.Batch, n.cfg.Lease)
		if err != nil {
			return total, fmt.Errorf("notifications: %w", err)
		}
		if len(ds) == 0 {
			return total, nil
		}
		total += len(ds)
		// Deliveries to the same target go one after the other, oldest first (a job's
		// /start ping before its /fail, an alert's opening before its resolve); targets
		// are served in parallel.
		var order []string
		byTarget := map[string][]store.NotificationDelivery{}
		for _, d := range ds {
			key := d.TargetType + "/" + d.TargetID
			if _, ok := byTarget[key]; !ok {
				order = append(order, key)
			}
			byTarget[key] = append(byTarget[key], d)
		}
		sem := make(chan struct{}, n.cfg.Workers)
		var wg sync.WaitGroup
		for _, key := range order {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				for _, d := range byTarget[key] {
					n.attempt(ctx, d)
				}
			})
		}
		wg.Wait()
		if len(ds) < n.cfg.Batch {
			return total, nil
		}
	}
	return total, ctx.Err()
}

// permanentError is a failure that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return permanentError{err} }

// attempt sends one claimed delivery and records the outcome.
func (n *Notifier) attempt(ctx context.Context, d store.NotificationDelivery) {
	target, code, took, err := n.send(ctx, d)
	res := store.AttemptResult{At: n.cfg.Now(), OK: err == nil, StatusCode: code, Duration: took}
	outcome := "delivered"
	if err != nil {
		res.Error = err.Error()
		var perm permanentError
		if d.Attempts < n.cfg.MaxAttempts && !errors.As(err, &perm) {
			res.Retry = res.At.Add(n.backoff(d.Attempts))
			outcome = "retry"
		} else {
			outcome = "failed"
		}
		n.logger.Warn("notification not delivered", "delivery", d.ID, "target", target, "event", d.EventType,
			"attempt", d.Attempts, "outcome", outcome, "err", err)
	}
	if n.hooks.Attempted != nil {
		n.hooks.Attempted(target, outcome, took)
	}
	if _, err := n.store.FinishAttempt(context.WithoutCancel(ctx), d, res); err != nil {
		n.logger.Error("notifications: attempt not recorded", "delivery", d.ID, "err", err)
	}
}

// backoff returns the delay after the given failed attempt: base·2^(attempt-1), capped,
// with up to 20% jitter so that retries of many deliveries spread out.
func (n *Notifier) backoff(attempt int) time.Duration {
	d := n.cfg.BackoffBase
	for i := 1; i < attempt && d < n.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, n.cfg.BackoffMax)
	return d + rand.N(d/5+1)
}

// send delivers one delivery to its target and returns the target kind, the status code
// (HTTP or SMTP, 0 when none) and how long it took.
func (n *Notifier) send(ctx context.Context, d store.NotificationDelivery) (string, int, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.Timeout+5*time.Second)
	defer cancel()
	start := time.Now()
	if d.TargetType == store.TargetPing {
		code, err := n.sendPing(ctx, d)
		return store.TargetPing, code, time.Since(start), err
	}
	ch, err := n.store.Channel(ctx, d.TargetID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "channel", 0, 0, permanent(errors.New("the channel was deleted"))
		}
		return "channel", 0, 0, err
	}
	if !ch.Enabled && d.EventType != store.EventTest {
		return ch.Type, 0, 0, permanent(errors.New("the channel is disabled"))
	}
	raw, err := n.store.OpenChannelConfig(ch)
	if err != nil {
		return ch.Type, 0, 0, permanent(err)
	}
	code := 0
	switch ch.Type {
	case store.ChannelWebhook:
		var c WebhookConfig
		if err = json.Unmarshal(raw, &c); err == nil {
			code, err = n.sendWebhook(ctx, c, d)
		}
	case store.ChannelEmail:
		var c EmailConfig
		if err = json.Unmarshal(raw, &c); err == nil {
			err = n.sendEmail(ctx, c, d)
			code = smtpCode(err)
		}
	case store.ChannelChat:
		var c ChatConfig
		if err = json.Unmarshal(raw, &c); err == nil {
			err = n.sendChat(c, d.Payload)
		}
	default:
		err = permanent(fmt.Errorf("unknown channel type %q", ch.Type))
	}
	return ch.Type, code, time.Since(start), err
}

// SendTest sends a test message to a channel now (enabled or not), logs it as a
// delivery with one attempt, and returns it: its status says whether it arrived and its
// last_error why not. It is not retried.
func (n *Notifier) SendTest(ctx context.Context, channelID string) (store.NotificationDelivery, error) {
	ch, err := n.store.Channel(ctx, channelID)
	if err != nil {
		return store.NotificationDelivery{}, err
	}
	now := n.cfg.Now()
	d, err := n.store.CreateTestDelivery(ctx, ch, store.NotificationEvent{Type: store.EventTest, At: now.UTC()}, now)
	if err != nil {
		return store.NotificationDelivery{}, err
	}
	target, code, took, err := n.send(ctx, d)
	res := store.AttemptResult{At: n.cfg.Now(), OK: err == nil, StatusCode: code, Duration: took}
	outcome := "delivered"
	if err != nil {
		res.Error, outcome = err.Error(), "failed"
	}
	if n.hooks.Attempted != nil {
		n.hooks.Attempted(target, outcome, took)
	}
	return n.store.FinishAttempt(context.WithoutCancel(ctx), d, res)
}
