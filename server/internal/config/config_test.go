package config

import (
	"io"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	return Load(args, func(k string) string { return env[k] }, io.Discard)
}

func TestPollHoldDefaultAndOverrides(t *testing.T) {
	c, err := load(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.PollHold != 50*time.Second {
		t.Fatalf("default poll hold %s, want 50s", c.PollHold)
	}
	if c, err = load(t, nil, map[string]string{"RM_POLL_HOLD": "25s"}); err != nil || c.PollHold != 25*time.Second {
		t.Fatalf("RM_POLL_HOLD=25s: %s, %v", c.PollHold, err)
	}
	if c, err = load(t, []string{"-poll-hold", "40s"}, map[string]string{"RM_POLL_HOLD": "25s"}); err != nil || c.PollHold != 40*time.Second {
		t.Fatalf("-poll-hold 40s: %s, %v", c.PollHold, err)
	}
	if _, err = load(t, []string{"-poll-hold", "5m"}, nil); err == nil {
		t.Fatal("a 5 min hold was accepted")
	}
}

func TestPprofListenIsOffByDefaultAndLoopbackOnly(t *testing.T) {
	c, err := load(t, nil, nil)
	if err != nil || c.PprofListen != "" {
		t.Fatalf("pprof listener on by default: %q, %v", c.PprofListen, err)
	}
	for _, ok := range []string{"127.0.0.1:6060", "[::1]:6060", "localhost:0", "127.0.0.2:1"} {
		if c, err := load(t, nil, map[string]string{"RM_PPROF_LISTEN": ok}); err != nil || c.PprofListen != ok {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{":6060", "0.0.0.0:6060", "[::]:6060", "192.168.1.5:6060", "example.com:6060", "127.0.0.1", "localhost"} {
		if _, err := load(t, []string{"-pprof-listen", bad}, nil); err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("%s accepted (%v)", bad, err)
		}
	}
}
