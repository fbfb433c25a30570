package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// The browse tests drive the operator API of the real server binary over HTTP, with the
// real agent binary and the real restic (0.14, and 0.18 when RESTIC_018 is set): browse,
// the listing cache, the index and its search, find, diff, restore to a new target and in
// place, and downloads of a 200 MiB file and of a folder, whole and resumed.

// opAPI is an operator API client with an operator API token.
type opAPI struct {
	t     *testing.T
	base  string
	token string
	hc    *http.Client
}

func newOpAPI(t *testing.T, s *setup) *opAPI {
	t.Helper()
	ctx := context.Background()
	u, err := s.op.store.CreateUser(ctx, store.NewUser{Email: "op-" + s.agent.hostID + "@example.test", Name: "op", Role: store.RoleOperator, PasswordHash: "unused"})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.op.store.CreateAPIToken(ctx, store.NewAPIToken{UserID: u.ID, Name: "e2e", Role: store.RoleOperator})
	if err != nil {
		t.Fatal(err)
	}
	return &opAPI{t: t, base: s.server.url() + "/api/v1", token: tok, hc: &http.Client{Timeout: 5 * time.Minute}}
}

func (a *opAPI) do(method, path string, body any, hdr map[string]string) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if !strings.Contains(path, "/content?") {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return a.hc.Do(req)
}

// call makes a request and decodes a JSON answer of status want into out.
func (a *opAPI) call(method, path string, body any, want int, out any) {
	a.t.Helper()
	resp, err := a.do(method, path, body, nil)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		a.t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, raw, want)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			a.t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
}

// await repeats a GET that may answer 202 (the agent is working) until it answers 200.
func (a *opAPI) await(path string, out any) {
	a.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := a.do(http.MethodGet, path, nil, nil)
		if err != nil {
			a.t.Fatalf("GET %s: %v", path, err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK:
			if err := json.Unmarshal(raw, out); err != nil {
				a.t.Fatalf("GET %s: %v in %s", path, err, raw)
			}
			return
		case resp.StatusCode == http.StatusAccepted && time.Now().Before(deadline):
			if resp.Header.Get("Retry-After") == "" {
				a.t.Fatal("202 without Retry-After")
			}
			time.Sleep(500 * time.Millisecond)
		default:
			a.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, raw)
		}
	}
}

type dirEntry struct {
	Name, Path, Type string
	Size             int64
}

type dirPage struct {
	Snapshot, Path string
	Total          int64
	Items          []dirEntry
	NextCursor     string `json:"next_cursor"`
	Cached         bool
	Indexed        bool
}

func (a *opAPI) tree(s *setup, snap, dir string, extra string) dirPage {
	a.t.Helper()
	var pg dirPage
	a.await(fmt.Sprintf("/hosts/%s/repositories/%s/snapshots/%s/tree?wait=30&path=%s%s", s.agent.hostID, s.repo.ID, snap, url.QueryEscape(dir), extra), &pg)
	return pg
}

func names(es []dirEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Name
	}
	return out
}

