// Package hub keeps, in memory, what the long poll needs to know about each host: the
// newest command id, the earliest delivery lease, the desired schedule and config
// versions, and the polls waiting for news. An idle poll reads only this memory.
package hub

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/restic-manager/restic-manager/server/internal/notify"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// Loader reads a host's poll state from the database.
type Loader interface {
	PollState(ctx context.Context, hostID string) (store.PollState, error)
}

// State is a snapshot of one host's poll state.
type State struct {
	store.PollState
	// CommandsDirty is set when a command was created since the last delivery query:
	// command ids are not committed in order, so a lower id may appear after a higher one
	// was delivered.
	CommandsDirty bool
}

type host struct {
	loaded  bool
	state   State
	waiters map[chan struct{}]struct{}
}

// Hub is safe for concurrent use.
type Hub struct {
	loader Loader
	mu     sync.Mutex
	hosts  map[string]*host
	now    func() time.Time
}

// New returns an empty hub.
func New(loader Loader) *Hub {
	return &Hub{loader: loader, hosts: map[string]*host{}, now: time.Now}
}

func (h *Hub) get(id string) *host {
	hs := h.hosts[id]
	if hs == nil {
		hs = &host{waiters: map[chan struct{}]struct{}{}}
		h.hosts[id] = hs
	}
	return hs
}

// Subscribe registers a waiter for news of a host. Subscribe before reading the state,
// so that a change between the two cannot be missed. Call the returned func when done.
func (h *Hub) Subscribe(hostID string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	h.get(hostID).waiters[ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		if hs := h.hosts[hostID]; hs != nil {
			delete(hs.waiters, ch)
		}
		h.mu.Unlock()
	}
}

// State returns the host's state, loading it from the database only the first time
// (or after a Reset).
func (h *Hub) State(ctx context.Context, hostID string) (State, error) {
	h.mu.Lock()
	hs := h.get(hostID)
	if hs.loaded {
		st := hs.state
		h.mu.Unlock()
		return st, nil
	}
	h.mu.Unlock()
	ps, err := h.loader.PollState(ctx, hostID)
	if err != nil {
		return State{}, fmt.Errorf("hub: load %s: %w", hostID, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	hs = h.get(hostID)
	if !hs.loaded {
		// Events applied while loading only ever raise values: merge, don't overwrite.
		hs.state.LastCommandID = max(hs.state.LastCommandID, ps.LastCommandID)
		hs.state.ScheduleVersion = max(hs.state.ScheduleVersion, ps.ScheduleVersion)
		hs.state.ConfigVersion = max(hs.state.ConfigVersion, ps.ConfigVersion)
		hs.state.LeaseDeadline = earliest(hs.state.LeaseDeadline, ps.LeaseDeadline)
		hs.loaded = true
	}
	return hs.state, nil
}

// BeginDelivery clears the dirty flag before a delivery query, so a command created
// during the query marks the host dirty again.
func (h *Hub) BeginDelivery(hostID string) {
	h.mu.Lock()
	h.get(hostID).state.CommandsDirty = false
	h.mu.Unlock()
}

// SetLease records the earliest lease among the host's unacknowledged commands after
// a delivery (zero: none).
func (h *Hub) SetLease(hostID string, deadline time.Time) {
	h.mu.Lock()
	h.get(hostID).state.LeaseDeadline = deadline
	h.mu.Unlock()
}

// Apply folds an event into the host's state and wakes its waiters.
func (h *Hub) Apply(ev notify.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	hs := h.get(ev.HostID)
	if ev.CommandID > 0 {
		hs.state.LastCommandID = max(hs.state.LastCommandID, ev.CommandID)
		hs.state.CommandsDirty = true
	}
	hs.state.ScheduleVersion = max(hs.state.ScheduleVersion, ev.ScheduleVersion)
	hs.state.ConfigVersion = max(hs.state.ConfigVersion, ev.ConfigVersion)
	if l := ev.Lease(); !l.IsZero() {
		hs.state.LeaseDeadline = earliest(hs.state.LeaseDeadline, l)
	}
	wake(hs)
}

// Reset forgets every host's state (it is re-read on the next poll) and wakes every
// waiter: events may have been lost.
func (h *Hub) Reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, hs := range h.hosts {
		hs.loaded = false
		hs.state = State{CommandsDirty: true}
		wake(hs)
	}
}

// Forget drops a host without waiters from memory.
func (h *Hub) Forget(hostID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if hs := h.hosts[hostID]; hs != nil && len(hs.waiters) == 0 {
		delete(h.hosts, hostID)
	}
}

// Waiting returns the number of polls currently held.
func (h *Hub) Waiting() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, hs := range h.hosts {
		n += len(hs.waiters)
	}
	return n
}

func wake(hs *host) {
	for ch := range hs.waiters {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero():
		return a
	case b.Before(a):
		return b
	}
	return a
}
