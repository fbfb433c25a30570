package daemon

import (
	"sync"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// Bounds the agent clamps the server's pacing to.
const (
	defaultPollHold         = 50 * time.Second
	minPollWait             = 10 * time.Second
	maxPollWait             = 120 * time.Second
	pollWaitMargin          = 5 * time.Second // the server holds at most wait-5s
	defaultProgressInterval = 10 * time.Second
	minProgressInterval     = 2 * time.Second
	maxProgressInterval     = 5 * time.Minute
	defaultLogInterval      = 2 * time.Second
	minLogInterval          = time.Second
	maxLogInterval          = 30 * time.Second
)

// pacing is the server-set pace, clamped. The agent config's intervals override the
// hello/poll pacing.
type pacing struct {
	mu       sync.Mutex
	hold     time.Duration
	progress time.Duration
	logs     time.Duration
	// overrides from the server-side agent config (0 = none)
	cfgProgress, cfgLogs time.Duration
}

func newPacing() *pacing {
	return &pacing{hold: defaultPollHold, progress: defaultProgressInterval, logs: defaultLogInterval}
}

func clamp(v, lo, hi time.Duration) time.Duration {
	return max(lo, min(v, hi))
}

func secs(n int) time.Duration { return time.Duration(n) * time.Second }

func (p *pacing) apply(pc protocol.Pacing) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pc.PollHoldSeconds > 0 {
		p.hold = secs(pc.PollHoldSeconds)
	}
	if pc.ProgressIntervalSeconds > 0 {
		p.progress = clamp(secs(pc.ProgressIntervalSeconds), minProgressInterval, maxProgressInterval)
	}
	if pc.LogIntervalSeconds > 0 {
		p.logs = clamp(secs(pc.LogIntervalSeconds), minLogInterval, maxLogInterval)
	}
}

func (p *pacing) applyConfig(c *protocol.AgentConfig) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfgProgress, p.cfgLogs = 0, 0
	if c.ProgressIntervalSeconds > 0 {
		p.cfgProgress = clamp(secs(c.ProgressIntervalSeconds), minProgressInterval, maxProgressInterval)
	}
	if c.LogIntervalSeconds > 0 {
		p.cfgLogs = clamp(secs(c.LogIntervalSeconds), minLogInterval, maxLogInterval)
	}
}

// pollWait is the wait the agent asks for: the server's hold plus the margin it keeps.
func (p *pacing) pollWait() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return clamp(p.hold+pollWaitMargin, minPollWait, maxPollWait)
}

func (p *pacing) progressInterval() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cfgProgress > 0 {
		return p.cfgProgress
	}
	return p.progress
}

func (p *pacing) logInterval() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cfgLogs > 0 {
		return p.cfgLogs
	}
	return p.logs
}
