package agentapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/config"
	"github.com/restic-manager/restic-manager/server/internal/servertest"
)

// An idle poll's answer (pre-encoded by the server) is exactly what encoding/json makes
// of the PollResponse it stands for, with and without the update notice, over HTTP.
func TestIdlePollAnswerIsTheEncodersOutput(t *testing.T) {
	t.Parallel()
	env := servertest.Start(t, servertest.Options{PollHold: 200 * time.Millisecond, Config: func(c *config.Config) {
		c.RecommendedAgentVersion = "1.4.0"
		c.AgentPackageSource = "apt: restic-manager-agent <stable> & \"more\""
		c.AgentChangelog = "https://example.com/changes?from=1.3&to=1.4"
	}})
	a := env.Enroll(t, "idle-body")
	hello := protocol.HelloRequest{ProtocolVersion: 1, Hostname: "idle-body", AgentVersion: "1.3.9"}
	var hr protocol.HelloResponse
	if st := a.JSON(t, http.MethodPost, protocol.PathHello, hello, &hr); st != http.StatusOK {
		t.Fatalf("hello: %d", st)
	}
	first := a.Poll(t, 0, 0, 0, 30) // the schedule set and config: news
	if first.ScheduleSet == nil || first.Config == nil {
		t.Fatalf("first poll without news: %+v", first)
	}
	notice := &protocol.UpdateNotice{LatestVersion: "1.4.0", PackageSource: "apt: restic-manager-agent <stable> & \"more\"",
		Changelog: "https://example.com/changes?from=1.3&to=1.4"}
	for _, tc := range []struct {
		agent  string
		update *protocol.UpdateNotice
		wait   int
	}{{"1.3.9", notice, 5}, {"1.3.9", notice, 30}, {"1.4.0", nil, 5}, {"1.4.0", nil, 30}} {
		hello.AgentVersion = tc.agent
		if st := a.JSON(t, http.MethodPost, protocol.PathHello, hello, nil); st != http.StatusOK {
			t.Fatalf("hello: %d", st)
		}
		// wait=5 answers at once; wait=30 is held for the hold (200 ms) and answers empty.
		path := fmt.Sprintf("%s?cursor=%d&schedule_version=%d&config_version=%d&wait=%d", protocol.PathPoll,
			first.Cursor, first.ScheduleSet.Version, first.Config.Version, tc.wait)
		req, err := http.NewRequest(http.MethodGet, env.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+a.Credential)
		resp, err := a.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(protocol.PollResponse{Cursor: first.Cursor, Commands: []protocol.Command{}, Update: tc.update, Pacing: hr.Pacing})
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || string(raw) != string(want) {
			t.Fatalf("agent %s, wait %d: %d %s\nwant %s", tc.agent, tc.wait, resp.StatusCode, raw, want)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Fatalf("Content-Type %q", ct)
		}
		if resp.ContentLength != int64(len(want)) {
			t.Fatalf("Content-Length %d, want %d", resp.ContentLength, len(want))
		}
	}
}
