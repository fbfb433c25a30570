package agentapi

import (
	"math/rand/v2"
	"testing"
	"time"
)

// A hold ends on a tick inside its window, the tick at or before its target unless that
// is too early; without a tick in the window it gets its own timer.
func TestHoldClockSlotStaysInTheWindow(t *testing.T) {
	h := newHoldClock(250 * time.Millisecond)
	if _, ok := h.slot(time.Second, 1406*time.Millisecond, 1450*time.Millisecond, 1500*time.Millisecond); ok {
		t.Fatal("a window shorter than a tick got a tick")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 100_000; i++ {
		hold := time.Duration(r.Int64N(int64(4*time.Minute))) + 4*time.Second
		lo, hi := hold-hold/16, hold
		target := jitter(hold)
		elapsed := time.Duration(r.Int64N(int64(24 * time.Hour)))
		n, ok := h.slot(elapsed, lo, target, hi)
		if !ok {
			t.Fatalf("hold %s: no tick in a window of %s", hold, hi-lo)
		}
		at := time.Duration(n) * h.tick
		if at < elapsed+lo || at > elapsed+hi {
			t.Fatalf("hold %s from %s: tick at %s outside [%s, %s]", hold, elapsed, at, elapsed+lo, elapsed+hi)
		}
		if at > elapsed+target && at-h.tick >= elapsed+lo {
			t.Fatalf("hold %s from %s: tick at %s, but an earlier one at or before the target %s was in the window", hold, elapsed, at, elapsed+target)
		}
	}
}

// Polls whose holds end on the same tick share its channel; it closes and is forgotten.
func TestHoldClockSharesTicks(t *testing.T) {
	h := newHoldClock(20 * time.Millisecond)
	now := h.start // on the grid: both holds end on the tick at 60 ms
	a, releaseA := h.end(now, 40*time.Millisecond, 61*time.Millisecond, 80*time.Millisecond)
	b, releaseB := h.end(now, 40*time.Millisecond, 79*time.Millisecond, 80*time.Millisecond)
	c, releaseC := h.end(now, 40*time.Millisecond, 80*time.Millisecond, 80*time.Millisecond) // the tick at 80 ms
	defer releaseA()
	defer releaseB()
	defer releaseC()
	if a != b || a == c {
		t.Fatal("holds ending on the same tick must share its channel, and only they")
	}
	for _, ch := range []<-chan struct{}{a, b, c} {
		select {
		case <-ch:
		case <-time.After(time.Minute):
			t.Fatal("the tick never fired")
		}
	}
	for i := 0; ; i++ { // the timer func forgets the tick just before closing it
		h.mu.Lock()
		left := len(h.ticks)
		h.mu.Unlock()
		if left == 0 {
			break
		}
		if i > 6000 {
			t.Fatalf("%d ticks remembered after firing", left)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A window shorter than a tick: a timer of its own, which the release stops.
	own, release := h.end(time.Now(), 0, 5*time.Millisecond, 10*time.Millisecond)
	select {
	case <-own:
	case <-time.After(time.Minute):
		t.Fatal("the hold's own timer never fired")
	}
	release()
	stopped, release := h.end(time.Now(), 0, time.Hour, time.Hour+time.Millisecond)
	release()
	select {
	case <-stopped:
		t.Fatal("a released hold ended")
	default:
	}
}
