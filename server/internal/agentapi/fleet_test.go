package agentapi_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/servertest"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// TestManyAgentsEachGetExactlyTheirCommands runs 200 agents long-polling at once while
// commands are created for random hosts, and checks that every command reaches its
// own host, once, and no other.
func TestManyAgentsEachGetExactlyTheirCommands(t *testing.T) {
	t.Parallel()
	const agents, commands = 200, 600
	env := servertest.Start(t, servertest.Options{PollHold: 5 * time.Second})
	hosts := make([]host, agents)
	var wg sync.WaitGroup
	for i := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hosts[i] = newHost(t, env, fmt.Sprintf("fleet-%03d", i))
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	transport := &http.Transport{MaxIdleConnsPerHost: agents + 10}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var (
		mu       sync.Mutex
		received = map[string]string{} // job id -> host id that received it
		dups     int
		wrong    []string
	)
	byHost := map[string]host{}
	for _, h := range hosts {
		h.Client = &http.Client{Transport: transport, Timeout: 60 * time.Second}
		byHost[h.HostID] = h
	}
	var pollers sync.WaitGroup
	for _, h := range hosts {
		pollers.Add(1)
		go func() {
			defer pollers.Done()
			var cursor, sv, cv int64
			for ctx.Err() == nil {
				r := h.Poll(t, cursor, sv, cv, 10)
				cursor = r.Cursor
				if r.ScheduleSet != nil {
					sv = r.ScheduleSet.Version
				}
				if r.Config != nil {
					cv = r.Config.Version
				}
				for _, c := range r.Commands {
					mu.Lock()
					if prev, ok := received[c.JobID]; ok {
						dups++
						if prev != h.HostID {
							wrong = append(wrong, c.JobID)
						}
					}
					received[c.JobID] = h.HostID
					mu.Unlock()
					h.JSON(t, http.MethodPost, fmt.Sprintf("/api/v1/agent/commands/%d/result", c.ID), protocol.CommandResult{Status: protocol.CommandAccepted}, nil)
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond) // let every agent reach its held poll
	want := map[string]string{}
	var wantMu sync.Mutex
	var creators sync.WaitGroup
	for w := 0; w < 8; w++ {
		creators.Add(1)
		go func() {
			defer creators.Done()
			for i := 0; i < commands/8; i++ {
				h := hosts[rand.IntN(agents)]
				j, err := env.Server.Dispatcher.EnqueueRun(context.Background(), h.HostID, store.RunRequest{Kind: protocol.KindSnapshots, RepositoryID: h.repo.ID, ActorType: store.ActorAPI})
				if err != nil {
					t.Error(err)
					return
				}
				wantMu.Lock()
				want[j.ID] = h.HostID
				wantMu.Unlock()
			}
		}()
	}
	creators.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(received)
		mu.Unlock()
		if n >= commands || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	pollers.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(wrong) > 0 {
		t.Fatalf("%d commands reached a second host", len(wrong))
	}
	var lost int
	for jobID, hostID := range want {
		got, ok := received[jobID]
		if !ok {
			lost++
			continue
		}
		if got != hostID {
			t.Errorf("job %s for host %s went to %s", jobID, hostID, got)
		}
	}
	if lost > 0 || len(received) != len(want) {
		t.Fatalf("%d of %d commands lost; %d received", lost, len(want), len(received))
	}
	t.Logf("%d commands to %d agents: all delivered to their host; %d duplicate deliveries", commands, agents, dups)
}
