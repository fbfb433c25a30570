package agentapi

import (
	"strconv"
	"strings"
	"sync"
)

// agentVersions remembers each host's agent version from its hello, so that the poll
// can add an update notice without reading the database.
type agentVersions struct {
	mu sync.Mutex
	m  map[string]string
}

func newAgentVersions() *agentVersions { return &agentVersions{m: map[string]string{}} }

func (v *agentVersions) set(hostID, version string) {
	v.mu.Lock()
	v.m[hostID] = version
	v.mu.Unlock()
}

func (v *agentVersions) get(hostID string) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.m[hostID]
}

// olderThan reports whether semantic version a is lower than b. Unparseable versions
// (development builds) are never called older.
func olderThan(a, b string) bool {
	pa, okA := parseVersion(a)
	pb, okB := parseVersion(b)
	if !okA || !okB {
		return false
	}
	for i := range pa {
		if pa[i] != pb[i] {
			return pa[i] < pb[i]
		}
	}
	return false
}

func parseVersion(s string) ([3]int, bool) {
	var out [3]int
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	if i := strings.IndexAny(s, "-+"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return out, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return out, false
		}
		out[i] = n
	}
	return out, true
}
