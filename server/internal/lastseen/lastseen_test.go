package lastseen

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"
)

type fakeWriter struct {
	mu      sync.Mutex
	batches []map[string]time.Time
	fail    bool
}

func (f *fakeWriter) TouchLastSeen(_ context.Context, seen map[string]time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return errors.New("database down")
	}
	f.batches = append(f.batches, seen)
	return nil
}

func TestCoalescesAndRetries(t *testing.T) {
	w := &fakeWriter{}
	b := New(w, time.Hour, slog.New(slog.DiscardHandler))
	t0 := time.Now()
	for i := 0; i < 1000; i++ {
		b.Touch("a", t0.Add(time.Duration(i)*time.Millisecond))
	}
	b.Touch("b", t0)
	b.Touch("a", t0.Add(-time.Hour)) // an older mark never wins
	w.fail = true
	if err := b.Flush(context.Background()); err == nil {
		t.Fatal("flush with a failing writer succeeded")
	}
	w.fail = false
	if err := b.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(w.batches) != 1 || len(w.batches[0]) != 2 || !w.batches[0]["a"].Equal(t0.Add(999*time.Millisecond)) {
		t.Fatalf("batches %+v", w.batches)
	}
	if err := b.Flush(context.Background()); err != nil || len(w.batches) != 1 {
		t.Fatal("empty flush wrote")
	}
}