// browseCommands counts the command.browse rows of a host: each is a question the agent
// had to answer.
func (s *setup) browseCommands(t *testing.T) int {
	t.Helper()
	var n int
	if err := s.op.db.QueryRow(`SELECT count(*) FROM commands WHERE host_id = $1 AND type = $2`, s.agent.hostID, protocol.CommandBrowse).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// backup runs a backup of paths and waits for the snapshot list to hold want snapshots.
func (s *setup) backup(t *testing.T, want int, paths ...string) []store.Snapshot {
	t.Helper()
	j := s.run(t, store.RunRequest{Kind: protocol.KindBackup, Paths: paths})
	if j := s.op.waitJob(t, s.agent.hostID, j.ID, 3*time.Minute); j.Status != protocol.JobSucceeded {
		t.Fatalf("backup: %s %q", j.Status, j.Error)
	}
	var snaps []store.Snapshot
	eventually(t, 60*time.Second, "snapshot report", func() bool {
		snaps, _ = s.op.store.Snapshots(context.Background(), s.agent.hostID, s.repo.ID)
		return len(snaps) >= want
	})
	slices.SortFunc(snaps, func(a, b store.Snapshot) int { return a.Time.Compare(b.Time) })
	return snaps
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// treeSums maps the relative path of every regular file below root to its SHA-256.
func treeSums(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		rel, _ := filepath.Rel(root, p)
		out[rel] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameSums(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d files, want %d\ngot  %v\nwant %v", what, len(got), len(want), got, want)
	}
	for p, sum := range want {
		if got[p] != sum {
			t.Fatalf("%s: %s differs (%q, want %q)", what, p, got[p], sum)
		}
	}
}

// TestBrowseFlow: browse nested directories of a real snapshot, the cache answering a
// second visit without the agent, the index and its search, find, diff, a restore to a
// new target and one in place — for each restic version.
func TestBrowseFlow(t *testing.T) {
	for name, restic := range resticBinaries(t) {
		t.Run("restic-"+name, func(t *testing.T) {
			t.Parallel()
			started := time.Now()
			s := newSetup(t, restic, false)
			t.Logf("setup: %s", time.Since(started).Round(time.Millisecond))
			a := newOpAPI(t, s)
			ctx := context.Background()
			hostID := s.agent.hostID
			root := filepath.Join(t.TempDir(), "tree")
			writeFile(t, filepath.Join(root, "a/b/c/deep.txt"), strings.Repeat("deep ", 4000))
			writeFile(t, filepath.Join(root, "a/b/mid.txt"), "middle")
			writeFile(t, filepath.Join(root, "a/top.txt"), "top")
			writeFile(t, filepath.Join(root, "a/-rf"), "a name like a flag")
			writeFile(t, filepath.Join(root, "other/keep.txt"), "keep")
			first := s.backup(t, 1, root)[0]
			writeFile(t, filepath.Join(root, "a/b/mid.txt"), "middle, changed")
			writeFile(t, filepath.Join(root, "a/new.txt"), "new")
			if err := os.Remove(filepath.Join(root, "a/top.txt")); err != nil {
				t.Fatal(err)
			}
			snaps := s.backup(t, 2, root)
			second := snaps[len(snaps)-1]
			want := treeSums(t, filepath.Join(root, "a"))
			t.Logf("setup and two backups: %s", time.Since(started).Round(time.Millisecond))

			// Browse from the root down to a/b/c, one level at a time, with short ids.
			step := time.Now()
			dir := "/"
			for _, comp := range append(strings.Split(strings.TrimPrefix(root, "/"), "/"), "a", "b", "c") {
				pg := a.tree(s, second.ShortID, dir, "")
				if !slices.Contains(names(pg.Items), comp) || pg.Snapshot != second.SnapshotID {
					t.Fatalf("%s: %v, want %s in it", dir, names(pg.Items), comp)
				}
				dir = filepath.Join(dir, comp)
			}
			pg := a.tree(s, second.SnapshotID, dir, "")
			if !slices.Equal(names(pg.Items), []string{"deep.txt"}) || pg.Items[0].Size != 20000 || pg.Items[0].Path != filepath.Join(root, "a/b/c/deep.txt") {
				t.Fatalf("a/b/c: %+v", pg)
			}
			pg = a.tree(s, second.SnapshotID, filepath.Join(root, "a"), "")
			if !slices.Equal(names(pg.Items), []string{"-rf", "b", "new.txt"}) || pg.Total != 3 {
				t.Fatalf("a: %+v", pg)
			}
			t.Logf("browsed %d levels through the agent: %s", strings.Count(root, "/")+4, time.Since(step).Round(time.Millisecond))

			// A second visit comes from the cache: no new command for the agent; pages.
			before := s.browseCommands(t)
			pg = a.tree(s, second.SnapshotID, filepath.Join(root, "a"), "&limit=2")
			if !pg.Cached || len(pg.Items) != 2 || pg.NextCursor == "" {
				t.Fatalf("cached page: %+v", pg)
			}
			pg = a.tree(s, second.SnapshotID, filepath.Join(root, "a"), "&limit=2&cursor="+pg.NextCursor)
			if !slices.Equal(names(pg.Items), []string{"new.txt"}) || pg.NextCursor != "" {
				t.Fatalf("second page: %+v", pg)
			}
			if after := s.browseCommands(t); after != before {
				t.Fatalf("the cache did not answer: %d browse commands, then %d", before, after)
			}
			// A path that is not there, and a file.
			resp, err := a.do(http.MethodGet, fmt.Sprintf("/hosts/%s/repositories/%s/snapshots/%s/tree?wait=30&path=%s", hostID, s.repo.ID, second.SnapshotID, url.QueryEscape(filepath.Join(root, "nope"))), nil, nil)
			if err != nil || resp.StatusCode != http.StatusNotFound {
				t.Fatalf("missing dir: %v %v", err, resp.Status)
			}
			resp.Body.Close()

			// The index: the whole tree once, then any directory and name search without the agent.
			var idx struct {
				State   string
				Entries int64
			}
			a.call(http.MethodPost, fmt.Sprintf("/hosts/%s/repositories/%s/snapshots/%s/index?wait=30", hostID, s.repo.ID, second.SnapshotID), nil, http.StatusOK, &idx)
			if idx.State != "ready" || idx.Entries < 9 {
				t.Fatalf("index: %+v", idx)
			}
			before = s.browseCommands(t)
			pg = a.tree(s, second.SnapshotID, filepath.Join(root, "other"), "")
			if !pg.Cached || !pg.Indexed || !slices.Equal(names(pg.Items), []string{"keep.txt"}) {
				t.Fatalf("indexed dir: %+v", pg)
			}
			var hits struct{ Items []dirEntry }
			a.call(http.MethodGet, fmt.Sprintf("/hosts/%s/repositories/%s/snapshots/%s/search?q=DEEP", hostID, s.repo.ID, second.SnapshotID), nil, http.StatusOK, &hits)
			if len(hits.Items) != 1 || hits.Items[0].Path != filepath.Join(root, "a/b/c/deep.txt") {
				t.Fatalf("search: %+v", hits)
			}
			a.call(http.MethodGet, fmt.Sprintf("/hosts/%s/repositories/%s/snapshots/%s/search?q=*.txt&path=%s", hostID, s.repo.ID, second.SnapshotID, url.QueryEscape(filepath.Join(root, "a/b"))), nil, http.StatusOK, &hits)
			if len(hits.Items) != 2 {
				t.Fatalf("glob search below a/b: %+v", hits)
			}
			if after := s.browseCommands(t); after != before {
				t.Fatalf("the index did not answer: %d browse commands, then %d", before, after)
			}

			// find, in one snapshot and in all.
			var found struct {
				Items []struct {
					Snapshot string
					Path     string
				}
				Total     int64
				Snapshots int
			}
			a.await(fmt.Sprintf("/hosts/%s/repositories/%s/find?wait=30&pattern=mid.txt&snapshot=%s", hostID, s.repo.ID, first.ShortID), &found)
			if found.Total != 1 || found.Items[0].Path != filepath.Join(root, "a/b/mid.txt") || found.Items[0].Snapshot != first.SnapshotID {
				t.Fatalf("find in the first snapshot: %+v", found)
			}
			a.await(fmt.Sprintf("/hosts/%s/repositories/%s/find?wait=30&pattern=*.txt&pattern=-rf", hostID, s.repo.ID), &found)
			if found.Snapshots != 2 || found.Total != 5+5 {
				t.Fatalf("find in all snapshots: %+v", found)
			}

			// diff: the known changes and restic's totals.
			var diff struct {
				Items []struct{ Path, Modifier string }
				Total int64
				Stats map[string]any
			}
			a.await(fmt.Sprintf("/hosts/%s/repositories/%s/diff?wait=30&from=%s&to=%s", hostID, s.repo.ID, first.SnapshotID, second.SnapshotID), &diff)
			changes := map[string]string{}
			for _, c := range diff.Items {
				changes[c.Path] = c.Modifier
			}
			for p, m := range map[string]string{"a/b/mid.txt": "M", "a/new.txt": "+", "a/top.txt": "-"} {
				if changes[filepath.Join(root, p)] != m {
					t.Errorf("diff %s: %q, want %q (all %v)", p, changes[filepath.Join(root, p)], m, changes)
				}
			}
			if diff.Stats["changed_files"] != float64(1) {
				t.Errorf("diff stats %v", diff.Stats)
			}

			// Restore a folder to a new target: restic recreates the snapshot's path below it.
			step = time.Now()
			target := filepath.Join(t.TempDir(), "restore")
			var job struct{ ID string }
			a.call(http.MethodPost, fmt.Sprintf("/hosts/%s/repositories/%s/snapshots/%s/restore", hostID, s.repo.ID, second.ShortID),
				map[string]any{"paths": []string{filepath.Join(root, "a")}, "target": target}, http.StatusAccepted, &job)
			if j := s.op.waitJob(t, hostID, job.ID, 2*time.Minute); j.Status != protocol.JobSucceeded || j.Kind != protocol.KindRestore {
				t.Fatalf("restore: %s %s %q", j.Kind, j.Status, j.Error)
			}
			sameSums(t, "restore to a new target", treeSums(t, filepath.Join(target, root, "a")), want)
			if _, err := os.Stat(filepath.Join(target, root, "other")); !os.IsNotExist(err) {
				t.Fatalf("the restore wrote more than asked: %v", err)
			}

			// Restore in place: damage the folder, restore it to its original location.
			writeFile(t, filepath.Join(root, "a/b/c/deep.txt"), "damaged")
			if err := os.Remove(filepath.Join(root, "a/b/mid.txt")); err != nil {
				t.Fatal(err)
			}
			a.call(http.MethodPost, fmt.Sprintf("/hosts/%s/repositories/%s/snapshots/%s/restore", hostID, s.repo.ID, second.SnapshotID),
				map[string]any{"paths": []string{filepath.Join(root, "a")}, "overwrite": "always"}, http.StatusAccepted, &job)
			if j := s.op.waitJob(t, hostID, job.ID, 2*time.Minute); j.Status != protocol.JobSucceeded {
				t.Fatalf("restore in place: %s %q", j.Status, j.Error)
			}
			sameSums(t, "restore in place", treeSums(t, filepath.Join(root, "a")), want)
			t.Logf("two restores: %s", time.Since(step).Round(time.Millisecond))

			// Another replica on the same database: a browse asked of it is answered by the
			// agent polling the first one (the command and the answer travel by NOTIFY).
			if name == "system" {
				serverBin, _ := binaries(t)
				b := *a
				b.base = startServer(t, serverBin, s.server.dbURL).url() + "/api/v1"
				step := time.Now()
				pg := b.tree(s, first.SnapshotID, filepath.Join(root, "a/b"), "")
				if pg.Cached || !slices.Equal(names(pg.Items), []string{"c", "mid.txt"}) {
					t.Fatalf("through the other replica: %+v", pg)
				}
				t.Logf("a listing through another replica: %s", time.Since(step).Round(time.Millisecond))
			}

			// Restores are audited.
			audit, _, err := s.op.store.ListAudit(ctx, store.AuditFilter{Action: "snapshot.restore"}, store.PageRequest{})
			if err != nil || len(audit) != 2 {
				t.Fatalf("audit: %d entries, %v", len(audit), err)
			}
			t.Logf("total: %s", time.Since(started).Round(time.Millisecond))
		})
	}
}

// download creates a download and returns its id and first ticket URL.
func (a *opAPI) download(s *setup, snap, p, archive string) (id, ticketURL string) {
	a.t.Helper()
	var out struct {
		Download struct{ ID string }
		Ticket   struct{ URL string }
	}
	a.call(http.MethodPost, fmt.Sprintf("/hosts/%s/repositories/%s/snapshots/%s/downloads", s.agent.hostID, s.repo.ID, snap),
		map[string]string{"path": p, "archive": archive}, http.StatusCreated, &out)
	return out.Download.ID, strings.TrimPrefix(out.Ticket.URL, "/api/v1")
}

func (a *opAPI) ticket(id string) string {
	a.t.Helper()
	var out struct{ URL string }
	a.call(http.MethodPost, "/downloads/"+id+"/tickets", nil, http.StatusCreated, &out)
	return strings.TrimPrefix(out.URL, "/api/v1")
}

// TestDownloads: a 200 MiB file and a folder archive through the server, a ticket that
// works once, and a download whose connection drops midway, resumed with a Range.
func TestDownloads(t *testing.T) {
	t.Parallel()
	started := time.Now()
	s := newSetup(t, resticBinaries(t)["system"], false)
	a := newOpAPI(t, s)
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "dl")
	big := filepath.Join(root, "big.bin")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), rand.Reader, 200<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	bigSum := hex.EncodeToString(h.Sum(nil))
	folder := filepath.Join(root, "folder")
	writeData(t, filepath.Join(folder, "sub"), 5, 300<<10)
	writeFile(t, filepath.Join(folder, "note.txt"), "note")
	snap := s.backup(t, 1, root)[0]
	t.Logf("setup and a 200 MiB backup: %s", time.Since(started).Round(time.Millisecond))

	// The whole file, streamed as it arrives; its checksum matches.
	step := time.Now()
	id, content := a.download(s, snap.SnapshotID, big, "")
	resp, err := a.do(http.MethodGet, content, nil, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("content: %v %v", err, resp)
	}
	if resp.ContentLength != 200<<20 || !strings.Contains(resp.Header.Get("Content-Disposition"), "big.bin") {
		t.Fatalf("headers: %d %v", resp.ContentLength, resp.Header)
	}
	h = sha256.New()
	n, err := io.Copy(h, resp.Body)
	resp.Body.Close()
	if err != nil || n != 200<<20 || hex.EncodeToString(h.Sum(nil)) != bigSum {
		t.Fatalf("downloaded %d bytes (%v), checksum mismatch", n, err)
	}
	var dl struct {
		Status, SHA256 string
		Size           int64
	}
	eventually(t, 30*time.Second, "download finished", func() bool {
		a.call(http.MethodGet, "/downloads/"+id, nil, http.StatusOK, &dl)
		return dl.Status == protocol.BrowseSucceeded
	})
	if dl.SHA256 != bigSum || dl.Size != 200<<20 {
		t.Fatalf("download record: %+v", dl)
	}
	t.Logf("200 MiB file through the server: %s", time.Since(step).Round(time.Millisecond))

	// A ticket works once.
	resp, err = a.do(http.MethodGet, content, nil, nil)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a used ticket: %v %v", err, resp.Status)
	}
	resp.Body.Close()

	// A folder as a tar archive: every file matches.
	_, content = a.download(s, snap.SnapshotID, folder, "tar")
	resp, err = a.do(http.MethodGet, content, nil, nil)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-tar" {
		t.Fatalf("archive: %v %v", err, resp)
	}
	got := map[string]string{}
	tr := tar.NewReader(resp.Body)
	for {
		hd, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if hd.Typeflag != tar.TypeReg {
			continue
		}
		h := sha256.New()
		if _, err := io.Copy(h, tr); err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(strings.TrimPrefix(folder, "/"), hd.Name)
		got[rel] = hex.EncodeToString(h.Sum(nil))
	}
	resp.Body.Close()
	sameSums(t, "folder archive", got, treeSums(t, folder))

	// A download whose connection drops midway resumes with a new ticket and a Range:
	// the whole still matches.
	step = time.Now()
	id, content = a.download(s, snap.SnapshotID, big, "")
	resp, err = a.do(http.MethodGet, content, nil, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("content: %v %v", err, resp)
	}
	var part bytes.Buffer
	if _, err := io.CopyN(&part, resp.Body, 70<<20+12345); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close() // the connection drops
	resp, err = a.do(http.MethodGet, a.ticket(id), nil, map[string]string{"Range": fmt.Sprintf("bytes=%d-", part.Len())})
	if err != nil || resp.StatusCode != http.StatusPartialContent {
		t.Fatalf("resume: %v %v", err, resp)
	}
	if want := fmt.Sprintf("bytes %d-%d/%d", part.Len(), 200<<20-1, 200<<20); resp.Header.Get("Content-Range") != want {
		t.Fatalf("Content-Range %q, want %q", resp.Header.Get("Content-Range"), want)
	}
	h = sha256.New()
	h.Write(part.Bytes())
	n, err = io.Copy(h, resp.Body)
	resp.Body.Close()
	if err != nil || int64(part.Len())+n != 200<<20 || hex.EncodeToString(h.Sum(nil)) != bigSum {
		t.Fatalf("resumed download: %d+%d bytes (%v), checksum mismatch", part.Len(), n, err)
	}
	t.Logf("interrupted and resumed 200 MiB download: %s", time.Since(step).Round(time.Millisecond))

	// The server dies (SIGKILL) midway and comes back: the agent sends its chunk again,
	// the browser resumes from what it has; the whole still matches.
	step = time.Now()
	id, content = a.download(s, snap.SnapshotID, big, "")
	resp, err = a.do(http.MethodGet, content, nil, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("content: %v %v", err, resp)
	}
	part.Reset()
	if _, err := io.CopyN(&part, resp.Body, 30<<20); err != nil {
		t.Fatal(err)
	}
	s.server.kill()
	_, _ = io.Copy(&part, resp.Body) // whatever was in flight, up to the cut
	resp.Body.Close()
	time.Sleep(time.Second)
	s.server.start()
	resp, err = a.do(http.MethodGet, a.ticket(id), nil, map[string]string{"Range": fmt.Sprintf("bytes=%d-", part.Len())})
	if err != nil || resp.StatusCode != http.StatusPartialContent {
		t.Fatalf("resume after the server's death: %v %v", err, resp)
	}
	h = sha256.New()
	h.Write(part.Bytes())
	n, err = io.Copy(h, resp.Body)
	resp.Body.Close()
	if err != nil || int64(part.Len())+n != 200<<20 || hex.EncodeToString(h.Sum(nil)) != bigSum {
		t.Fatalf("download across a server restart: %d+%d bytes (%v), checksum mismatch", part.Len(), n, err)
	}
	eventually(t, 30*time.Second, "download finished", func() bool {
		a.call(http.MethodGet, "/downloads/"+id, nil, http.StatusOK, &dl)
		return dl.Status == protocol.BrowseSucceeded
	})
	if dl.SHA256 != bigSum {
		t.Fatalf("the agent's checksum after the restart: %+v", dl)
	}
	t.Logf("200 MiB download across a server restart: %s", time.Since(step).Round(time.Millisecond))

	audit, _, err := s.op.store.ListAudit(ctx, store.AuditFilter{Action: "snapshot.download"}, store.PageRequest{})
	if err != nil || len(audit) != 4 {
		t.Fatalf("audit: %d download entries, %v", len(audit), err)
	}
	t.Logf("total: %s", time.Since(started).Round(time.Millisecond))
}
