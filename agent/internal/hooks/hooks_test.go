//go:build !windows

package hooks

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

type lines struct {
	mu  sync.Mutex
	got []string
}

func (l *lines) out(stream, line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, stream+":"+line)
}

func TestRun(t *testing.T) {
	r := New(map[string]Hook{
		"ok":    {Command: []string{"/bin/sh", "-c", `echo "hello $RM_JOB_ID"; echo oops >&2`}},
		"fail":  {Command: []string{"/bin/sh", "-c", "exit 3"}},
		"slow":  {Command: []string{"/bin/sleep", "30"}, Timeout: 200 * time.Millisecond},
		"nobin": {Command: []string{"/nonexistent/program"}},
	})
	var l lines
	if err := r.Run(context.Background(), "ok", []string{"RM_JOB_ID=j1"}, l.out); err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(l.got, "|")
	if !strings.Contains(joined, "stdout:hello j1") || !strings.Contains(joined, "stderr:oops") {
		t.Fatalf("output %q", joined)
	}
	if err := r.Run(context.Background(), "fail", nil, nil); err == nil || !strings.Contains(err.Error(), "exited with code 3") {
		t.Fatalf("fail: %v", err)
	}
	start := time.Now()
	if err := r.Run(context.Background(), "slow", nil, nil); err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("slow: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("timeout did not stop the hook")
	}
	if err := r.Run(context.Background(), "nobin", nil, nil); err == nil {
		t.Fatal("missing program ran")
	}
	if err := r.Run(context.Background(), "rm -rf /", nil, nil); !errors.Is(err, ErrUnknown) {
		t.Fatalf("unknown: %v", err)
	}
}

func TestCancel(t *testing.T) {
	r := New(map[string]Hook{"slow": {Command: []string{"/bin/sleep", "30"}}})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	start := time.Now()
	err := r.Run(ctx, "slow", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "cancelled") || time.Since(start) > 5*time.Second {
		t.Fatalf("cancel: %v after %v", err, time.Since(start))
	}
}
