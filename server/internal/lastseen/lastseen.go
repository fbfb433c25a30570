// Package lastseen coalesces "host was seen now" marks and writes them in one
// statement per interval, so an idle poll costs no database write.
package lastseen

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Writer stores many last-seen times at once.
type Writer interface {
	TouchLastSeen(ctx context.Context, seen map[string]time.Time) error
}

// Batcher is safe for concurrent use.
type Batcher struct {
	w        Writer
	interval time.Duration
	logger   *slog.Logger
	mu       sync.Mutex
	pending  map[string]time.Time
}

// New returns a Batcher flushing every interval once Run is called.
func New(w Writer, interval time.Duration, logger *slog.Logger) *Batcher {
	return &Batcher{w: w, interval: interval, logger: logger, pending: map[string]time.Time{}}
}

// Touch marks a host as seen at t.
func (b *Batcher) Touch(hostID string, t time.Time) {
	b.mu.Lock()
	if t.After(b.pending[hostID]) {
		b.pending[hostID] = t
	}
	b.mu.Unlock()
}

// Flush writes what is pending. On failure the marks are kept for the next flush.
func (b *Batcher) Flush(ctx context.Context) error {
	b.mu.Lock()
	batch := b.pending
	b.pending = map[string]time.Time{}
	b.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := b.w.TouchLastSeen(ctx, batch); err != nil {
		b.mu.Lock()
		for id, t := range batch {
			if t.After(b.pending[id]) {
				b.pending[id] = t
			}
		}
		b.mu.Unlock()
		return err
	}
	return nil
}

// Run flushes every interval until ctx ends, then flushes once more.
func (b *Batcher) Run(ctx context.Context) {
	t := time.NewTicker(b.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := b.Flush(fctx); err != nil {
				b.logger.Warn("last seen: final flush failed", "err", err)
			}
			cancel()
			return
		case <-t.C:
			if err := b.Flush(ctx); err != nil {
				b.logger.Warn("last seen: flush failed", "err", err)
			}
		}
	}
}
