package agentapi

import (
	"testing"
	"time"
)

// The hold is capped by the agent's wait (hold + 5 s), so jitter must shorten it to
// have any effect.
func TestJitterShortensWithinOneSixteenth(t *testing.T) {
	d := 25 * time.Second
	seen := map[time.Duration]bool{}
	for i := 0; i < 1000; i++ {
		j := jitter(d)
		if j > d || j < d-d/16 {
			t.Fatalf("jitter(%s) = %s", d, j)
		}
		seen[j] = true
	}
	if len(seen) < 100 {
		t.Fatalf("only %d distinct holds in 1000", len(seen))
	}
	if jitter(0) != 0 {
		t.Fatal("jitter(0)")
	}
}
