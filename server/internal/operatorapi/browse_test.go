package operatorapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/apiclient"
	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/servertest"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

const (
	snapA = "aaaaaaaa11111111aaaaaaaa11111111aaaaaaaa11111111aaaaaaaa11111111"
	snapB = "bbbbbbbb22222222bbbbbbbb22222222bbbbbbbb22222222bbbbbbbb22222222"
)

// reportSnapshots gives a repository a snapshot list, as its agent would.
func reportSnapshots(t *testing.T, f *fx, a *servertest.Agent, repoID string, ids ...string) {
	t.Helper()
	rep := protocol.SnapshotReport{TakenAt: time.Now().UTC()}
	for i, id := range ids {
		rep.Snapshots = append(rep.Snapshots, protocol.Snapshot{ID: id, Time: time.Now().Add(time.Duration(i) * time.Minute).UTC(), Hostname: "h", Paths: []string{"/data"}})
	}
	if st := a.JSON(t, http.MethodPost, servertest.Path(protocol.PathRepoSnapshots, repoID), rep, nil); st != http.StatusOK {
		t.Fatalf("snapshot report: %d", st)
	}
}

// pollState is what a hand-played agent sends on its polls.
type pollState struct{ cursor, schedules int64 }

// nextBrowse polls (as the agent would, with the versions it has) until a command.browse
// arrives and returns it.
func nextBrowse(t *testing.T, a *servertest.Agent, ps *pollState) protocol.Command {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp := a.Poll(t, ps.cursor, ps.schedules, 0, 10)
		ps.cursor = resp.Cursor
		if resp.ScheduleSet != nil {
			ps.schedules = resp.ScheduleSet.Version
		}
		for _, c := range resp.Commands {
			if c.Type == protocol.CommandBrowse {
				return c
			}
		}
	}
	t.Error("no command.browse")
	return protocol.Command{Browse: &protocol.BrowseSpec{}}
}

func (f *fx) get(tok, path string, hdr map[string]string) (int, string, []byte, http.Header) {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.base+path, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e protocol.Error
	_ = json.Unmarshal(b, &e)
	return resp.StatusCode, e.Code, b, resp.Header
}

func chunk(t *testing.T, a *servertest.Agent, id string, offset int64, data string) protocol.DownloadChunkAck {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.URL+servertest.Path(protocol.PathDownloadChunks, id)+"?offset="+strconv.FormatInt(offset, 10), strings.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+a.Credential)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := a.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ack protocol.DownloadChunkAck
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&ack) != nil {
		t.Fatalf("chunk at %d: %d", offset, resp.StatusCode)
	}
	return ack
}

