package restic

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// sink stands between a job and its Events: it serialises the calls (stdout and stderr
// are read by two goroutines), removes secrets from log text and throttles progress.
type sink struct {
	mu       sync.Mutex
	ev       Events
	secrets  []string
	interval time.Duration
	now      func() time.Time
	lastSent time.Time
	pending  *protocol.Progress
	timer    *time.Timer
	closed   bool
}

func newSink(ev Events, interval time.Duration, secrets []string) *sink {
	return &sink{ev: ev, secrets: secrets, interval: interval, now: time.Now}
}

// secretsOf lists the strings that must never reach a log: the password and the REST
// password, also in the escaped form they take inside a URL.
func secretsOf(repo protocol.Repository) []string {
	var out []string
	for _, s := range []string{repo.Password, repo.RestPassword} {
		if s == "" {
			continue
		}
		out = append(out, s)
		if esc := url.UserPassword("u", s).String(); esc != "u:"+s {
			out = append(out, strings.TrimPrefix(esc, "u:"))
		}
	}
	return out
}

func (s *sink) redact(text string) string {
	for _, secret := range s.secrets {
		if strings.Contains(text, secret) {
			text = strings.ReplaceAll(text, secret, "[redacted]")
		}
	}
	return text
}

func (s *sink) log(stream, text string) {
	text = s.redact(text)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ev.Log(stream, text)
}

// note logs a line of the agent's own.
func (s *sink) note(format string, args ...any) { s.log("agent", fmt.Sprintf(format, args...)) }

// progress forwards p unless one was sent less than interval ago; then p waits as the
// pending one (a newer one replaces it) and a timer sends it when the interval is up.
func (s *sink) progress(p protocol.Progress) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	now := s.now()
	if wait := s.interval - now.Sub(s.lastSent); !s.lastSent.IsZero() && wait > 0 {
		s.pending = &p
		if s.timer == nil {
			s.timer = time.AfterFunc(wait, s.flush)
		}
		return
	}
	s.send(p)
}

// send emits p; s.mu is held.
func (s *sink) send(p protocol.Progress) {
	s.pending = nil
	s.lastSent = s.now()
	s.ev.Progress(p)
}

// flush sends the progress held back by the throttle, so the last state is never lost.
func (s *sink) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	if s.pending != nil && !s.closed {
		s.send(*s.pending)
	}
}

// close flushes and makes every later progress call a no-op: nothing reaches Events
// after Run returned.
func (s *sink) close() {
	s.flush()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}
