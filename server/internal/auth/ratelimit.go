package auth

import (
	"sync"
	"time"
)

// Limiter counts failed attempts per key in a sliding window and blocks a key once it
// reaches its limit, until its oldest failure leaves the window. It lives in memory:
// each server replica counts on its own.
type Limiter struct {
	mu      sync.Mutex
	limit   int
	window  time.Duration
	entries map[string][]time.Time
	now     func() time.Time
	maxKeys int
}

// NewLimiter allows limit failures per key per window.
func NewLimiter(limit int, window time.Duration) *Limiter {
	return &Limiter{limit: limit, window: window, entries: map[string][]time.Time{}, now: time.Now, maxKeys: 100_000}
}

// Blocked reports whether key is blocked now and for how long.
func (l *Limiter) Blocked(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fs := l.prune(key)
	if len(fs) < l.limit {
		return false, 0
	}
	return true, fs[0].Add(l.window).Sub(l.now())
}

// Fail records a failed attempt of key.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.entries) >= l.maxKeys {
		l.sweep()
	}
	fs := append(l.prune(key), l.now())
	if len(fs) > l.limit {
		fs = fs[len(fs)-l.limit:]
	}
	l.entries[key] = fs
}

// Reset forgets key's failures (after a successful login).
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	delete(l.entries, key)
	l.mu.Unlock()
}

func (l *Limiter) prune(key string) []time.Time {
	fs := l.entries[key]
	cut := l.now().Add(-l.window)
	i := 0
	for i < len(fs) && !fs[i].After(cut) {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(l.entries, key)
		return nil
	}
	l.entries[key] = fs
	return fs
}

// sweep drops expired keys; if the map is still full (a flood of distinct keys), it
// starts over rather than grow without bound.
func (l *Limiter) sweep() {
	for k := range l.entries {
		l.prune(k)
	}
	if len(l.entries) >= l.maxKeys {
		l.entries = map[string][]time.Time{}
	}
}
