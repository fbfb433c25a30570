package app

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// The pprof listener serves the runtime's profiles, and nothing after it is stopped.
func TestPprofListener(t *testing.T) {
	addr, stop, err := servePprof("127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr.String()
	resp, err := http.Get(base + "/debug/pprof/heap?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "heap profile") {
		t.Fatalf("heap profile: %d %.200s", resp.StatusCode, body)
	}
	stop()
	if resp, err := http.Get(base + "/debug/pprof/"); err == nil {
		resp.Body.Close()
		t.Fatal("still serving after stop")
	}
}
