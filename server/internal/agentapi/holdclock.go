package agentapi

import (
	"sync"
	"time"
)

// holdTick is the grid on which the holds of idle polls end. Polls whose holds end on
// the same tick share one timer and one channel, so the server wakes once for all of
// them and answers them together, instead of arming a timer and waking a thread for
// every poll (200 a second for 10,000 agents at the default 50 s hold). Those wake-ups,
// not the handler, were most of an idle poll's CPU (docs/benchmarks.md).
const holdTick = 250 * time.Millisecond

// holdClock hands out channels closed at the ticks of a grid that starts when the
// clock is made (monotonic time: wall clock steps do not move it).
type holdClock struct {
	tick  time.Duration
	start time.Time
	mu    sync.Mutex
	ticks map[int64]chan struct{} // tick number → closed at that tick, then forgotten
}

func newHoldClock(tick time.Duration) *holdClock {
	return &holdClock{tick: tick, start: time.Now(), ticks: map[int64]chan struct{}{}}
}

// end returns a channel closed when a hold that began at now is over, and a func to
// call when the poll is done with it. The hold ends on the last tick at or before
// now+target, or the next one when that is before now+lo, as long as the tick is within
// [now+lo, now+hi]; when the window is shorter than a tick the hold gets a timer of its
// own and ends at exactly now+target.
func (h *holdClock) end(now time.Time, lo, target, hi time.Duration) (<-chan struct{}, func()) {
	n, ok := h.slot(now.Sub(h.start), lo, target, hi)
	if !ok {
		ch := make(chan struct{})
		t := time.AfterFunc(target, func() { close(ch) })
		return ch, func() { t.Stop() }
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	ch, found := h.ticks[n]
	if !found {
		ch = make(chan struct{})
		h.ticks[n] = ch
		time.AfterFunc(time.Until(h.start.Add(time.Duration(n)*h.tick)), func() {
			h.mu.Lock()
			delete(h.ticks, n)
			h.mu.Unlock()
			close(ch)
		})
	}
	// A shared tick is not released: it fires once for everyone, and polls that left
	// early (news, drain, client gone) only leave an unread channel behind.
	return ch, func() {}
}

// slot returns the tick (counted from start) at which a hold beginning elapsed after
// start ends, or false when no tick falls in [elapsed+lo, elapsed+hi].
func (h *holdClock) slot(elapsed, lo, target, hi time.Duration) (int64, bool) {
	if hi-lo < h.tick {
		return 0, false
	}
	n := int64((elapsed + target) / h.tick)
	if time.Duration(n)*h.tick < elapsed+lo {
		n++
	}
	if time.Duration(n)*h.tick > elapsed+hi {
		return 0, false
	}
	return n, true
}
