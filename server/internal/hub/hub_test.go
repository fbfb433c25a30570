package hub

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/server/internal/notify"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

type countingLoader struct {
	calls atomic.Int64
	state store.PollState
}

func (l *countingLoader) PollState(context.Context, string) (store.PollState, error) {
	l.calls.Add(1)
	return l.state, nil
}

func TestStateLoadsOnceAndEventsOnlyRaise(t *testing.T) {
	l := &countingLoader{state: store.PollState{LastCommandID: 5, ScheduleVersion: 3, ConfigVersion: 1}}
	h := New(l)
	ctx := context.Background()
	h.Apply(notify.Event{HostID: "a", CommandID: 9}) // arrives before the first load
	st, _ := h.State(ctx, "a")
	if st.LastCommandID != 9 || st.ScheduleVersion != 3 || !st.CommandsDirty {
		t.Fatalf("merged state %+v", st)
	}
	h.Apply(notify.Event{HostID: "a", CommandID: 4, ScheduleVersion: 2})
	st, _ = h.State(ctx, "a")
	if st.LastCommandID != 9 || st.ScheduleVersion != 3 {
		t.Fatalf("older event lowered state: %+v", st)
	}
	if l.calls.Load() != 1 {
		t.Fatalf("loader called %d times", l.calls.Load())
	}
	h.Reset()
	h.State(ctx, "a")
	if l.calls.Load() != 2 {
		t.Fatal("reset did not force a reload")
	}
}

func TestWakeOnlyTheHost(t *testing.T) {
	h := New(&countingLoader{})
	a, stopA := h.Subscribe("a")
	defer stopA()
	b, stopB := h.Subscribe("b")
	defer stopB()
	h.Apply(notify.Event{HostID: "a", CommandID: 1})
	select {
	case <-a:
	case <-time.After(time.Second):
		t.Fatal("a not woken")
	}
	select {
	case <-b:
		t.Fatal("b woken by a's event")
	default:
	}
	h.Reset()
	select {
	case <-b:
	case <-time.After(time.Second):
		t.Fatal("reset did not wake b")
	}
	if h.Waiting() != 2 {
		t.Fatalf("waiting = %d", h.Waiting())
	}
	stopA()
	if h.Waiting() != 1 {
		t.Fatalf("waiting after unsubscribe = %d", h.Waiting())
	}
}

func TestLeaseKeepsEarliest(t *testing.T) {
	h := New(&countingLoader{})
	t1 := time.Now().Add(time.Minute)
	t0 := t1.Add(-30 * time.Second)
	h.Apply(notify.Event{HostID: "a", LeaseUntil: t1.UnixMilli()})
	h.Apply(notify.Event{HostID: "a", LeaseUntil: t0.UnixMilli()})
	h.Apply(notify.Event{HostID: "a", LeaseUntil: t1.UnixMilli()})
	st, _ := h.State(context.Background(), "a")
	if st.LeaseDeadline.UnixMilli() != t0.UnixMilli() {
		t.Fatalf("lease %v, want %v", st.LeaseDeadline, t0)
	}
}
