// Package notify carries "a host has news" wake-ups between the parts of the server,
// within one process or, through PostgreSQL LISTEN/NOTIFY, across replicas that share
// one database. A notification is a hint: receivers re-check their state.
package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Event says what changed for one host. Zero fields carry no news.
type Event struct {
	HostID          string `json:"h"`
	CommandID       int64  `json:"c,omitempty"`
	ScheduleVersion int64  `json:"s,omitempty"`
	ConfigVersion   int64  `json:"v,omitempty"`
	// LeaseUntil (unix milliseconds) is when commands delivered by some replica must be
	// redelivered unless acknowledged.
	LeaseUntil int64 `json:"l,omitempty"`
	// CredentialsChanged tells receivers to forget cached credentials of the host.
	CredentialsChanged bool `json:"r,omitempty"`
	// BrowseRequest (an id) says a browse request of the host has news: a listing part,
	// download bytes, or its end. It wakes the operator requests waiting for it.
	BrowseRequest string `json:"b,omitempty"`
}

// Lease returns LeaseUntil as a time (zero when unset).
func (e Event) Lease() time.Time {
	if e.LeaseUntil == 0 {
		return time.Time{}
	}
	return time.UnixMilli(e.LeaseUntil)
}

// Handler receives events. Reset is called when events may have been lost (a dropped
// listen connection): everything cached must be re-read.
type Handler interface {
	Apply(Event)
	Reset()
}

// Bus delivers events to the handler of every server process.
type Bus interface {
	Publish(ctx context.Context, ev Event) error
	// Run delivers events from other processes to the handler until ctx ends.
	Run(ctx context.Context) error
}

// Local is the in-process Bus of a single server.
type Local struct {
	h Handler
}

// NewLocal returns a Bus that calls h directly.
func NewLocal(h Handler) *Local { return &Local{h: h} }

// Publish applies the event at once.
func (l *Local) Publish(_ context.Context, ev Event) error {
	l.h.Apply(ev)
	return nil
}

// Run waits for ctx: local events need no loop.
func (l *Local) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func encode(ev Event) (string, error) {
	b, err := json.Marshal(ev)
	if err != nil {
		return "", fmt.Errorf("notify: encode: %w", err)
	}
	return string(b), nil
}

func decode(payload string) (Event, error) {
	var ev Event
	if err := json.Unmarshal([]byte(payload), &ev); err != nil {
		return Event{}, fmt.Errorf("notify: decode: %w", err)
	}
	return ev, nil
}
