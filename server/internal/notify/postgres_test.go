package notify_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/restic-manager/restic-manager/server/internal/notify"
	"github.com/restic-manager/restic-manager/server/internal/storetest"
)

type recorder struct {
	mu     sync.Mutex
	events []notify.Event
	resets int
	ch     chan struct{}
}

func newRecorder() *recorder { return &recorder{ch: make(chan struct{}, 100)} }

func (r *recorder) Apply(ev notify.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	r.ch <- struct{}{}
}

func (r *recorder) Reset() {
	r.mu.Lock()
	r.resets++
	r.mu.Unlock()
	r.ch <- struct{}{}
}

func (r *recorder) has(host string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.HostID == host {
			return true
		}
	}
	return false
}

func waitFor(t *testing.T, r *recorder, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatal("timed out")
		}
	}
}

// TestPostgresBusAcrossProcessesAndReconnect: an event published by one bus reaches a
// second bus on the same database; when the second bus's listen connection is killed,
// its handler is reset and later events still arrive.
func TestPostgresBusAcrossProcessesAndReconnect(t *testing.T) {
	url := storetest.NewPostgresDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logger := slog.New(slog.DiscardHandler)
	ra, rb := newRecorder(), newRecorder()
	a, err := notify.NewPostgres(ctx, url, ra, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := notify.NewPostgres(ctx, url, rb, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	go func() { _ = b.Run(ctx) }()
	// Wait until B listens: publish until B hears one.
	waitListening := func(tag string) {
		deadline := time.Now().Add(10 * time.Second)
		for !rb.has(tag) {
			if time.Now().After(deadline) {
				t.Fatalf("B never heard %s", tag)
			}
			_ = a.Publish(ctx, notify.Event{HostID: tag})
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitListening("warmup")
	if !ra.has("warmup") {
		t.Fatal("publisher did not apply its own event locally")
	}
	if err := a.Publish(ctx, notify.Event{HostID: "h1", CommandID: 7, LeaseUntil: 1234}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, rb, func() bool { return rb.has("h1") })
	rb.mu.Lock()
	var got notify.Event
	for _, e := range rb.events {
		if e.HostID == "h1" {
			got = e
		}
	}
	rb.mu.Unlock()
	if got.CommandID != 7 || got.LeaseUntil != 1234 {
		t.Fatalf("event fields lost: %+v", got)
	}

	// Kill B's listening backend.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database()"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, rb, func() bool { rb.mu.Lock(); defer rb.mu.Unlock(); return rb.resets > 0 })
	waitListening("after-reconnect")
}