// TestBrowseThroughAgent plays the agent by hand: a pending answer with a retry hint that
// later requests join, an agent that rejects the request, a listing that comes back and
// is then cached, a download relayed in chunks with tickets and a Range, and a restore on
// another host with the same repository.
func TestBrowseThroughAgent(t *testing.T) {
	t.Parallel()
	f := start(t)
	_, _, opTok := f.user("op@example.test", apiclient.UserCreateRoleOperator)
	agent := f.enroll("b-1")
	repo := f.repo(agent.HostID, "main")
	reportSnapshots(t, f, agent, repo.Id.String(), snapA, snapB)
	base := fmt.Sprintf("/hosts/%s/repositories/%s", agent.HostID, repo.Id)
	var cursor pollState

	// Nobody answers yet: 202 with a retry hint; asking again joins the same request.
	st, _, raw, hdr := f.get(opTok, base+"/snapshots/aaaaaaaa/tree?path=/data&wait=0", nil)
	var p1, p2 struct {
		RequestID string `json:"request_id"`
	}
	_ = json.Unmarshal(raw, &p1)
	if st != http.StatusAccepted || hdr.Get("Retry-After") == "" || p1.RequestID == "" {
		t.Fatalf("pending: %d %s", st, raw)
	}
	_, _, raw, _ = f.get(opTok, base+"/snapshots/"+snapA+"/tree?path=/data/&wait=0", nil)
	if _ = json.Unmarshal(raw, &p2); p2.RequestID != p1.RequestID {
		t.Fatalf("a second ask started another request: %s vs %s", p2.RequestID, p1.RequestID)
	}

	// The agent rejects it: the next ask hears why.
	cmd := nextBrowse(t, agent, &cursor)
	if cmd.Browse.RequestID != p1.RequestID || cmd.Browse.Path != "/data" || cmd.Browse.Snapshot != snapA || cmd.Browse.ChunkEntries != store.ChunkEntries {
		t.Fatalf("command %+v", cmd.Browse)
	}
	agent.JSON(t, http.MethodPost, servertest.Path(protocol.PathCommandResult, strconv.FormatInt(cmd.ID, 10)),
		protocol.CommandResult{Status: protocol.CommandRejected, Reason: "unknown command type"}, nil)
	if st, code, raw, _ := f.get(opTok, base+"/snapshots/"+snapA+"/tree?path=/data&wait=5", nil); st != http.StatusBadGateway || code != "agent_rejected" {
		t.Fatalf("rejected: %d %s", st, raw)
	}

	// A listing the agent sends while the operator waits; then the cache answers.
	done := make(chan struct{})
	go func() {
		defer close(done)
		cmd := nextBrowse(t, agent, &cursor)
		id := cmd.Browse.RequestID
		batch := protocol.BrowseDirBatch{Dirs: []protocol.BrowseDirPart{{Path: cmd.Browse.Path, Entries: []protocol.BrowseEntry{
			{Name: "a.txt", Type: "file", Size: 3}, {Name: "sub", Type: "dir"}}, Last: true, Total: 2}}}
		agent.JSON(t, http.MethodPost, servertest.Path(protocol.PathBrowseDirs, id), batch, nil)
		agent.JSON(t, http.MethodPost, servertest.Path(protocol.PathBrowseFinish, id), protocol.BrowseFinish{Status: protocol.BrowseSucceeded, Dirs: 1, Entries: 2}, nil)
	}()
	var page struct {
		Items  []struct{ Name, Path string }
		Total  int64
		Cached bool
	}
	// (The failure above answers /data for a while: ask for another directory.)
	st, _, raw, _ = f.get(opTok, base+"/snapshots/"+snapA+"/tree?path=/srv/./x/&wait=20", nil)
	<-done
	if st != http.StatusOK || json.Unmarshal(raw, &page) != nil || page.Total != 2 || page.Items[1].Path != "/srv/x/sub" || page.Cached {
		t.Fatalf("listing: %d %s", st, raw)
	}
	if st, _, raw, _ := f.get(opTok, base+"/snapshots/"+snapA+"/tree?path=/srv/x&limit=1&wait=0", nil); st != http.StatusOK || json.Unmarshal(raw, &page) != nil || !page.Cached || len(page.Items) != 1 {
		t.Fatalf("cached: %d %s", st, raw)
	}

	// A download: the agent starts it and sends chunks (one retried); the browser reads it
	// with a single-use ticket, and resumes with a new ticket and a Range.
	var created struct {
		Download struct{ ID string }
		Ticket   struct{ URL string }
	}
	st, _, raw = f.raw(nil, http.MethodPost, base+"/snapshots/"+snapB+"/downloads", []byte(`{"path":"/data/a.txt"}`), map[string]string{"Authorization": "Bearer " + opTok})
	if st != http.StatusCreated || json.Unmarshal(raw, &created) != nil {
		t.Fatalf("create download: %d %s", st, raw)
	}
	dl := nextBrowse(t, agent, &cursor)
	if dl.Browse.Kind != protocol.BrowseDump || dl.Browse.MaxBytes <= 0 {
		t.Fatalf("dump command %+v", dl.Browse)
	}
	id := created.Download.ID
	agent.JSON(t, http.MethodPost, servertest.Path(protocol.PathDownloadStart, id), protocol.DownloadStart{Type: "file", Size: 12}, nil)
	if ack := chunk(t, agent, id, 0, "hello "); ack.Offset != 6 || ack.Cancel {
		t.Fatalf("ack %+v", ack)
	}
	if ack := chunk(t, agent, id, 0, "hello "); ack.Offset != 6 {
		t.Fatalf("retried chunk: %+v", ack)
	}
	content := strings.TrimPrefix(created.Ticket.URL, "/api/v1")
	got := make(chan []byte)
	go func() {
		_, _, b, _ := f.get("", content, nil)
		got <- b
	}()
	time.Sleep(200 * time.Millisecond) // the browser reads while the agent still sends
	chunk(t, agent, id, 6, "world!")
	agent.JSON(t, http.MethodPost, servertest.Path(protocol.PathBrowseFinish, id), protocol.BrowseFinish{Status: protocol.BrowseSucceeded, Size: 12, SHA256: "x"}, nil)
	if b := <-got; string(b) != "hello world!" {
		t.Fatalf("content %q", b)
	}
	if st, code, _, _ := f.get("", content, nil); st != http.StatusUnauthorized || code != "ticket_invalid" {
		t.Fatalf("ticket reused: %d %s", st, code)
	}
	var tk struct{ URL string }
	st, _, raw = f.raw(nil, http.MethodPost, "/downloads/"+id+"/tickets", nil, map[string]string{"Authorization": "Bearer " + opTok})
	if st != http.StatusCreated || json.Unmarshal(raw, &tk) != nil {
		t.Fatalf("ticket: %d %s", st, raw)
	}
	st, _, b, h := f.get("", strings.TrimPrefix(tk.URL, "/api/v1"), map[string]string{"Range": "bytes=6-"})
	if st != http.StatusPartialContent || string(b) != "world!" || h.Get("Content-Range") != "bytes 6-11/12" {
		t.Fatalf("range: %d %q %v", st, b, h)
	}
	// Viewers may browse but not download.
	_, viewer, _ := f.user("viewer@example.test", apiclient.UserCreateRoleViewer)
	st, code, _ := f.raw(viewer.hc, http.MethodPost, base+"/snapshots/"+snapB+"/downloads", []byte(`{"path":"/data/a.txt"}`), map[string]string{"X-CSRF-Token": viewer.csrf})
	if st != http.StatusForbidden || code != protocol.CodeForbidden {
		t.Fatalf("viewer download: %d %s", st, code)
	}

	// Restore on another host with the same repository: it must list the snapshot.
	other := f.enroll("b-2")
	otherRepo := f.repo(other.HostID, "same")
	restore := func(snap string) (int, string, []byte) {
		body := fmt.Sprintf(`{"paths":["/data/a.txt"],"target":"/srv/back","target_host_id":"%s","target_repository_id":"%s"}`, other.HostID, otherRepo.Id)
		return f.raw(nil, http.MethodPost, base+"/snapshots/"+snap+"/restore", []byte(body), map[string]string{"Authorization": "Bearer " + opTok})
	}
	if st, code, raw := restore(snapA); st != http.StatusBadRequest || code != protocol.CodeValidation {
		t.Fatalf("restore to a repository without the snapshot: %d %s", st, raw)
	}
	reportSnapshots(t, f, other, otherRepo.Id.String(), snapA)
	st, _, raw = restore(snapA[:8])
	var j struct {
		ID     string `json:"id"`
		HostID string `json:"host_id"`
		Kind   string `json:"kind"`
		Spec   struct {
			Restore protocol.RestoreSpec `json:"restore"`
		} `json:"spec"`
	}
	if st != http.StatusAccepted || json.Unmarshal(raw, &j) != nil || j.HostID != other.HostID || j.Kind != protocol.KindRestore ||
		j.Spec.Restore.Snapshot != snapA || j.Spec.Restore.Target != "/srv/back" {
		t.Fatalf("restore on another host: %d %s", st, raw)
	}
	for _, bad := range []string{`{"target":"relative"}`, `{"paths":["rel"]}`, `{"overwrite":"sometimes"}`} {
		if st, code, raw := f.raw(nil, http.MethodPost, base+"/snapshots/"+snapA+"/restore", []byte(bad), map[string]string{"Authorization": "Bearer " + opTok}); st != http.StatusBadRequest || code != protocol.CodeValidation {
			t.Fatalf("restore %s: %d %s", bad, st, raw)
		}
	}
	// The generic run endpoint does not take restores.
	if st, _, raw := f.raw(nil, http.MethodPost, "/hosts/"+agent.HostID+"/jobs", []byte(`{"kind":"restore","repository_id":"`+repo.Id.String()+`"}`),
		map[string]string{"Authorization": "Bearer " + opTok}); st != http.StatusBadRequest {
		t.Fatalf("restore through /jobs: %d %s", st, raw)
	}
	audit := call(f.admin.GetAuditWithResponse(ctx, &apiclient.GetAuditParams{Action: ptr("snapshot.restore")})).want(t, 200).JSON200
	if len(audit.Items) != 1 || audit.Items[0].TargetId != j.ID {
		t.Fatalf("restore audit: %+v", audit.Items)
	}
}
